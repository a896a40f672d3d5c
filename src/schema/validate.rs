//! Validation of raw JSON arguments against declared [`Field`]s.
//!
//! Every problem is collected (nothing stops at the first error) and the
//! input is rebuilt with defaults filled in. Rules for `null`:
//! * nullable field: `null` is a value and is kept;
//! * optional (or defaulted) non-nullable property: `null` counts as absent,
//!   so the default is inserted or the key is dropped;
//! * required non-nullable property: `null` gives a `required` error;
//! * array item that is not nullable: `null` gives `invalid_type`.

use serde_json::{Map, Value, json};

use super::error::{FieldError, codes, describe_received, plural};
use super::expected;
use super::field::{Field, Kind};
use super::suggest::did_you_mean;

/// How a path is named in messages (`""` is the arguments object itself).
fn display(path: &str) -> &str {
    if path.is_empty() { "arguments" } else { path }
}

/// Prefixes `a` or `an`: `an integer`, `a string`, `an ISO-4217 code`.
fn a(phrase: &str) -> String {
    let article = if phrase.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
    format!("{article} {phrase}")
}

fn child_path(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_owned() } else { format!("{parent}.{name}") }
}

/// Validates `value` against `field`, pushing errors and returning the
/// normalized value (meaningful only when no errors were pushed).
pub(crate) fn validate_value(field: &Field, value: &Value, path: &str, errors: &mut Vec<FieldError>) -> Value {
    if value.is_null() && field.nullable {
        return Value::Null;
    }
    match (&field.kind, value) {
        (Kind::String, Value::String(s)) => check_string(field, s, path, errors),
        (Kind::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => {
            check_integer(field, value, path, errors);
        }
        (Kind::Decimal(places), Value::Number(n)) => check_decimal(field, *places, n, value, path, errors),
        (Kind::Boolean, Value::Bool(_)) => {}
        (Kind::Enum(values), Value::String(s)) => {
            if !values.contains(s) {
                errors.push(not_allowed(values, s, value, path));
            }
        }
        (Kind::Array(item), Value::Array(items)) => {
            check_item_count(field, items.len(), value, path, errors);
            let normalized = items
                .iter()
                .enumerate()
                .map(|(i, v)| validate_value(item, v, &format!("{path}[{i}]"), errors))
                .collect();
            return Value::Array(normalized);
        }
        (Kind::Object(fields), Value::Object(map)) => {
            return Value::Object(validate_object(fields, map, path, errors));
        }
        (Kind::AnyObject, Value::Object(_)) => {}
        _ => errors.push(invalid_type(field, value, path)),
    }
    value.clone()
}

/// Validates an object's declared fields (in declaration order), then its
/// unknown fields (sorted by name), returning the normalized object.
pub(crate) fn validate_object(
    fields: &[(String, Field)],
    map: &Map<String, Value>,
    path: &str,
    errors: &mut Vec<FieldError>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, field) in fields {
        let field_path = child_path(path, name);
        match map.get(name) {
            Some(v) if !v.is_null() || field.nullable => {
                out.insert(name.clone(), validate_value(field, v, &field_path, errors));
            }
            present => {
                if let Some(default) = &field.default {
                    out.insert(name.clone(), default.clone());
                } else if !field.is_optional() {
                    errors.push(required(field, present, &field_path));
                }
            }
        }
    }
    let mut unknown: Vec<(&String, &Value)> =
        map.iter().filter(|(k, _)| !fields.iter().any(|(n, _)| n == *k)).collect();
    unknown.sort_by(|a, b| a.0.cmp(b.0));
    for (name, value) in unknown {
        errors.push(unknown_field(fields, name, value, &child_path(path, name)));
    }
    out
}

fn check_string(field: &Field, s: &str, path: &str, errors: &mut Vec<FieldError>) {
    let value = Value::String(s.to_owned());
    // The text rule first: a string with a refused character gets that one error, which says
    // exactly where the character is; its length or shape is beside the point.
    if let Some(violation) = field.text.first_violation(s) {
        let exp = field.text.expected();
        let msg = format!(
            "{} contains {} at character {}; it must be {}.",
            display(path),
            violation.describe(),
            violation.position,
            a(exp)
        );
        errors.push(FieldError::new(path, codes::INVALID_CHARACTER, msg, exp).received(&value));
        return;
    }
    let len = s.chars().count();
    let short = field.min_len.is_some_and(|min| len < min);
    let long = field.max_len.is_some_and(|max| len > max);
    if short || long {
        let (code, word) = if short { (codes::TOO_SHORT, "short") } else { (codes::TOO_LONG, "long") };
        let exp = expected::string_length(field);
        let msg = format!("{} is too {word}: it must be {}; got {}.", display(path), a(&exp), plural(len, "character"));
        errors.push(FieldError::new(path, code, msg, exp).received(&value));
    }
    if let Some(p) = &field.pattern
        && !p.regex.is_match(s)
    {
        let exp = format!("string matching {}", p.source);
        let msg = format!("{} must be {}; got {}.", display(path), a(&exp), describe_received(&value));
        errors.push(FieldError::new(path, codes::PATTERN_MISMATCH, msg, exp).received(&value));
    }
    if let Some(format) = field.format
        && !format.is_valid(s)
    {
        let exp = format.expected();
        let msg = format!("{} must be {}; got {}.", display(path), a(exp), describe_received(&value));
        errors.push(FieldError::new(path, codes::INVALID_FORMAT, msg, exp).received(&value));
    }
}

