//! Validation errors reported to the calling agent.

use serde::Serialize;
use serde_json::Value;

/// Maximum number of characters of a received string echoed back.
pub const RECEIVED_MAX_CHARS: usize = 80;

/// The fixed vocabulary of [`FieldError::code`] values.
pub mod codes {
    /// A required field is missing (or `null` while not nullable).
    pub const REQUIRED: &str = "required";
    /// The JSON type is wrong (e.g. a string where an integer is expected).
    pub const INVALID_TYPE: &str = "invalid_type";
    /// A string has fewer characters than `minLength`.
    pub const TOO_SHORT: &str = "too_short";
    /// A string has more characters than `maxLength`.
    pub const TOO_LONG: &str = "too_long";
    /// A string holds a character the text rule refuses (a control character, say).
    pub const INVALID_CHARACTER: &str = "invalid_character";
    /// A string does not match the declared `pattern`.
    pub const PATTERN_MISMATCH: &str = "pattern_mismatch";
    /// A string does not satisfy its `format` (date, email, currency).
    pub const INVALID_FORMAT: &str = "invalid_format";
    /// An integer is outside `minimum..=maximum`.
    pub const OUT_OF_RANGE: &str = "out_of_range";
    /// A value is not one of the enumerated values.
    pub const NOT_ALLOWED: &str = "not_allowed";
    /// An object contains a field that is not declared.
    pub const UNKNOWN_FIELD: &str = "unknown_field";
    /// An array has fewer items than `minItems`.
    pub const TOO_FEW_ITEMS: &str = "too_few_items";
    /// An array has more items than `maxItems`.
    pub const TOO_MANY_ITEMS: &str = "too_many_items";
}

/// One problem found in a tool's arguments.
///
/// Serialized as a JSON object; `None` fields are omitted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// Location such as `line_items[2].amount_cents`; `""` for the root.
    pub path: String,
    /// One of the constants in [`codes`].
    pub code: &'static str,
    /// A single sentence an agent can act on.
    pub message: String,
    /// What would have been accepted, e.g. `string of 1..=64 characters`.
    pub expected: String,
    /// A summary of the received value; `None` when the field was missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<Value>,
    /// Enum values (array) or an integer range (`{"min":…,"max":…}`), or the
    /// declared field names for `unknown_field`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Value>,
    /// A hint such as ``did you mean `customer_id`?``.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl FieldError {
    /// Creates an error with no `received`, `allowed` or `suggestion`.
    pub fn new(path: &str, code: &'static str, message: String, expected: impl Into<String>) -> Self {
        FieldError {
            path: path.to_owned(),
            code,
            message,
            expected: expected.into(),
            received: None,
            allowed: None,
            suggestion: None,
        }
    }

    /// Sets `received` to a [`summarize`]d copy of `value`.
    #[must_use]
    pub fn received(mut self, value: &Value) -> Self {
        self.received = Some(summarize(value));
        self
    }

    /// Sets `allowed`.
    #[must_use]
    pub fn allowed(mut self, allowed: Value) -> Self {
        self.allowed = Some(allowed);
        self
    }

    /// Sets `suggestion`.
    #[must_use]
    pub fn suggestion(mut self, suggestion: Option<String>) -> Self {
        self.suggestion = suggestion;
        self
    }
}

/// Shortens a received value for echoing: long strings are truncated with
/// `…`, containers become a description like `"object with 3 fields"`.
pub fn summarize(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(truncate(s)),
        Value::Array(items) => Value::String(format!("array of {}", plural(items.len(), "item"))),
        Value::Object(map) => Value::String(format!("object with {}", plural(map.len(), "field"))),
        other => other.clone(),
    }
}

/// Describes a received value for use inside a message, e.g.
/// `string "1000"`, `number 10.5`, `array of 3 items`.
pub fn describe_received(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {}", Value::String(truncate(s))),
        Value::Array(_) | Value::Object(_) => match summarize(value) {
            Value::String(s) => s,
            _ => unreachable!("containers summarize to strings"),
        },
    }
}

/// `1 item`, `3 items`.
pub fn plural(n: usize, unit: &str) -> String {
    if n == 1 { format!("{n} {unit}") } else { format!("{n} {unit}s") }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= RECEIVED_MAX_CHARS {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(RECEIVED_MAX_CHARS).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries() {
        assert_eq!(summarize(&json!([1, 2, 3])), json!("array of 3 items"));
        assert_eq!(summarize(&json!({"a": 1})), json!("object with 1 field"));
        assert_eq!(summarize(&json!(-5)), json!(-5));
        let long = "é".repeat(100);
        let got = summarize(&json!(long));
        let s = got.as_str().unwrap();
        assert_eq!(s.chars().count(), RECEIVED_MAX_CHARS + 1);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn none_fields_are_not_serialized() {
        let e = FieldError::new("a", codes::REQUIRED, "a is required.".into(), "string");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v, json!({"path": "a", "code": "required", "message": "a is required.", "expected": "string"}));
    }
}
