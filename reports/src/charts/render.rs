//! Rendering: the [`Figure`] trait (anything drawable as a chart) and the two ways to render
//! one, [`figure_svg`] and [`figure_png`], with the embedded DejaVu font registered once per
//! process so that a chart renders the same on a machine without system fonts.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::error::{DrawError, Drawn, err};
use super::style::{self, Theme};
use crate::error::ReportError;

/// PNGs are drawn at twice the SVG size, sharp enough for print and slides.
pub const PNG_SCALE: f64 = 2.0;

/// Registers the embedded fonts with plotters, once per process.
fn fonts() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<Drawn> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let bad = |_| DrawError::Font;
            plotters::style::register_font(style::FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(bad)?;
            plotters::style::register_font(style::FONT, FontStyle::Bold, dejavu::sans::bold())
                .map_err(bad)
        })
        .clone()
        .map_err(figure_err("(fonts)"))
}

/// Anything drawable as a chart: a name for errors, a size in SVG pixels, and a drawing
/// function over any backend. Run charts, sweep bands, tornadoes and plan frontiers all render
/// through [`figure_svg`] and [`figure_png`].
pub trait Figure {
    fn name(&self) -> &'static str;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Drawn;
}

/// A drawing error of chart `name`.
fn figure_err(name: &'static str) -> impl FnOnce(DrawError) -> ReportError {
    move |error| ReportError::Chart { chart: name, error }
}

/// The figure as an SVG document.
pub fn figure_svg<F: Figure>(f: &F) -> Result<String, ReportError> {
    fonts()?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, f.size()).into_drawing_area();
        f.draw(&root, &Theme { scale: 1.0 })
            .and_then(|()| root.present().map_err(err))
            .map_err(figure_err(f.name()))?;
    }
    Ok(s)
}

/// The figure as PNG bytes, at [`PNG_SCALE`] times the SVG size.
pub fn figure_png<F: Figure>(f: &F) -> Result<Vec<u8>, ReportError> {
    fonts()?;
    let (w, h) = f.size();
    let (w, h) = ((w as f64 * PNG_SCALE) as u32, (h as f64 * PNG_SCALE) as u32);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        f.draw(&root, &Theme { scale: PNG_SCALE })
            .and_then(|()| root.present().map_err(err))
            .map_err(figure_err(f.name()))?;
    }
    let mut out = Vec::new();
    {
        let e = |e: png::EncodingError| figure_err(f.name())(err(e));
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().map_err(e)?;
        wr.write_image_data(&rgb).map_err(e)?;
        wr.finish().map_err(e)?;
    }
    Ok(out)
}

/// Renders `f` as SVG and PNG into `out` (as `charts/<name>.svg` and `.png`) and returns the
/// SVG, for inlining in a page.
pub(crate) fn figure_files<F: Figure>(
    f: &F,
    out: &mut Vec<(String, Vec<u8>)>,
) -> Result<String, ReportError> {
    let svg = figure_svg(f)?;
    out.push((format!("charts/{}.svg", f.name()), svg.clone().into_bytes()));
    out.push((format!("charts/{}.png", f.name()), figure_png(f)?));
    Ok(svg)
}
