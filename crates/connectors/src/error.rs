//! Failures of calls to a target, classified by what should happen next.

/// What a failure means for the job that saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetErrorKind {
    /// The target cannot be reached (connection refused, name or TLS failure, connect timeout):
    /// the whole connection is out; jobs wait for it.
    Unreachable,
    /// The target refuses the connection's credentials: nothing will work until someone fixes
    /// them, so jobs wait as for an outage.
    Unauthorized,
    /// This call failed in a way that may pass (a 5xx, 429, a timeout while answering).
    Transient,
    /// The target refused this change for good (it does not exist, it is malformed, the target
    /// answered something that is not its protocol).
    Permanent,
}

/// A failure in words an administrator can act on; never carries a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TargetError {
    pub kind: TargetErrorKind,
    pub message: String,
}

impl TargetError {
    pub fn new(kind: TargetErrorKind, message: impl Into<String>) -> Self {
        TargetError { kind, message: message.into() }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(TargetErrorKind::Permanent, message)
    }
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(TargetErrorKind::Transient, message)
    }
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(TargetErrorKind::Unreachable, message)
    }
    /// Whether the whole connection is out rather than this one call.
    pub fn is_outage(&self) -> bool {
        matches!(self.kind, TargetErrorKind::Unreachable | TargetErrorKind::Unauthorized)
    }
}
