//! String formats understood by the schema builder.
//!
//! Each [`Format`] has two faces: the annotation published in the JSON Schema
//! (`"format"`, and for dates and currencies also a `"pattern"`) and the strict check
//! performed by [`ToolSchema::validate`](super::ToolSchema::validate).
//!
//! What is plausible, decided once here:
//! * **Dates** are real calendar days from [`FIRST_DATE`] to [`LAST_DATE`] (2000-01-01 to
//!   2099-12-31): the window a business's receivables live in. Older records are past any
//!   retention period a tax authority sets; a due date in the 22nd century is a typo. The
//!   window is fixed, not relative to today, so a recorded session replays the same way next
//!   year. (`apply_payment` adds its own rule: no `paid_at` in the future.)
//! * **Currencies** are the ISO-4217 codes money is invoiced in: every active code with a
//!   minor unit, except the fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW: units of
//!   account, not tender), the codes ISO marks superseded (HRK, SLL, VES, ZWL, CUC) and the
//!   special X codes (XAU, XAG, XPD, XPT metals, XDR, XSU, XUA units of account, XBA–XBD bond
//!   units, XTS for testing, XXX "no currency"). The CFA francs XAF and XOF, the CFP franc
//!   XPF and the East Caribbean dollar XCD are real money and accepted.

use chrono::NaiveDate;
use iso_currency::{Currency, Flag};
use validator::ValidateEmail;

/// JSON Schema `format` name used for ISO-4217 currency codes.
///
/// It is not a standard format, so other validators treat it as an annotation
/// unless they register it (the property tests do, using `iso_currency`).
pub const CURRENCY_FORMAT: &str = "iso-4217";

/// Pattern published alongside [`CURRENCY_FORMAT`].
pub const CURRENCY_PATTERN: &str = "^[A-Z]{3}$";

/// Pattern published alongside `"format": "date"`: the shape and the years of the window.
pub const DATE_PATTERN: &str = "^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// The first date any date field accepts.
pub const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a real date");

/// The last date any date field accepts.
pub const LAST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2099, 12, 31).expect("a real date");

/// A semantic string format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A real calendar date written exactly as `YYYY-MM-DD`.
    Date,
    /// An e-mail address (checked with `validator`'s `ValidateEmail`).
    Email,
    /// An ISO-4217 alphabetic currency code such as `USD`.
    Currency,
}

impl Format {
    /// The value published as `"format"` in the JSON Schema.
    pub fn schema_name(self) -> &'static str {
        match self {
            Format::Date => "date",
            Format::Email => "email",
            Format::Currency => CURRENCY_FORMAT,
        }
    }

    /// Human-readable description used in error `expected` fields.
    pub fn expected(self) -> &'static str {
        match self {
            Format::Date => "date in YYYY-MM-DD format between 2000-01-01 and 2099-12-31",
            Format::Email => "e-mail address such as name@example.com",
            Format::Currency => "ISO-4217 code of a currency money is invoiced in, 3 uppercase letters, e.g. USD",
        }
    }

    /// The `pattern` this format publishes in place of the text rule's (its values are ASCII
    /// shapes, so the text rule holds for them).
    pub fn implied_pattern(self) -> Option<&'static str> {
        match self {
            Format::Date => Some(DATE_PATTERN),
            Format::Currency => Some(CURRENCY_PATTERN),
            Format::Email => None,
        }
    }

    /// Returns `true` when `value` satisfies this format.
    pub fn is_valid(self, value: &str) -> bool {
        match self {
            Format::Date => is_valid_date(value),
            Format::Email => value.validate_email(),
            Format::Currency => is_valid_currency(value),
        }
    }
}

/// Strict `YYYY-MM-DD` check: exactly ten ASCII characters, digits with
/// dashes at positions 4 and 7, and a date that exists in the calendar.
pub fn is_valid_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    shape_ok && NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok_and(|d| (FIRST_DATE..=LAST_DATE).contains(&d))
}

/// Three uppercase ASCII letters naming a currency money is invoiced in (see the module docs).
pub fn is_valid_currency(value: &str) -> bool {
    value.len() == 3
        && value.bytes().all(|b| b.is_ascii_uppercase())
        && Currency::from_code(value).is_some_and(is_tender)
}

/// Real money: has a minor unit, is no fund, special unit or superseded code.
fn is_tender(c: Currency) -> bool {
    c.exponent().is_some() && !c.flags().iter().any(|f| matches!(f, Flag::Fund | Flag::Special | Flag::Superseded(_)))
}

/// Number of minor-unit digits of an ISO-4217 currency (USD → 2, JPY → 0,
/// KWD → 3). `None` for unknown codes and for codes without minor units
/// (e.g. precious metals such as `XAU`).
pub fn currency_exponent(code: &str) -> Option<u32> {
    Currency::from_code(code)?.exponent().map(u32::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        assert!(is_valid_date("2024-02-29"));
        assert!(is_valid_date("2023-12-31"));
        assert!(is_valid_date("2000-01-01"));
        assert!(is_valid_date("2099-12-31"));
        for bad in [
            "2023-02-29",
            "2023-02-30",
            "2023-13-01",
            "2023-1-01",
            "2023/01/01",
            "+2023-01-01",
            "20230101",
            "2023-01-01T00:00:00Z",
            " 2023-01-01",
            "",
            "1999-12-31",
            "2100-01-01",
            "0000-01-01",
            "9999-12-31",
        ] {
            assert!(!is_valid_date(bad), "{bad} should be rejected");
        }
    }

    #[test]
    fn currencies_must_be_known_uppercase_codes() {
        assert!(is_valid_currency("USD"));
        assert!(is_valid_currency("EUR"));
        for good in ["JPY", "KWD", "XAF", "XOF", "XPF", "XCD", "CHF"] {
            assert!(is_valid_currency(good), "{good} is money");
        }
        for bad in ["usd", "Usd", "XYZ", "US", "USDD", "", "ÄÖÜ", "XXX", "XTS", "XAU", "XDR", "BOV", "CLF", "HRK"] {
            assert!(!is_valid_currency(bad), "{bad} should be rejected");
        }
    }

    #[test]
    fn exponents() {
        assert_eq!(currency_exponent("USD"), Some(2));
        assert_eq!(currency_exponent("JPY"), Some(0));
        assert_eq!(currency_exponent("KWD"), Some(3));
        assert_eq!(currency_exponent("XYZ"), None);
        assert_eq!(currency_exponent("usd"), None);
    }

    #[test]
    fn emails() {
        assert!(Format::Email.is_valid("ada@example.com"));
        for bad in ["ada", "ada@", "@example.com", "a b@example.com", ""] {
            assert!(!Format::Email.is_valid(bad), "{bad} should be rejected");
        }
    }
}
