//! OData v4 query options, restricted to the subset Microsoft Graph entitlement-management
//! clients send: `$filter`, `$select`, `$expand`, `$orderby`, `$top`, `$skip`, `$skiptoken`,
//! `$count` and `$search`.
//!
//! The lexer and parsers are hand-written (recursive descent with precedence levels) rather
//! than generated or taken from a crate: the grammar is tiny, hand-written code lets every
//! error say precisely what was wrong and where, the depth and length limits are easy to
//! enforce so that hostile input can never overflow the stack, and no maintained crate covers
//! Graph's particular subset (unquoted GUIDs and date-times, type-cast path segments, lambdas).
//!
//! Everything here is total: any `&str` yields `Ok` or `Err(ODataError)`, never a panic.

pub mod ast;
mod filter;
mod lexer;
mod options;

#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod options_tests;
#[cfg(test)]
mod proptests;

pub use ast::*;
pub use filter::parse_filter;
pub use options::{parse_expand, parse_orderby, parse_select, QueryOptions};

/// The largest accepted `$top`.
pub const MAX_TOP: u32 = 999;

/// The longest accepted `$filter` / `$select` / `$expand` / `$orderby` value, in bytes.
pub(crate) const MAX_INPUT_LEN: usize = 4096;

/// The deepest accepted nesting (parentheses, `not`, function calls, lambdas, nested
/// `$expand`).
pub(crate) const MAX_DEPTH: usize = 32;

/// A query option that could not be parsed. The message is meant for the API caller: it says
/// which option was wrong, what was wrong and, for expressions, at which (0-based character)
/// position, e.g. `$filter: expected ')' but found end of input at position 17`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ODataError {
    pub message: String,
}

impl ODataError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        ODataError { message: message.into() }
    }
}
