//! The OData query-option AST that the parser produces and the store compiles to SQL.
//!
//! Kept deliberately small: exactly the subset Graph entitlement-management clients send
//! (see `shared/reference` §7.2–7.3), so that every accepted expression has a defined meaning.

use chrono::{DateTime, Utc};

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Literal),
    /// A property path such as `displayName`, `accessPackage/id`, or, inside a lambda,
    /// `is/microsoft.graph.domainIdentitySource/domainName` (the range variable is the first
    /// segment; a segment containing a `.` is a type cast).
    Path(Vec<String>),
    Compare {
        op: CompareOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `lhs in ('a', 'b')`
    In {
        lhs: Box<Expr>,
        list: Vec<Literal>,
    },
    Call {
        func: Function,
        args: Vec<Expr>,
    },
    /// `collection/any(v: predicate)`; `all` is parsed the same way with `all = true`.
    /// `any()` without a predicate has `var = None` and `predicate = None`.
    Lambda {
        collection: Vec<String>,
        all: bool,
        var: Option<String>,
        predicate: Option<Box<Expr>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Contains,
    StartsWith,
    EndsWith,
    ToLower,
    ToUpper,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Single-quoted string, with `''` already unescaped.
    String(String),
    /// Integer literal.
    Int(i64),
    Bool(bool),
    Null,
    /// Unquoted GUID literal (`1a2b...`), as some clients send.
    Guid(uuid::Uuid),
    /// Unquoted DateTimeOffset literal (`2026-01-01T00:00:00Z`), normalised to UTC.
    DateTime(DateTime<Utc>),
}

/// One `$orderby` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub path: Vec<String>,
    pub descending: bool,
}

/// One `$expand` item: `roles`, or `resourceRoleScopes($expand=role,scope;$select=id)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpandItem {
    pub path: Vec<String>,
    pub select: Vec<String>,
    pub expand: Vec<ExpandItem>,
}
