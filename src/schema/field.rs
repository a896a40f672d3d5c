//! [`Field`]: one declared value (a parameter, an object field or an array
//! item) and the builder functions that create and refine it.
//!
//! Declarations are static, so builder misuse (e.g. `.min_len()` on an
//! integer, an invalid regex) panics immediately with an explanatory message;
//! a unit test that builds each tool's schema catches it.

use regex::Regex;
use serde_json::Value;

use super::formats::Format;
use super::text::TextRule;

/// The JSON type of a [`Field`] and its type-specific children.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A JSON string.
    String,
    /// An integral JSON number.
    Integer,
    /// A JSON number with at most this many decimal places, read exactly (never as a float).
    Decimal(u32),
    /// `true` or `false`.
    Boolean,
    /// A string restricted to a fixed set of values.
    Enum(Vec<String>),
    /// An array whose items all match the boxed field.
    Array(Box<Field>),
    /// An object with declared fields, in declaration order.
    Object(Vec<(String, Field)>),
    /// Any JSON object, its members undeclared: free-form details in an output.
    AnyObject,
}

/// A compiled `pattern`, remembering its source for publication.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as written (published verbatim).
    pub source: &'static str,
    /// The compiled regex used by validation.
    pub regex: Regex,
}

/// A declared value with its constraints. Build one with [`string`],
/// [`integer`], [`boolean`], [`enumeration`], [`array()`] or [`object`].
#[derive(Debug, Clone)]
pub struct Field {
    pub(crate) kind: Kind,
    pub(crate) description: Option<String>,
    pub(crate) optional: bool,
    pub(crate) default: Option<Value>,
    pub(crate) nullable: bool,
    pub(crate) min_len: Option<usize>,
    pub(crate) max_len: Option<usize>,
    pub(crate) pattern: Option<Pattern>,
    pub(crate) format: Option<Format>,
    /// The text rule of a string (see [`super::text`]); every string has one.
    pub(crate) text: TextRule,
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
    /// The inclusive bounds of a decimal.
    pub(crate) decimal_bounds: Option<(rust_decimal::Decimal, rust_decimal::Decimal)>,
    pub(crate) min_items: Option<usize>,
    pub(crate) max_items: Option<usize>,
}

fn new_field(kind: Kind) -> Field {
    Field {
        kind,
        description: None,
        optional: false,
        default: None,
        nullable: false,
        min_len: None,
        max_len: None,
        pattern: None,
        format: None,
        text: TextRule::Line,
        min: None,
        max: None,
        decimal_bounds: None,
        min_items: None,
        max_items: None,
    }
}

/// A string field: one line of text (see [`super::text`]) unless made
/// [`multiline`](Field::multiline).
pub fn string() -> Field {
    new_field(Kind::String)
}

/// An integer field (integral JSON numbers only; `10.0` is rejected).
pub fn integer() -> Field {
    new_field(Kind::Integer)
}

/// A decimal number with at most `places` decimal places, between inclusive bounds
/// ([`Field::between`]). Its digits are read as written: `1.1` is exactly 1.1.
pub fn decimal(places: u32) -> Field {
    new_field(Kind::Decimal(places))
}

/// A boolean field.
pub fn boolean() -> Field {
    new_field(Kind::Boolean)
}

/// A string field restricted to `values`.
pub fn enumeration(values: &[&str]) -> Field {
    assert!(!values.is_empty(), "enumeration() needs at least one value");
    new_field(Kind::Enum(values.iter().map(|v| (*v).to_owned()).collect()))
}

/// An array whose items all match `item` (the item needs no description).
pub fn array(item: Field) -> Field {
    new_field(Kind::Array(Box::new(item)))
}

/// An object; add fields with [`Field::field`]. Unknown fields are rejected.
pub fn object() -> Field {
    new_field(Kind::Object(Vec::new()))
}

/// Any JSON object (free-form members). Meant for outputs such as an event's details; inputs
/// should declare their fields with [`object`].
pub fn any_object() -> Field {
    new_field(Kind::AnyObject)
}

impl Field {
    /// The field's type and children.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The description, if set.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Whether the field may be omitted (also true when it has a default).
    pub fn is_optional(&self) -> bool {
        self.optional || self.default.is_some()
    }

    /// The default inserted when the field is absent.
    pub fn default_value(&self) -> Option<&Value> {
        self.default.as_ref()
    }

    /// The declared format of a string.
    pub fn format_of(&self) -> Option<Format> {
        self.format
    }

    /// The declared pattern of a string, as written.
    pub fn pattern_source(&self) -> Option<&'static str> {
        self.pattern.as_ref().map(|p| p.source)
    }

    /// The declared inclusive bounds of an integer.
    pub fn integer_bounds(&self) -> (Option<i64>, Option<i64>) {
        (self.min, self.max)
    }

    /// Whether `null` is a legitimate value (kept as `null`).
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
}
