//! Domain failures. Database errors are kept whole; `is_unavailable` tells the retryable ones.

use super::InvoiceStatus;
use super::state::Action;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("idempotency key {key:?} was used with different arguments")]
    IdempotencyConflict { key: String },
    #[error("invalid cursor: {0}")]
    InvalidCursor(&'static str),
    #[error("{message}")]
    OutOfRange { path: String, message: String },
    /// The state machine does not allow `action` from `status`.
    #[error("cannot {action:?} an invoice that is {status:?}")]
    InvalidState { status: InvoiceStatus, action: Action, allowed: Vec<Action>, hint: String },
    /// A business rule refused the request (overpayment, a zero total, …).
    #[error("{message}")]
    Rule { code: &'static str, message: String, details: serde_json::Value },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl DomainError {
    /// True when the database could not be reached or was exhausted, or a transaction lost a
    /// race it may win on retry: the caller should retry later, not fix its request.
    pub fn is_unavailable(&self) -> bool {
        let Self::Db(e) = self else { return false };
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|c| {
                // 08: connection exception; 57P0x: shutdown / cannot connect now;
                // 40001 / 40P01: serialization failure / deadlock; 53: insufficient resources.
                c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") || c == "40001" || c == "40P01"
            }),
            _ => false,
        }
    }
}
