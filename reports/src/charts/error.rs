//! Why a chart could not be drawn: [`DrawError`], and [`Drawn`], the result every drawing
//! function returns. The drawing code does not know which chart it draws; the caller names the
//! chart when it turns a [`DrawError`] into a `ReportError`.

use std::fmt::Display;

/// Why a chart could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DrawError {
    /// An error of the drawing library or of the PNG encoder, as its text (plotters' errors
    /// are generic over the backend, so their text is what the SVG and PNG paths share).
    #[error("{0}")]
    Backend(String),
    /// The embedded DejaVu font could not be registered.
    #[error("the embedded DejaVu font does not load")]
    Font,
}

/// The result of drawing (the caller names the chart).
pub type Drawn<T = ()> = Result<T, DrawError>;

/// An error of the drawing library or the encoder.
pub fn err(e: impl Display) -> DrawError {
    DrawError::Backend(e.to_string())
}
