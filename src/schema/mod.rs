//! Declarative parameter schemas for MCP tools.
//!
//! One declaration built with [`ToolSchema`] and the field constructors
//! ([`string`], [`integer`], [`boolean`], [`enumeration`], [`array()`],
//! [`object`]) serves three purposes:
//!
//! 1. [`ToolSchema::json_schema`] publishes a JSON Schema 2020-12
//!    `inputSchema`/`outputSchema` for `tools/list`;
//! 2. [`ToolSchema::validate`] checks raw arguments before any handler runs,
//!    collecting **all** [`FieldError`]s with paths such as
//!    `line_items[2].amount_cents`, and returns the arguments with defaults
//!    filled in;
//! 3. the caller deserializes that normalized value into a typed struct.
//!
//! ```
//! use serde_json::json;
//! use tally::schema::{ToolSchema, integer, string};
//!
//! let s = ToolSchema::new()
//!     .param("customer_id", string().min_len(1).describe("Customer key"))
//!     .param("limit", integer().range(1, 100).default(json!(20)).describe("Page size"));
//! assert_eq!(s.validate(&json!({"customer_id": "c1"})).unwrap()["limit"], 20);
//! assert_eq!(s.validate(&json!({})).unwrap_err()[0].code, "required");
//! ```

mod error;
pub mod exact;
mod expected;
mod field;
pub mod formats;
mod modifiers;
mod publish;
mod suggest;
pub mod text;
mod tool;
mod validate;

#[cfg(test)]
mod tests;

pub use error::{FieldError, RECEIVED_MAX_CHARS, codes, summarize};
pub use field::{Field, Kind, Pattern, any_object, array, boolean, decimal, enumeration, integer, object, string};
pub use formats::{Format, currency_exponent};
pub use publish::DIALECT;
pub use suggest::closest;
pub use text::TextRule;
pub use tool::ToolSchema;
