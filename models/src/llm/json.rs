//! Reading integer fields of a `config.json`, and what goes wrong doing so.

use serde_json::Value;

/// Why a config could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("config is not valid JSON: {0}")]
    Json(String),
    #[error("config field `{0}` is missing")]
    Missing(&'static str),
    #[error("config field `{field}` is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
}

pub(super) fn get_u32(v: &Value, field: &'static str) -> Result<Option<u32>, ModelError> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_u64()
            .filter(|n| *n <= u32::MAX as u64)
            .map(|n| Some(n as u32))
            .ok_or(ModelError::Invalid {
                field,
                reason: format!("expected a non-negative integer, got {x}"),
            }),
    }
}

pub(super) fn need_u32(v: &Value, field: &'static str) -> Result<u32, ModelError> {
    match get_u32(v, field)? {
        Some(0) => Err(ModelError::Invalid {
            field,
            reason: "must be positive".into(),
        }),
        Some(n) => Ok(n),
        None => Err(ModelError::Missing(field)),
    }
}
