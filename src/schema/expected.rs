//! Human-readable phrases describing what a [`Field`] accepts, used for
//! [`FieldError::expected`](super::FieldError::expected) and messages.

use serde_json::{Map, Value, json};

use super::error::plural;
use super::field::{Field, Kind};

/// `1..=64 characters`, `at least 1 item`, `at most 100 characters`, or `None`
/// when unbounded.
pub fn bounds(min: Option<usize>, max: Option<usize>, unit: &str) -> Option<String> {
    match (min, max) {
        (Some(lo), Some(hi)) if lo == hi => Some(plural(lo, unit)),
        (Some(lo), Some(hi)) => Some(format!("{lo}..={hi} {unit}s")),
        (Some(lo), None) => Some(format!("at least {}", plural(lo, unit))),
        (None, Some(hi)) => Some(format!("at most {}", plural(hi, unit))),
        (None, None) => None,
    }
}

/// `string of 1..=64 characters`, or just `string`.
pub fn string_length(field: &Field) -> String {
    match bounds(field.min_len, field.max_len, "character") {
        Some(b) => format!("string of {b}"),
        None => "string".to_owned(),
    }
}

/// `integer between 0 and 100`, `integer ≥ 1`-style phrases.
pub fn integer_range(field: &Field) -> String {
    match (field.min, field.max) {
        (Some(lo), Some(hi)) => format!("integer between {lo} and {hi}"),
        (Some(lo), None) => format!("integer of at least {lo}"),
        (None, Some(hi)) => format!("integer of at most {hi}"),
        (None, None) => "integer".to_owned(),
    }
}

/// The `allowed` range object `{"min":…, "max":…}` of an integer, if bounded.
pub fn range_object(field: &Field) -> Option<Value> {
    let mut range = Map::new();
    if let Some(lo) = field.min {
        range.insert("min".into(), json!(lo));
    }
    if let Some(hi) = field.max {
        range.insert("max".into(), json!(hi));
    }
    (!range.is_empty()).then_some(Value::Object(range))
}

/// `array of 1..=100 items`, or just `array`.
pub fn array_items(field: &Field) -> String {
    match bounds(field.min_items, field.max_items, "item") {
        Some(b) => format!("array of {b}"),
        None => "array".to_owned(),
    }
}

/// `one of "draft", "sent"`.
pub fn enum_values(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    format!("one of {}", quoted.join(", "))
}

/// A complete description of what `field` accepts (used for `required` and
/// `invalid_type` errors).
pub fn whole(field: &Field) -> String {
    let base = match &field.kind {
        Kind::String => match (field.format, &field.pattern) {
            (Some(format), _) if field.min_len.is_none() && field.max_len.is_none() => format.expected().to_owned(),
            (Some(format), _) => format!("{} ({})", string_length(field), format.expected()),
            (None, Some(p)) => format!("{} matching {}", string_length(field), p.source),
            (None, None) => string_length(field),
        },
        Kind::Integer => integer_range(field),
        Kind::Decimal(places) => match field.decimal_bounds {
            Some((min, max)) => format!("number between {min} and {max} with at most {places} decimal places"),
            None => format!("number with at most {places} decimal places"),
        },
        Kind::Boolean => "boolean".to_owned(),
        Kind::Enum(values) => format!("string, {}", enum_values(values)),
        Kind::Array(_) => array_items(field),
        Kind::Object(fields) if fields.is_empty() => "object".to_owned(),
        Kind::AnyObject => "object".to_owned(),
        Kind::Object(fields) => {
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            format!("object with fields {}", names.join(", "))
        }
    };
    if field.nullable { format!("{base}, or null") } else { base }
}

#[cfg(test)]
mod tests {
    use super::super::field::{array, enumeration, integer, object, string};
    use super::super::formats::Format;
    use super::*;

    #[test]
    fn phrases() {
        assert_eq!(whole(&string().min_len(1).max_len(64)), "string of 1..=64 characters");
        assert_eq!(whole(&string().max_len(1)), "string of at most 1 character");
        assert_eq!(
            whole(&string().format(Format::Date)),
            "date in YYYY-MM-DD format between 2000-01-01 and 2099-12-31"
        );
        assert_eq!(whole(&integer().range(0, 5)), "integer between 0 and 5");
        assert_eq!(whole(&integer().min(1).nullable()), "integer of at least 1, or null");
        assert_eq!(whole(&enumeration(&["a", "b"])), "string, one of \"a\", \"b\"");
        assert_eq!(whole(&array(integer()).min_items(1).max_items(100)), "array of 1..=100 items");
        assert_eq!(whole(&object().field("a", integer())), "object with fields a");
        assert_eq!(range_object(&integer().min(1)), Some(json!({"min": 1})));
        assert_eq!(range_object(&integer()), None);
    }
}
