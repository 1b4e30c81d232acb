use thiserror::Error;

/// A rule broken by caller input. Always maps to a 4xx; `target` names the offending property
/// so clients (and admins reading the error) know what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ValidationError {
    pub target: Option<String>,
    pub message: String,
}

impl ValidationError {
    pub fn new(target: impl Into<String>, message: impl Into<String>) -> Self {
        Self { target: Some(target.into()), message: message.into() }
    }

    pub fn general(message: impl Into<String>) -> Self {
        Self { target: None, message: message.into() }
    }
}

/// Shorthand for the common `Err(ValidationError::new(..))`.
pub fn invalid<T>(target: &str, message: impl Into<String>) -> Result<T, ValidationError> {
    Err(ValidationError::new(target, message))
}

/// Trim a required string and refuse it when empty or overlong.
pub fn required_text(target: &str, value: Option<&str>, max: usize) -> Result<String, ValidationError> {
    match value.map(str::trim) {
        None | Some("") => invalid(target, format!("{target} is required")),
        Some(v) => bounded_text(target, v, max).map(str::to_owned),
    }
}

/// Refuse overlong free text.
pub fn bounded_text<'a>(target: &str, value: &'a str, max: usize) -> Result<&'a str, ValidationError> {
    if value.chars().count() > max {
        invalid(target, format!("{target} must be at most {max} characters"))
    } else {
        Ok(value)
    }
}

/// Normalise an optional description: trimmed, empty becomes `None`.
pub fn optional_text(target: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ValidationError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => bounded_text(target, v, max).map(|v| Some(v.to_owned())),
    }
}

pub const NAME_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 1024;
