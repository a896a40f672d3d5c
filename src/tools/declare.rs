//! One declaration per tool's params and per output type: [`params!`](crate::params) and
//! [`output!`](crate::output) write the Rust struct and the schema that validates (params) or
//! publishes (outputs) it from one list of `field: Type = schema-builder expression`. A params
//! struct refuses unknown fields (a renamed field can never be dropped silently), and
//! [`Declared::disagreements`] checks each declared field against its Rust type — JSON type,
//! optionality or nullability, integer range, enumerated values, nested objects — so a test
//! fails at `cargo test` time for any tool whose schema and types could disagree.
//!
//! The check runs in the direction data flows. Params: every value the schema accepts must
//! deserialize (an `Option` exactly when the field may be absent; the type's range holds the
//! declared range; an enum lists exactly the schema's values). Outputs: every value the type
//! holds must be one the schema publishes (an `Option` exactly when the field is nullable; an
//! enum's values may be published as a plain string). What only the data can break (an amount
//! being non-negative, a stored currency matching its format) is checked where the tests call
//! each tool: every `structuredContent` is validated against its `outputSchema`.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::money::Currency;
use crate::domain::payments::PaymentMethod;
use crate::domain::{AuditAction, InvoiceId, InvoiceStatus, PaymentId};
use crate::schema::{Field, Format, Kind, ToolSchema, enumeration, object};

/// Which way a declared type's values flow, for [`Declared::disagreements`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Arguments: the schema accepts, then serde reads the type.
    Params,
    /// Results: the type is written, the schema describes it.
    Output,
}

