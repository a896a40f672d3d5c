//! Money is integer minor units of an ISO-4217 currency; no floats anywhere in the path.

use serde::{Deserialize, Serialize};

/// The most one invoice may total, in minor units (10^15: a quadrillion cents), far below
/// i64::MAX so that sums of lines can never overflow.
pub const MAX_TOTAL: i64 = 1_000_000_000_000_000;

/// An ISO-4217 alphabetic currency code, known to the standard.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(code: &str) -> Option<Self> {
        iso_currency::Currency::from_code(code).map(|_| Self(code.to_owned()))
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal point: USD 2, JPY 0, KWD 3.
    pub fn exponent(&self) -> u32 {
        iso_currency::Currency::from_code(&self.0).and_then(|c| c.exponent()).map_or(0, u32::from)
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self("USD".to_owned())
    }
}

impl TryFrom<String> for Currency {
    type Error = String;

    fn try_from(code: String) -> Result<Self, String> {
        Self::parse(&code).ok_or_else(|| format!("{code:?} is not an ISO-4217 currency code"))
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

/// The total of lines `(amount, quantity)`, or `None` past `MAX_TOTAL` or on overflow.
pub fn total_of(lines: impl IntoIterator<Item = (i64, i64)>) -> Option<i64> {
    lines
        .into_iter()
        .try_fold(0i64, |sum, (amount, qty)| amount.checked_mul(qty).and_then(|line| sum.checked_add(line)))
        .filter(|t| (0..=MAX_TOTAL).contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::parse("USD").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        assert!(Currency::parse("XYZ").is_none());
        assert!(Currency::parse("usd").is_none());
    }

    #[test]
    fn totals_are_exact_and_bounded() {
        assert_eq!(total_of([(1000, 1), (250, 3)]), Some(1750));
        assert_eq!(total_of([(MAX_TOTAL, 1), (1, 1)]), None);
        assert_eq!(total_of([(i64::MAX, 2)]), None);
    }
}

/// An amount written out with its currency's minor unit: `1050 USD` → `10.50 USD`,
/// `1500 JPY` → `1500 JPY`, `1500 KWD` → `1.500 KWD`. Integer arithmetic only.
pub fn format(amount: i64, currency: &str) -> String {
    let exponent = Currency::parse(currency).map_or(0, |c| c.exponent());
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs} {currency}");
    }
    let unit = 10u64.pow(exponent);
    format!("{sign}{}.{:0width$} {currency}", abs / unit, abs % unit, width = exponent as usize)
}

#[cfg(test)]
mod format_tests {
    use super::format;

    #[test]
    fn minor_units_by_exponent() {
        assert_eq!(format(1050, "USD"), "10.50 USD");
        assert_eq!(format(5, "EUR"), "0.05 EUR");
        assert_eq!(format(1500, "JPY"), "1500 JPY");
        assert_eq!(format(1500, "KWD"), "1.500 KWD");
        assert_eq!(format(-250, "USD"), "-2.50 USD");
    }
}
