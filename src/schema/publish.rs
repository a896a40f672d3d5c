//! Rendering declared [`Field`]s as JSON Schema 2020-12.
//!
//! The published schema agrees with [`validate`](super::ToolSchema::validate):
//! optional and nullable properties list `"null"` among their types (an
//! explicit `null` for an optional field is accepted as "absent"), every
//! object has `"additionalProperties": false`, and formats publish the
//! annotations described in [`Format`](super::Format).

use serde_json::{Map, Value, json};

use super::field::{Field, Kind};
use super::formats::Format;

/// Dialect URI placed at the root of published schemas.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Which side of a tool a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// `inputSchema`: what an agent may send, the text rule included.
    Input,
    /// `outputSchema`: what Tally answers. Strings there are Tally's own (timestamps, stored
    /// text that passed the rule on the way in), so the text rule's pattern is left out.
    Output,
}

/// The schema of `field`. `as_property` is true for object members, whose
/// optionality also makes `null` acceptable.
pub(crate) fn field_schema(field: &Field, as_property: bool, side: Side) -> Value {
    let mut s = Map::new();
    let accepts_null = field.nullable || (as_property && field.is_optional());
    let type_name = match &field.kind {
        Kind::String | Kind::Enum(_) => "string",
        Kind::Integer => "integer",
        Kind::Decimal(_) => "number",
        Kind::Boolean => "boolean",
        Kind::Array(_) => "array",
        Kind::Object(_) | Kind::AnyObject => "object",
    };
    let ty = if accepts_null { json!([type_name, "null"]) } else { json!(type_name) };
    s.insert("type".into(), ty);
    if let Some(d) = &field.description {
        s.insert("description".into(), json!(d));
    }
    match &field.kind {
        Kind::String => string_keywords(field, &mut s, side),
        Kind::Integer => {
            insert_opt(&mut s, "minimum", field.min);
            insert_opt(&mut s, "maximum", field.max);
        }
        Kind::Decimal(_) => {
            if let Some((min, max)) = field.decimal_bounds {
                s.insert("minimum".into(), super::exact::to_json(min));
                s.insert("maximum".into(), super::exact::to_json(max));
            }
        }
        Kind::Boolean => {}
        Kind::Enum(values) => {
            let mut allowed: Vec<Value> = values.iter().map(|v| json!(v)).collect();
            if accepts_null {
                allowed.push(Value::Null);
            }
            s.insert("enum".into(), Value::Array(allowed));
        }
        Kind::Array(item) => {
            s.insert("items".into(), field_schema(item, false, side));
            insert_opt(&mut s, "minItems", field.min_items);
            insert_opt(&mut s, "maxItems", field.max_items);
        }
        Kind::Object(fields) => object_keywords(fields, &mut s, side),
        Kind::AnyObject => {}
    }
    if let Some(default) = &field.default {
        s.insert("default".into(), default.clone());
    }
    Value::Object(s)
}

/// Adds `properties`, `required` and `additionalProperties: false`.
pub(crate) fn object_keywords(fields: &[(String, Field)], s: &mut Map<String, Value>, side: Side) {
    let properties: Map<String, Value> =
        fields.iter().map(|(name, f)| (name.clone(), field_schema(f, true, side))).collect();
    s.insert("properties".into(), Value::Object(properties));
    let required: Vec<Value> = fields.iter().filter(|(_, f)| !f.is_optional()).map(|(name, _)| json!(name)).collect();
    if !required.is_empty() {
        s.insert("required".into(), Value::Array(required));
    }
    s.insert("additionalProperties".into(), json!(false));
}

fn string_keywords(field: &Field, s: &mut Map<String, Value>, side: Side) {
    insert_opt(s, "minLength", field.min_len);
    insert_opt(s, "maxLength", field.max_len);
    // One pattern per string: its own (proven to obey the text rule when declared), the one
    // its format implies (ASCII shapes), or else the text rule itself.
    let pattern = match (&field.pattern, field.format.and_then(Format::implied_pattern)) {
        (Some(p), _) => Some(p.source),
        (None, Some(implied)) => Some(implied),
        (None, None) => (side == Side::Input).then(|| field.text.pattern()),
    };
    if let Some(pattern) = pattern {
        s.insert("pattern".into(), json!(pattern));
    }
    if let Some(format) = field.format {
        s.insert("format".into(), json!(format.schema_name()));
    }
}

fn insert_opt<T: Into<Value>>(s: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        s.insert(key.into(), v.into());
    }
}

#[cfg(test)]
mod tests {
    use super::super::field::{array, boolean, enumeration, integer, object, string};
    use super::*;

    #[test]
    fn optional_and_nullable_types() {
        let f = string().optional().describe("d");
        assert_eq!(field_schema(&f, true, Side::Input)["type"], json!(["string", "null"]));
        assert_eq!(field_schema(&f, false, Side::Input)["type"], json!("string"));
        let f = integer().nullable().describe("d");
        assert_eq!(field_schema(&f, false, Side::Input)["type"], json!(["integer", "null"]));
        let f = boolean().describe("d");
        assert_eq!(field_schema(&f, true, Side::Input)["type"], json!("boolean"));
    }

    #[test]
    fn optional_enum_allows_null_value() {
        let f = enumeration(&["a", "b"]).optional().describe("d");
        let s = field_schema(&f, true, Side::Input);
        assert_eq!(s["enum"], json!(["a", "b", null]));
    }

    #[test]
    fn currency_publishes_pattern_and_format() {
        let f = string().format(Format::Currency).default(json!("USD")).describe("d");
        let s = field_schema(&f, true, Side::Input);
        assert_eq!(s["pattern"], json!(super::super::formats::CURRENCY_PATTERN));
        assert_eq!(s["format"], json!("iso-4217"));
        assert_eq!(s["default"], json!("USD"));
    }

    #[test]
    fn nested_array_of_objects() {
        let f = array(object().field("n", integer().range(1, 5).describe("n")))
            .min_items(1)
            .max_items(3)
            .nullable()
            .describe("list");
        let s = field_schema(&f, false, Side::Input);
        assert_eq!(
            s,
            json!({
                "type": ["array", "null"], "description": "list", "minItems": 1, "maxItems": 3,
                "items": {
                    "type": "object", "additionalProperties": false, "required": ["n"],
                    "properties": {"n": {"type": "integer", "description": "n", "minimum": 1, "maximum": 5}}
                }
            })
        );
    }
}
