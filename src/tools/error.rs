//! What a tool call can end in besides success, and how domain failures become errors an agent
//! can act on.

use serde::Serialize;
use serde_json::Value;

use crate::domain::DomainError;
use crate::schema::FieldError;

/// A failure the agent can fix: it travels as a tool result with `isError: true`.
#[derive(Debug, Clone, Serialize)]
pub struct ToolError {
    /// Stable, machine-readable: `invalid_params`, `not_found`, `idempotency_conflict`, …
    pub code: &'static str,
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
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
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
    pub fn invalid_params(errors: Vec<FieldError>) -> Self {
        let summary = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
        let n = errors.len();
        let mut err = Self::new(
            "invalid_params",
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
                "not_found",
                format!("No {entity} with id {id} exists. Check the id (list_invoices shows existing ones)."),
            )
            .received(id)
            .into(),
            DomainError::IdempotencyConflict { key } => ToolError::new(
                "idempotency_conflict",
                format!(
                    "idempotency_key {key:?} was already used with different arguments. Use a new key for a new \
                     request, or resend exactly the original arguments to get the original result."
                ),
            )
            .at("idempotency_key")
            .received(key)
            .into(),
            DomainError::InvalidCursor(why) => ToolError::new(
                "invalid_cursor",
                format!("The cursor is not valid here ({why}). Pass back next_cursor exactly as returned, with the same filters, or omit cursor to start from the newest."),
            )
            .at("cursor")
            .expected("a next_cursor value from a previous list call with the same filters")
            .into(),
            DomainError::OutOfRange { path, message } => ToolError::new("out_of_range", message).at(path).into(),
            DomainError::InvalidState { status, action, allowed, hint } => {
                let allowed: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
                let mut err = ToolError::new(
                    "invalid_state",
                    format!("{} is not possible: the invoice is {}. {hint}", action.name(), status.as_str()),
                );
                err.details = Some(serde_json::json!({ "current_status": status, "allowed_actions": allowed }));
                err.into()
            }
            DomainError::Rule { code, message, details } => {
                let mut err = ToolError::new(code, message);
                err.details = Some(details);
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
