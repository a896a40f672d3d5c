//! Domain failures. Database errors are kept whole; `is_unavailable` tells the retryable ones.

use super::InvoiceStatus;
use super::state::Action;

/// What a domain failure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Invoice,
    Customer,
    BusinessProfile,
    TaxRate,
    CreditNote,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Customer => "customer",
            Self::BusinessProfile => "business_profile",
            Self::TaxRate => "tax_rate",
            Self::CreditNote => "credit_note",
        }
    }
}

/// Typed facts about why the domain refused; the layer above words them for its callers.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{} {id} not found", entity.as_str())]
    NotFound { entity: Entity, id: String },
    #[error("idempotency key {key:?} was used with different arguments")]
    IdempotencyConflict { key: String },
    #[error("invalid cursor: {0}")]
    InvalidCursor(&'static str),
    /// The lines add up to more than [`MAX_TOTAL`](super::money::MAX_TOTAL).
    #[error("the invoice total exceeds the maximum")]
    TotalTooLarge,
    /// The state machine does not allow `action` from `status`.
    #[error("cannot {action:?} an invoice that is {status:?}")]
    InvalidState { status: InvoiceStatus, action: Action, allowed: Vec<Action>, hint: String },
    /// A payment larger than what is due.
    #[error("a payment of {amount_cents} exceeds the {due_cents} due")]
    Overpayment { amount_cents: i64, due_cents: i64, currency: String },
    /// Sending an invoice that totals zero.
    #[error("an invoice totalling zero cannot be sent")]
    ZeroTotal,
    /// A key's write took effect, but its stored result no longer decodes (an older Tally).
    #[error("the stored result of idempotency key {key:?} no longer decodes")]
    StoredResultUnreadable { key: String },
    /// An argument the schema cannot judge was refused (a logo that is no image, a statement
    /// period too long to print).
    #[error("{field}: {message}")]
    InvalidInput { field: &'static str, message: String, expected: String },
    /// An argument refused where the path is only known at run time (`line_items[2].tax_rate_ids`).
    #[error("{path}: {message}")]
    Refused { path: String, message: String, expected: String },
    /// An invoice breaks a rule of EN 16931 (or one of Tally's own) before it is issued.
    #[error("{rule} at {path}: {message}")]
    RuleBroken { rule: &'static str, path: String, message: String, expected: String },
    /// Tally's own figures disagree, or a document failed to typeset: a bug, never the caller's.
    #[error("internal inconsistency: {0}")]
    Inconsistent(&'static str),
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
