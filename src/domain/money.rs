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

/// How documents group digits and mark the decimal point. The tenant chooses (business profile);
/// the default is `1,234.56`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AmountStyle {
    /// `1234.56`: results and anything a program reads.
    Plain,
    /// `1,234.56`
    #[default]
    Comma,
    /// `1.234,56`
    Dot,
    /// `1 234,56` (a narrow no-break space groups)
    Space,
    /// `1'234.56`
    Apostrophe,
}

impl AmountStyle {
    /// The styles a tenant may choose, by the example that names each.
    pub const CHOICES: [(&'static str, Self); 4] =
        [("1,234.56", Self::Comma), ("1.234,56", Self::Dot), ("1 234,56", Self::Space), ("1'234.56", Self::Apostrophe)];

    pub fn parse(example: &str) -> Option<Self> {
        Self::CHOICES.iter().find(|(name, _)| *name == example).map(|(_, s)| *s)
    }

    pub fn name(self) -> &'static str {
        Self::CHOICES.iter().find(|(_, s)| *s == self).map_or("1234.56", |(name, _)| name)
    }

    /// (group separator, decimal mark)
    fn marks(self) -> (&'static str, &'static str) {
        match self {
            Self::Plain => ("", "."),
            Self::Comma => (",", "."),
            Self::Dot => (".", ","),
            Self::Space => ("\u{202f}", ","),
            Self::Apostrophe => ("'", "."),
        }
    }
}

fn write_out(amount: i64, exponent: u32, currency: &str, style: AmountStyle) -> String {
    let (group, mark) = style.marks();
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let unit = 10u64.pow(exponent);
    let whole = (abs / unit).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3 * group.len());
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push_str(group);
        }
        grouped.push(digit);
    }
    if exponent == 0 {
        return format!("{sign}{grouped} {currency}");
    }
    format!("{sign}{grouped}{mark}{:0width$} {currency}", abs % unit, width = exponent as usize)
}

/// An amount of money: minor units of one currency. The domain hands amounts to the documents
/// and the tools as `Money`, and this is the only place an amount is written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// An amount read from a row: its currency code was checked when it was written. A code
    /// the standard no longer lists is kept as it is, written with no minor unit.
    pub fn of(minor: i64, code: &str) -> Self {
        Self { minor, currency: Currency::parse(code).unwrap_or_else(|| Currency(code.to_owned())) }
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> &Currency {
        &self.currency
    }

    /// `10.50 USD`, `1500 JPY`, `1.500 KWD`: as results show it (no grouping, one spelling an agent
    /// can read back).
    pub fn plain(&self) -> String {
        self.written(AmountStyle::Plain)
    }

    /// `1,149.99 USD` (or the tenant's separators), as documents print it.
    pub fn written(&self, style: AmountStyle) -> String {
        write_out(self.minor, self.currency.exponent(), self.currency.code(), style)
    }
}

#[cfg(test)]
mod format_tests {
    use super::Money;

    fn format(minor: i64, code: &str) -> String {
        Money::of(minor, code).plain()
    }

    #[test]
    fn minor_units_by_exponent() {
        assert_eq!(format(1050, "USD"), "10.50 USD");
        assert_eq!(format(5, "EUR"), "0.05 EUR");
        assert_eq!(format(1500, "JPY"), "1500 JPY");
        assert_eq!(format(1500, "KWD"), "1.500 KWD");
        assert_eq!(format(-250, "USD"), "-2.50 USD");
        assert_eq!(format(123_456_789, "USD"), "1234567.89 USD", "results are never grouped");
    }

    #[test]
    fn documents_group_digits_in_the_tenants_style() {
        use super::AmountStyle;
        let format_styled = |minor: i64, code: &str, style: AmountStyle| Money::of(minor, code).written(style);
        assert_eq!(format_styled(114_999, "USD", AmountStyle::default()), "1,149.99 USD");
        assert_eq!(format_styled(123_456_789, "EUR", AmountStyle::Dot), "1.234.567,89 EUR");
        assert_eq!(format_styled(123_456_789, "EUR", AmountStyle::Space), "1\u{202f}234\u{202f}567,89 EUR");
        assert_eq!(format_styled(1_000_000, "JPY", AmountStyle::Apostrophe), "1'000'000 JPY");
        assert_eq!(format_styled(1_234_500, "KWD", AmountStyle::Comma), "1,234.500 KWD");
        assert_eq!(format_styled(-99_999, "USD", AmountStyle::Comma), "-999.99 USD");
        assert_eq!(format_styled(100, "USD", AmountStyle::Comma), "1.00 USD");
        for (name, style) in AmountStyle::CHOICES {
            assert_eq!(AmountStyle::parse(name), Some(style));
            assert_eq!(style.name(), name);
        }
    }
}
