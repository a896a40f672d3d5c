//! `validator`'s errors (cross-field and domain rules on typed params) in the same shape as the
//! schema builder's, so that an agent reads one kind of error.

use std::borrow::Cow;

use serde_json::Value;
use validator::{ValidationError, ValidationErrors, ValidationErrorsKind};

use crate::schema::FieldError;

/// A cross-field or domain rule broken, in the shape `validator_errors` reads back: the code,
/// a sentence for the agent, what was expected and, when useful, what was received.
pub fn rule_broken(code: &'static str, message: String, expected: String, received: Option<Value>) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(message.into());
    e.add_param("expected".into(), &expected);
    if let Some(value) = received {
        e.add_param("value".into(), &value);
    }
    e
}

pub fn validator_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => out.extend(list.iter().map(|e| {
                let message =
                    e.message.as_ref().map_or_else(|| format!("{path} is invalid ({})", e.code), Cow::to_string);
                FieldError {
                    path: path.clone(),
                    code: if e.code == "out_of_range" { "out_of_range" } else { "invalid_value" },
                    message,
                    expected: e.params.get("expected").and_then(Value::as_str).unwrap_or("a valid value").to_owned(),
                    received: e.params.get("value").cloned(),
                    allowed: e.params.get("allowed").cloned(),
                    suggestion: None,
                }
            })),
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}
