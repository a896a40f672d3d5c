//! Constraint modifiers on [`Field`] (builder style, consuming `self`).
//!
//! Modifiers that only make sense for one type panic when applied to another
//! (declarations are static, so a schema-building test catches misuse).

use regex::Regex;
use serde_json::Value;

use super::field::{Field, Kind, Pattern};
use super::formats::Format;
use super::text::{TextRule, pattern_is_single_line_text};
use super::validate::validate_value;

impl Field {
    /// Sets the description (required for every property; see
    /// [`ToolSchema::undocumented_fields`](super::ToolSchema::undocumented_fields)).
    #[must_use]
    pub fn describe(mut self, text: &str) -> Self {
        self.description = Some(text.to_owned());
        self
    }

    /// Makes the field optional. An explicit `null` for an optional,
    /// non-nullable field is treated as if the field were absent, and the
    /// published schema therefore lists `"null"` among its types.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Sets a default inserted by validation when the field is absent (or
    /// `null` and not nullable). Implies [`optional`](Self::optional).
    #[must_use]
    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }

    /// Accepts `null` as a value in its own right (published as e.g.
    /// `"type": ["string", "null"]`); mostly for output schemas.
    #[must_use]
    pub fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// The inclusive bounds of a [`decimal`](super::decimal), written as decimals (`"0.0001"`).
    #[must_use]
    pub fn between(mut self, min: &str, max: &str) -> Self {
        assert!(matches!(self.kind, Kind::Decimal(_)), ".between() is only valid on decimal()");
        let parse = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap_or_else(|_| panic!("{s:?} is not a decimal"));
        self.decimal_bounds = Some((parse(min), parse(max)));
        self
    }

    /// Minimum string length in Unicode characters.
    #[must_use]
    pub fn min_len(mut self, n: usize) -> Self {
        self.expect_string("min_len");
        self.min_len = Some(n);
        self
    }

    /// Maximum string length in Unicode characters.
    #[must_use]
    pub fn max_len(mut self, n: usize) -> Self {
        self.expect_string("max_len");
        self.max_len = Some(n);
        self
    }

    /// A regex the string must match; valid in both Rust `regex` and
    /// ECMA-262 (keep to simple classes) and anchored with `^…$`.
    /// Compiled once here; panics if invalid.
    #[must_use]
    pub fn pattern(mut self, source: &'static str) -> Self {
        self.expect_string("pattern");
        assert!(self.format != Some(Format::Currency), "Format::Currency already implies a pattern");
        let regex = Regex::new(source).unwrap_or_else(|e| panic!("invalid pattern {source}: {e}"));
        assert!(self.text == TextRule::Line, "a multiline() field cannot also have a pattern");
        assert!(
            pattern_is_single_line_text(source),
            "pattern {source} admits characters the text rule refuses (controls, separators, bidi overrides); \
             narrow its classes"
        );
        self.pattern = Some(Pattern { source, regex });
        self
    }

    /// Accepts several lines: tab, line feed and CR LF besides single-line text (for memos
    /// and notes). Published as [`LINES_PATTERN`](super::text::LINES_PATTERN).
    #[must_use]
    pub fn multiline(mut self) -> Self {
        self.expect_string("multiline");
        assert!(self.pattern.is_none() && self.format.is_none(), "multiline() text takes no pattern or format");
        self.text = TextRule::Lines;
        self
    }

    /// A semantic format (date, email, currency).
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.expect_string("format");
        assert!(!(format == Format::Currency && self.pattern.is_some()), "Format::Currency already implies a pattern");
        self.format = Some(format);
        self
    }

    /// Inclusive minimum of an integer.
    #[must_use]
    pub fn min(mut self, n: i64) -> Self {
        self.expect_integer("min");
        self.min = Some(n);
        self
    }

    /// Inclusive maximum of an integer.
    #[must_use]
    pub fn max(mut self, n: i64) -> Self {
        self.expect_integer("max");
        self.max = Some(n);
        self
    }

    /// Inclusive range of an integer: `.min(lo).max(hi)`.
    #[must_use]
    pub fn range(self, lo: i64, hi: i64) -> Self {
        assert!(lo <= hi, "range({lo}, {hi}) is empty");
        self.min(lo).max(hi)
    }

    /// Minimum number of array items.
    #[must_use]
    pub fn min_items(mut self, n: usize) -> Self {
        self.expect_array("min_items");
        self.min_items = Some(n);
        self
    }

    /// Maximum number of array items.
    #[must_use]
    pub fn max_items(mut self, n: usize) -> Self {
        self.expect_array("max_items");
        self.max_items = Some(n);
        self
    }

    /// Adds a field to an object. Panics on a non-object, a duplicate name
    /// or a default that fails the field's own rules.
    #[must_use]
    pub fn field(mut self, name: &str, field: Field) -> Self {
        field.check_default(name);
        let Kind::Object(fields) = &mut self.kind else {
            panic!(".field(\"{name}\") is only valid on object()");
        };
        assert!(fields.iter().all(|(n, _)| n != name), "field `{name}` declared twice");
        fields.push((name.to_owned(), field));
        self
    }

    /// Panics when the declared default does not satisfy the field itself.
    pub(crate) fn check_default(&self, name: &str) {
        if let Some(default) = &self.default {
            let mut errors = Vec::new();
            validate_value(self, default, name, &mut errors);
            assert!(errors.is_empty(), "invalid default for `{name}`: {errors:?}");
        }
    }

    fn expect_string(&self, what: &str) {
        assert!(matches!(self.kind, Kind::String), ".{what}() is only valid on string()");
    }

    fn expect_integer(&self, what: &str) {
        assert!(matches!(self.kind, Kind::Integer), ".{what}() is only valid on integer()");
    }

    fn expect_array(&self, what: &str) {
        assert!(matches!(self.kind, Kind::Array(_)), ".{what}() is only valid on array()");
    }
}
