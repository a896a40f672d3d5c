//! What a tool call can end in besides success, and how domain failures become errors an agent
//! can act on.

use serde::Serialize;
use serde_json::Value;

use serde_json::json;

use crate::domain::DomainError;
use crate::domain::money::{self, Money};
use crate::schema::FieldError;

/// The one vocabulary of tool error codes: stable strings an agent (and a dashboard) can key
/// on. The README's table of codes lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The arguments broke the schema or a validator rule; `errors` has every problem.
    InvalidParams,
    NotFound,
    IdempotencyConflict,
    InvalidCursor,
    OutOfRange,
    /// The state machine does not allow the move; `details.allowed_actions` says what does.
    InvalidState,
    Overpayment,
    ZeroTotal,
    IdempotencyResultUnavailable,
    /// The invoice breaks a rule it must keep to be issued (EN 16931's, by id in `rule`).
    RuleBroken,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidParams => "invalid_params",
            Self::NotFound => "not_found",
            Self::IdempotencyConflict => "idempotency_conflict",
            Self::InvalidCursor => "invalid_cursor",
            Self::OutOfRange => "out_of_range",
            Self::InvalidState => "invalid_state",
            Self::Overpayment => "overpayment",
            Self::ZeroTotal => "zero_total",
            Self::IdempotencyResultUnavailable => "idempotency_result_unavailable",
            Self::RuleBroken => "rule_broken",
        }
    }
}

/// A failure the agent can fix: it travels as a tool result with `isError: true`.
#[derive(Debug, Clone, Serialize)]
pub struct ToolError {
    pub code: Code,
    /// With `rule_broken`: the rule's id (`BR-AE-02`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Value>,
    /// Every problem with the arguments, when there were several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Facts that help the agent decide what to do next (current status, amount due, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ToolError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            rule: None,
            message: message.into(),
            path: None,
            expected: None,
            received: None,
            allowed: None,
            errors: vec![],
            details: None,
        }
    }

    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn received(mut self, received: impl Into<Value>) -> Self {
        self.received = Some(received.into());
        self
    }

    /// The arguments broke the declared schema or a validator rule: all problems at once.
    /// One field refused by a rule the schema cannot state (a cross-field rule, a file's content).
    pub fn invalid_field(path: &str, message: String, expected: &str) -> Self {
        Self::invalid_params(vec![FieldError {
            path: path.to_owned(),
            code: "invalid_value",
            message,
            expected: expected.to_owned(),
            received: None,
            allowed: None,
            suggestion: None,
        }])
    }

    pub fn invalid_params(errors: Vec<FieldError>) -> Self {
        let summary = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
        let n = errors.len();
        let mut err = Self::new(
            Code::InvalidParams,
            format!("{n} problem{} with the arguments: {summary}", if n == 1 { "" } else { "s" }),
        );
        if let [only] = errors.as_slice() {
            err.path = Some(only.path.clone());
            err.expected = Some(only.expected.clone());
            err.received = only.received.clone();
            err.allowed = only.allowed.clone();
        }
        err.errors = errors;
        err
    }
}

/// Why a tool call produced no result.
#[derive(Debug)]
pub enum ToolFailure {
    /// The agent can fix it: an `isError` result.
    Rejected(Box<ToolError>),
    /// The database is unreachable or exhausted: a retryable protocol error.
    Unavailable,
    /// A bug or an unexpected database error: logged, and a protocol error without details.
    Internal,
}

impl From<ToolError> for ToolFailure {
    fn from(e: ToolError) -> Self {
        Self::Rejected(Box::new(e))
    }
}

impl From<DomainError> for ToolFailure {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound { entity, id } => ToolError::new(
                Code::NotFound,
                format!(
                    "No {} with id {id} exists. Check the id (list_invoices shows existing ones).",
                    entity.as_str()
                ),
            )
            .received(id)
            .into(),
            DomainError::IdempotencyConflict { key } => ToolError::new(
                Code::IdempotencyConflict,
                format!(
                    "idempotency_key {key:?} was already used with different arguments. Use a new key for a new \
                     request, or resend exactly the original arguments to get the original result."
                ),
            )
            .at("idempotency_key")
            .received(key)
            .into(),
            DomainError::InvalidCursor(why) => ToolError::new(
                Code::InvalidCursor,
                format!("The cursor is not valid here ({why}). Pass back next_cursor exactly as returned, with the same filters, or omit cursor to start from the newest."),
            )
            .at("cursor")
            .expected("a next_cursor value from a previous list call with the same filters")
            .into(),
            DomainError::TotalTooLarge => ToolError::new(
                Code::OutOfRange,
                format!("The invoice total exceeds the maximum of {} minor units", money::MAX_TOTAL),
            )
            .at("line_items")
            .into(),
            DomainError::InvalidState { status, action, allowed, hint } => {
                let allowed: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
                let mut err = ToolError::new(
                    Code::InvalidState,
                    format!("{} is not possible: the invoice is {}. {hint}", action.name(), status.as_str()),
                );
                err.details = Some(serde_json::json!({ "current_status": status, "allowed_actions": allowed }));
                err.into()
            }
            DomainError::Overpayment { amount_cents, due_cents, currency } => {
                let message = format!(
                    "The payment of {} is more than the {} due on this invoice. Apply at most amount_due_cents={due_cents}; or, if the money did arrive, keep what is over as the customer's credit with excess_to_credit: true.",
                    Money::of(amount_cents, &currency).plain(),
                    Money::of(due_cents, &currency).plain()
                );
                let mut err = ToolError::new(Code::Overpayment, message);
                err.details =
                    Some(json!({ "amount_due_cents": due_cents, "currency": currency, "received": amount_cents }));
                err.into()
            }
            DomainError::ZeroTotal => {
                let mut err = ToolError::new(
                    Code::ZeroTotal,
                    "An invoice totalling zero cannot be sent. Add priced lines with update_draft_invoice, or void the draft.",
                );
                err.details = Some(json!({ "total_cents": 0 }));
                err.into()
            }
            DomainError::StoredResultUnreadable { key } => {
                let message = format!(
                    "idempotency_key {key:?} was already used for this call, and it took effect, but its stored result \
                     predates a Tally upgrade and cannot be returned. Read the current state instead (get_invoice, \
                     list_invoices, get_customer), or use a new key for a new write."
                );
                let mut err = ToolError::new(Code::IdempotencyResultUnavailable, message);
                err.details = Some(json!({ "idempotency_key": key }));
                err.into()
            }
            DomainError::InvalidInput { field, message, expected } => {
                ToolError::invalid_field(field, message, &expected).into()
            }
            DomainError::Refused { path, message, expected } => ToolError::invalid_field(&path, message, &expected).into(),
            DomainError::RuleBroken { rule, path, message, expected } => {
                let mut err = ToolError::new(Code::RuleBroken, format!("{rule}: {message}")).at(path).expected(expected);
                err.rule = Some(rule);
                err.into()
            }
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable
            }
            e => {
                tracing::error!(error = %e, "tool failed");
                Self::Internal
            }
        }
    }
}