fn check_integer(field: &Field, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    // Integers beyond i64 (large u64) are above any declared maximum.
    let n = value.as_i64();
    let below = field.min.is_some_and(|min| n.is_some_and(|n| n < min));
    let above = field.max.is_some_and(|max| n.is_none_or(|n| n > max));
    if below || above {
        let exp = expected::integer_range(field);
        let msg = format!("{} must be {}; got {value}.", display(path), a(&exp));
        let mut err = FieldError::new(path, codes::OUT_OF_RANGE, msg, exp).received(value);
        err.allowed = expected::range_object(field);
        errors.push(err);
    }
}

fn check_decimal(
    field: &Field,
    places: u32,
    n: &serde_json::Number,
    value: &Value,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let exp = expected::whole(field);
    match super::exact::parse_number(n) {
        Some(d) if d.scale() > places => {
            let msg = format!("{} has more than {places} decimal places; got {value}.", display(path));
            errors.push(FieldError::new(path, codes::OUT_OF_RANGE, msg, exp).received(value));
        }
        Some(d) if field.decimal_bounds.is_none_or(|(min, max)| (min..=max).contains(&d)) => {}
        _ => {
            let msg = format!("{} must be {}; got {value}.", display(path), a(&exp));
            errors.push(FieldError::new(path, codes::OUT_OF_RANGE, msg, exp).received(value));
        }
    }
}

fn check_item_count(field: &Field, len: usize, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let code = if field.min_items.is_some_and(|min| len < min) {
        codes::TOO_FEW_ITEMS
    } else if field.max_items.is_some_and(|max| len > max) {
        codes::TOO_MANY_ITEMS
    } else {
        return;
    };
    let exp = expected::array_items(field);
    let msg = format!("{} must be {}; got {}.", display(path), a(&exp), plural(len, "item"));
    errors.push(FieldError::new(path, code, msg, exp).received(value));
}

fn not_allowed(values: &[String], s: &str, value: &Value, path: &str) -> FieldError {
    let exp = expected::enum_values(values);
    let msg = format!("{} must be {exp}; got {}.", display(path), describe_received(value));
    FieldError::new(path, codes::NOT_ALLOWED, msg, exp)
        .received(value)
        .allowed(json!(values))
        .suggestion(did_you_mean(s, values.iter().map(String::as_str)))
}

fn invalid_type(field: &Field, value: &Value, path: &str) -> FieldError {
    let exp = expected::whole(field);
    let msg = format!("{} must be {}; got {}.", display(path), a(&exp), describe_received(value));
    FieldError::new(path, codes::INVALID_TYPE, msg, exp).received(value)
}

fn required(field: &Field, present: Option<&Value>, path: &str) -> FieldError {
    let exp = expected::whole(field);
    let msg = match present {
        Some(_) => format!("{path} is required and cannot be null; provide {}.", a(&exp)),
        None => format!("{path} is required but missing; provide {}.", a(&exp)),
    };
    let err = FieldError::new(path, codes::REQUIRED, msg, exp);
    match present {
        Some(v) => err.received(v),
        None => err,
    }
}

fn unknown_field(fields: &[(String, Field)], name: &str, value: &Value, path: &str) -> FieldError {
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    let suggestion = did_you_mean(name, names.iter().copied());
    let exp = if names.is_empty() { "no fields".to_owned() } else { format!("only the fields {}", names.join(", ")) };
    let hint = suggestion.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
    let msg = if name.is_empty() {
        // The path of an empty key is its parent's (plus a dot): name the parent instead.
        let parent = display(path.strip_suffix('.').unwrap_or(path));
        format!("{parent} holds an empty key (\"\"), which is not a recognized field; remove it{hint}.")
    } else {
        format!("{path} is not a recognized field; remove it{hint}.")
    };
    FieldError::new(path, codes::UNKNOWN_FIELD, msg, exp).received(value).allowed(json!(names)).suggestion(suggestion)
}
