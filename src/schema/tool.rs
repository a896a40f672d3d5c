//! [`ToolSchema`]: a tool's declared parameters (or output), published as
//! JSON Schema and used to validate and normalize arguments.

use serde_json::{Map, Value, json};

use super::error::{FieldError, codes, describe_received};
use super::field::{Field, Kind, object};
use super::publish::{DIALECT, Side, object_keywords};
use super::validate::validate_object;

/// The top-level object schema of one tool's input (or output).
#[derive(Debug, Clone)]
pub struct ToolSchema {
    root: Field,
}

impl Default for ToolSchema {
    fn default() -> Self {
        Self::new()
    }
}

impl ToolSchema {
    /// An object schema with no parameters.
    pub fn new() -> Self {
        ToolSchema { root: object() }
    }

    /// Adds a top-level parameter. Panics on a duplicate name or a default
    /// that violates the field's own rules.
    #[must_use]
    pub fn param(mut self, name: &str, field: Field) -> Self {
        self.root = self.root.field(name, field);
        self
    }

    /// The declared parameters, in declaration order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &Field)> {
        self.fields().iter().map(|(n, f)| (n.as_str(), f))
    }

    fn fields(&self) -> &[(String, Field)] {
        match &self.root.kind {
            Kind::Object(fields) => fields,
            _ => unreachable!("the root is always an object"),
        }
    }

    /// The JSON Schema 2020-12 document published as `inputSchema`, with `$schema` at the
    /// root only; every free-text string carries the text rule as its `pattern`.
    pub fn json_schema(&self) -> Value {
        self.publish(Side::Input)
    }

    /// The document published as `outputSchema`: as [`json_schema`](Self::json_schema), but
    /// without the text rule's patterns (the strings are Tally's own).
    pub fn output_json_schema(&self) -> Value {
        self.publish(Side::Output)
    }

    fn publish(&self, side: Side) -> Value {
        let mut s = Map::new();
        s.insert("$schema".into(), json!(DIALECT));
        s.insert("type".into(), json!("object"));
        object_keywords(self.fields(), &mut s, side);
        Value::Object(s)
    }

    /// Validates raw tool arguments, collecting every error. A missing
    /// (`null`) arguments value is treated as `{}`. On success returns the
    /// arguments with defaults filled in, ready to deserialize.
    pub fn validate(&self, args: &Value) -> Result<Value, Vec<FieldError>> {
        let empty = Map::new();
        let map = match args {
            Value::Null => &empty,
            Value::Object(map) => map,
            other => {
                let msg = format!("arguments must be a JSON object; got {}.", describe_received(other));
                let err = FieldError::new("", codes::INVALID_TYPE, msg, "object").received(other);
                return Err(vec![err]);
            }
        };
        let mut errors = Vec::new();
        let normalized = validate_object(self.fields(), map, "", &mut errors);
        if errors.is_empty() { Ok(Value::Object(normalized)) } else { Err(errors) }
    }

    /// Paths of declared fields lacking a description (array items are
    /// exempt; their own fields are reported as `list[].field`).
    pub fn undocumented_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_undocumented(self.fields(), "", &mut out);
        out
    }
}

fn collect_undocumented(fields: &[(String, Field)], prefix: &str, out: &mut Vec<String>) {
    for (name, field) in fields {
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        if field.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
            out.push(path.clone());
        }
        let mut inner = field;
        let mut inner_path = path;
        while let Kind::Array(item) = &inner.kind {
            inner = item;
            inner_path.push_str("[]");
        }
        if let Kind::Object(children) = &inner.kind {
            collect_undocumented(children, &inner_path, out);
        }
    }
}