/// What a Rust type can be deserialized from, as far as a schema is concerned.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Any string (`String`).
    Text,
    /// A string of one format (`NaiveDate`, `Currency`).
    Formatted(Format),
    /// A string matching a pattern (typed ids).
    Patterned(&'static str),
    /// An RFC 3339 timestamp (`DateTime<Utc>`), published as a string.
    Timestamp,
    /// Any JSON object (`serde_json::Value` details).
    AnyObject,
    /// An integer within the type's range.
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    /// An exact decimal number ([`Exact`](super::shapes::Exact)).
    Decimal,
    /// One of these strings (a Rust enum).
    OneOf(Vec<&'static str>),
    Array(Box<Shape>),
    /// An object declared with `params!`.
    Object(fn() -> Vec<(&'static str, Field, Shape)>),
    /// `Option<T>`: the field may be absent.
    Optional(Box<Shape>),
    /// `Patch<T>`: the field may be absent (keep), `null` (clear) or a value (set).
    Patch(Box<Shape>),
}

/// A type a declared field can have.
pub trait HasShape {
    fn shape() -> Shape;
}

impl HasShape for String {
    fn shape() -> Shape {
        Shape::Text
    }
}

impl HasShape for bool {
    fn shape() -> Shape {
        Shape::Boolean
    }
}

macro_rules! integer_shapes {
    ($($t:ty),*) => {$(
        impl HasShape for $t {
            fn shape() -> Shape {
                // Every listed type fits i64; the fallback only guards a future wider type.
                Shape::Integer { min: i64::try_from(<$t>::MIN).unwrap_or(i64::MIN), max: i64::try_from(<$t>::MAX).unwrap_or(i64::MAX) }
            }
        }
    )*};
}
integer_shapes!(i32, i64, u32);

impl HasShape for NaiveDate {
    fn shape() -> Shape {
        Shape::Formatted(Format::Date)
    }
}

impl HasShape for Currency {
    fn shape() -> Shape {
        Shape::Formatted(Format::Currency)
    }
}

impl HasShape for InvoiceId {
    fn shape() -> Shape {
        Shape::Patterned(InvoiceId::PATTERN)
    }
}

impl HasShape for PaymentId {
    fn shape() -> Shape {
        Shape::Patterned(PaymentId::PATTERN)
    }
}

impl HasShape for DateTime<Utc> {
    fn shape() -> Shape {
        Shape::Timestamp
    }
}

impl HasShape for serde_json::Value {
    fn shape() -> Shape {
        Shape::AnyObject
    }
}

impl HasShape for AuditAction {
    fn shape() -> Shape {
        Shape::OneOf(AuditAction::ALL.iter().map(|a| a.as_str()).collect())
    }
}

impl HasShape for InvoiceStatus {
    fn shape() -> Shape {
        Shape::OneOf(InvoiceStatus::ALL.iter().map(|s| s.as_str()).collect())
    }
}

impl HasShape for crate::domain::access::Role {
    fn shape() -> Shape {
        Shape::OneOf(crate::domain::access::Role::ALL.iter().map(|r| r.as_str()).collect())
    }
}

impl HasShape for crate::domain::tax::TaxMode {
    fn shape() -> Shape {
        Shape::OneOf(crate::domain::tax::TaxMode::ALL.iter().map(|m| m.as_str()).collect())
    }
}

impl HasShape for crate::domain::tax::VatCategory {
    fn shape() -> Shape {
        Shape::OneOf(crate::domain::tax::VatCategory::ALL.iter().map(|c| c.code()).collect())
    }
}

impl HasShape for crate::domain::CreditNoteId {
    fn shape() -> Shape {
        Shape::Patterned(crate::domain::CreditNoteId::PATTERN)
    }
}

impl HasShape for crate::domain::RefundId {
    fn shape() -> Shape {
        Shape::Patterned(crate::domain::RefundId::PATTERN)
    }
}

/// The reasons a caller may give (void is void_invoice's own).
impl HasShape for crate::domain::invoices::credit_notes::CreditReason {
    fn shape() -> Shape {
        Shape::OneOf(crate::domain::invoices::credit_notes::CreditReason::GIVEN.iter().map(|r| r.as_str()).collect())
    }
}

impl HasShape for crate::domain::invoices::credit_notes::ExcessTo {
    fn shape() -> Shape {
        Shape::OneOf(crate::domain::invoices::credit_notes::ExcessTo::ALL.iter().map(|r| r.as_str()).collect())
    }
}

impl HasShape for PaymentMethod {
    fn shape() -> Shape {
        Shape::OneOf(PaymentMethod::ALL.iter().map(|m| m.as_str()).collect())
    }
}

impl<T: HasShape> HasShape for Vec<T> {
    fn shape() -> Shape {
        Shape::Array(Box::new(T::shape()))
    }
}

impl<T: HasShape> HasShape for crate::domain::Patch<T> {
    fn shape() -> Shape {
        Shape::Patch(Box::new(T::shape()))
    }
}

impl<T: HasShape> HasShape for Option<T> {
    fn shape() -> Shape {
        Shape::Optional(Box::new(T::shape()))
    }
}

/// The schema field of a Rust enum: its values, declared once in the domain.
/// A short, stable fingerprint of a published schema (the first 16 hex digits of its SHA-256).
pub fn fingerprint(schema: &ToolSchema) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(&schema.json_schema()).expect("a schema serializes");
    Sha256::digest(&bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

pub fn one_of<T: HasShape>() -> Field {
    match T::shape() {
        Shape::OneOf(values) => enumeration(&values),
        other => panic!("one_of() needs an enum, not {other:?}"),
    }
}

/// A struct declared with [`params!`](crate::params) or [`output!`](crate::output).
pub trait Declared {
    /// Params or an output.
    const DIRECTION: Direction;

    /// Each field's name, schema declaration and Rust type, in declaration order.
    fn fields() -> Vec<(&'static str, Field, Shape)>;

    /// The tool's `inputSchema` and validation.
    fn schema() -> ToolSchema {
        Self::fields().into_iter().fold(ToolSchema::new(), |s, (name, field, _)| s.param(name, field))
    }

    /// The struct as an object field (array items, nested params).
    fn object() -> Field {
        Self::fields().into_iter().fold(object(), |o, (name, field, _)| o.field(name, field))
    }

    /// Every way a declared field and its Rust type disagree; empty when they agree.
    fn disagreements() -> Vec<String> {
        let mut out = Vec::new();
        check_fields(&Self::fields(), "", Self::DIRECTION, &mut out);
        out
    }
}

fn check_fields(fields: &[(&'static str, Field, Shape)], prefix: &str, dir: Direction, out: &mut Vec<String>) {
    for (name, field, shape) in fields {
        let path = if prefix.is_empty() { (*name).to_owned() } else { format!("{prefix}.{name}") };
        let (shape, optional_type) = match shape {
            Shape::Optional(inner) => (inner.as_ref(), true),
            Shape::Patch(inner) => {
                if !field.is_nullable() {
                    out.push(format!("{path}: a Patch is cleared by null, but the schema does not allow null"));
                }
                (inner.as_ref(), true)
            }
            other => (other, false),
        };
        match dir {
            Direction::Params => {
                // An Option is absent when the schema lets the field be left out without a
                // default; a plain type must always receive a value: required, or defaulted.
                let may_be_absent = field.is_optional() && field.default_value().is_none();
                if optional_type != may_be_absent {
                    out.push(format!(
                        "{path}: the type is {}Option but the schema {}",
                        if optional_type { "" } else { "not " },
                        if may_be_absent { "lets it be absent" } else { "always supplies it" }
                    ));
                }
            }
            Direction::Output => {
                // Every output field is always written; an Option is written as null.
                if field.is_optional() {
                    out.push(format!("{path}: an output field is always present; it cannot be optional"));
                }
                if optional_type != field.is_nullable() {
                    out.push(format!(
                        "{path}: the type is {}Option but the schema {}",
                        if optional_type { "" } else { "not " },
                        if field.is_nullable() { "allows null" } else { "does not allow null" }
                    ));
                }
            }
        }
        check_value(field, shape, &path, dir, out);
    }
}

fn check_value(field: &Field, shape: &Shape, path: &str, dir: Direction, out: &mut Vec<String>) {
    let mut mismatch = |what: &str| out.push(format!("{path}: {what}"));
    match (field.kind(), shape) {
        (Kind::String, Shape::Text | Shape::Timestamp) => {}
        (Kind::String, Shape::Formatted(format)) if field.format_of() == Some(*format) => {}
        (Kind::String, Shape::Patterned(p)) if field.pattern_source() == Some(*p) => {}
        // An enum always writes one of its values: a plain string describes it.
        (Kind::String, Shape::OneOf(_)) if dir == Direction::Output => {}
        (Kind::AnyObject, Shape::AnyObject) => {}
        // Ranges are the data's business in outputs (see the module docs).
        (Kind::Integer, Shape::Integer { .. }) if dir == Direction::Output => {}
        (Kind::Integer, Shape::Integer { min, max }) => {
            let (lo, hi) = field.integer_bounds();
            if lo.is_none_or(|lo| lo < *min) || hi.is_none_or(|hi| hi > *max) {
                mismatch(&format!("the declared range {lo:?}..={hi:?} does not fit the type's {min}..={max}"));
            }
        }
        (Kind::Boolean, Shape::Boolean) => {}
        (Kind::Decimal(_), Shape::Decimal) => {}
        (Kind::Enum(values), Shape::OneOf(variants)) => {
            if values.iter().map(String::as_str).ne(variants.iter().copied()) {
                mismatch(&format!("the schema allows {values:?} but the type has {variants:?}"));
            }
        }
        (Kind::Array(item), Shape::Array(inner)) => check_value(item, inner, &format!("{path}[]"), dir, out),
        (Kind::Object(declared), Shape::Object(fields)) => {
            let fields = fields();
            let names: Vec<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
            if names.iter().ne(fields.iter().map(|(n, _, _)| n)) {
                mismatch(&format!(
                    "the object declares {names:?}, the type {:?}",
                    fields.iter().map(|f| f.0).collect::<Vec<_>>()
                ));
            }
            check_fields(&fields, path, dir, out);
        }
        (kind, shape) => mismatch(&format!("declared as {kind:?} but the type reads {shape:?}")),
    }
}

/// Declares a tool's params once: the struct (deserialized after the schema accepted the
/// arguments, unknown fields refused) and its [`Declared`] schema. Field attributes such as
/// `#[validate(...)]` pass through.
///
/// ```ignore
/// params! {
///     pub struct GetInvoiceParams {
///         invoice_id: InvoiceId = shapes::invoice_id(),
///     }
/// }
/// ```
#[macro_export]
macro_rules! params {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fattr:meta])*
                $field:ident : $ty:ty = $decl:expr
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, serde::Deserialize, validator::Validate)]
        #[serde(deny_unknown_fields)]
        $vis struct $name {
            $( $(#[$fattr])* pub $field: $ty, )*
        }

        impl $crate::tools::declare::Declared for $name {
            const DIRECTION: $crate::tools::declare::Direction = $crate::tools::declare::Direction::Params;

            fn fields() -> Vec<(&'static str, $crate::schema::Field, $crate::tools::declare::Shape)> {
                vec![$((
                    stringify!($field),
                    $decl,
                    <$ty as $crate::tools::declare::HasShape>::shape(),
                )),*]
            }
        }

        impl $crate::tools::declare::HasShape for $name {
            fn shape() -> $crate::tools::declare::Shape {
                $crate::tools::declare::Shape::Object(<$name as $crate::tools::declare::Declared>::fields)
            }
        }
    };
}

/// Declares an output type once: the struct a tool returns (serialized in declaration order)
/// and the `outputSchema` that publishes it. An `Option` field is written as null; a leading
/// `..name: Type;` flattens another output's fields into this one.
///
/// ```ignore
/// output! {
///     pub struct Receipt {
///         payment_id: PaymentId = string().pattern(PaymentId::PATTERN).describe("…"),
///     }
/// }
/// ```
#[macro_export]
macro_rules! output {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $( .. $flat:ident : $fty:ty ; )?
            $(
                $(#[$fattr:meta])*
                $field:ident : $ty:ty = $decl:expr
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, serde::Serialize)]
        $vis struct $name {
            $( #[serde(flatten)] pub $flat: $fty, )?
            $( $(#[$fattr])* pub $field: $ty, )*
        }

        impl $crate::tools::declare::Declared for $name {
            const DIRECTION: $crate::tools::declare::Direction = $crate::tools::declare::Direction::Output;

            fn fields() -> Vec<(&'static str, $crate::schema::Field, $crate::tools::declare::Shape)> {
                #[allow(unused_mut)]
                let mut fields = Vec::new();
                $( fields.extend(<$fty as $crate::tools::declare::Declared>::fields()); )?
                fields.extend([$((
                    stringify!($field),
                    $decl,
                    <$ty as $crate::tools::declare::HasShape>::shape(),
                )),*]);
                fields
            }
        }

        impl $crate::tools::declare::HasShape for $name {
            fn shape() -> $crate::tools::declare::Shape {
                $crate::tools::declare::Shape::Object(<$name as $crate::tools::declare::Declared>::fields)
            }
        }

        impl $crate::tools::Output for $name {
            fn schema() -> $crate::schema::ToolSchema {
                <$name as $crate::tools::declare::Declared>::schema()
            }

            fn disagreements() -> Vec<String> {
                <$name as $crate::tools::declare::Declared>::disagreements()
            }

            fn shape() -> &'static str {
                static SHAPE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                SHAPE.get_or_init(|| $crate::tools::declare::fingerprint(&<$name as $crate::tools::Output>::schema()))
            }

            fn into_json(self) -> serde_json::Result<String> {
                serde_json::to_string(&self)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{integer, string};

    crate::params! {
        #[allow(dead_code)]
        struct Sample {
            name: String = string().describe("n"),
            limit: u32 = integer().range(1, 100).default(serde_json::json!(20)).describe("l"),
            day: Option<NaiveDate> = string().format(Format::Date).optional().describe("d"),
        }
    }

    crate::params! {
        #[allow(dead_code)]
        struct Drifted {
            name: Option<String> = string().describe("required in the schema, optional in the type"),
            limit: u32 = integer().range(-1, 100).describe("a range the type cannot hold"),
            method: PaymentMethod = enumeration(&["card", "cash"]).describe("fewer values than the enum"),
            day: NaiveDate = string().describe("a plain string where a date is read"),
        }
    }

    #[test]
    fn agreeing_declarations_have_no_disagreements() {
        assert_eq!(Sample::disagreements(), Vec::<String>::new());
        let s = Sample::schema();
        let v = s.validate(&serde_json::json!({"name": "x", "unknown": 1}));
        assert_eq!(v.unwrap_err()[0].code, "unknown_field");
    }

    #[test]
    fn every_kind_of_drift_is_reported() {
        let found = Drifted::disagreements();
        assert_eq!(found.len(), 4, "{found:#?}");
        for field in ["name", "limit", "method", "day"] {
            assert!(found.iter().any(|d| d.starts_with(field)), "{field}: {found:#?}");
        }
    }

    #[test]
    fn the_struct_refuses_unknown_fields() {
        let err = serde_json::from_value::<Sample>(serde_json::json!({"name": "x", "limit": 1, "extra": 1}));
        assert!(err.is_err());
    }
}
