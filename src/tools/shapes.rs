//! Param shapes several tools share: ids, keys, lines and methods.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use validator::ValidationError;

use super::declare::{Declared, HasShape, Shape, one_of};
use super::validation::rule_broken;
use crate::domain::money;
use crate::domain::payments::PaymentMethod;
use crate::domain::tax::{AdjustmentKind, Discount};
use crate::domain::{InvoiceId, NewAdjustment, NewLine, TaxRateId};
use crate::schema::{Field, Format, array, boolean, decimal, integer, string};

/// An exact decimal in params and results: a JSON number read as written (`1.5` is exactly 1.5,
/// see [`crate::schema::exact`]) and written back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exact(pub Decimal);

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        crate::schema::exact::parse_number(&n)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a decimal number")))
    }
}

impl Serialize for Exact {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::schema::exact::to_json(self.0).serialize(s)
    }
}

impl HasShape for Exact {
    fn shape() -> Shape {
        Shape::Decimal
    }
}

impl HasShape for TaxRateId {
    fn shape() -> Shape {
        Shape::Patterned(TaxRateId::PATTERN)
    }
}

pub fn tax_rate_id() -> Field {
    string()
        .pattern(TaxRateId::PATTERN)
        .describe("A tax rate's id: txr_ followed by 32 hex digits, as list_tax_rates shows.")
}

/// A percentage: 0 to 100, up to four decimal places.
pub fn percent() -> Field {
    decimal(4).between("0", "100")
}

/// The customer key's shape: the business's own id (a CRM id such as `cust_42`).
pub fn customer_id() -> Field {
    string().min_len(1).max_len(64).pattern("^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
}

pub fn invoice_id() -> Field {
    string()
        .pattern(InvoiceId::PATTERN)
        .describe("The invoice's id: inv_ followed by 32 hex digits, as returned by create_invoice or list_invoices.")
}

pub fn idempotency_key() -> Field {
    string()
        .min_len(1)
        .max_len(255)
        .optional()
        .describe("A unique key for this write (a UUID). Resend the same key when retrying the same call: Tally returns the first result instead of writing twice. Reusing a key with different arguments is refused.")
}

pub fn line_items() -> Field {
    array(LineParams::object()).min_items(1).max_items(100)
}

pub fn payment_method() -> Field {
    one_of::<PaymentMethod>()
}

crate::params! {
    /// One line of an invoice (create_invoice, update_draft_invoice).
    #[derive(Serialize)]
    pub struct LineParams {
        description: String = string().min_len(1).max_len(500).describe("What is billed, e.g. \"Widget\" or \"Consulting, March\"."),
        amount_cents: i64 = integer()
            .range(0, 10_000_000_000)
            .describe("Unit price in minor units of the invoice currency (USD cents: 1050 = $10.50); tax included when the invoice's prices include tax."),
        quantity: Exact = decimal(4).between("0.0001", "1000000").default(json!(1)).describe("How many units, up to 4 decimal places (1.5 hours); defaults to 1."),
        unit: Option<String> = string().pattern("^[A-Z0-9]{1,3}$").optional().describe("Unit of quantity, a UN/ECE Rec 20 code: C62 one (default), HUR hour, DAY day, MON month, KGM kilogram, MTR metre, LTR litre."),
        discount_percent: Option<Exact> = percent().optional().describe("A discount on this line, as a percent of quantity × price. Not with discount_cents."),
        discount_cents: Option<i64> = integer().range(0, 10_000_000_000_000).optional().describe("A discount on this line, in minor units. Not with discount_percent."),
        tax_rate_ids: Option<Vec<TaxRateId>> = array(tax_rate_id()).max_items(5).optional().describe("The line's taxes (list_tax_rates): exactly one VAT rate when the business charges VAT; the sales-tax components (state, county, city) when it charges sales tax, none for an untaxed line; none when it charges no tax."),
        period_start: Option<NaiveDate> = string().format(Format::Date).optional().describe("First day of the service period this line bills, YYYY-MM-DD."),
        period_end: Option<NaiveDate> = string().format(Format::Date).optional().describe("Last day of the service period this line bills, YYYY-MM-DD."),
    }
}

impl LineParams {
    pub fn into_line(self) -> NewLine {
        NewLine {
            description: self.description,
            amount_cents: self.amount_cents,
            quantity: self.quantity.0,
            unit: self.unit,
            discount: match (self.discount_percent, self.discount_cents) {
                (Some(p), _) => Some(Discount::Percent(p.0)),
                (None, Some(c)) if c > 0 => Some(Discount::Amount(c)),
                _ => None,
            },
            tax_rate_ids: self.tax_rate_ids.unwrap_or_default(),
            period_start: self.period_start,
            period_end: self.period_end,
        }
    }
}

crate::params! {
    /// A document allowance or charge (create_invoice, update_draft_invoice).
    #[derive(Serialize)]
    pub struct AdjustmentParams {
        reason: String = string().min_len(1).max_len(200).describe("Why, as printed: \"Loyalty discount\", \"Shipping\"."),
        reason_code: Option<String> = string().pattern("^[A-Z0-9]{1,3}$").optional().describe("Optional code: UNTDID 5189 for allowances (95 discount), UNTDID 7161 for charges (FC freight, PC packing)."),
        percent: Option<Exact> = percent().optional().describe("A percent of the lines' total. Give percent or amount_cents."),
        amount_cents: Option<i64> = integer().range(0, 10_000_000_000_000).optional().describe("An amount in minor units. Give percent or amount_cents."),
    }
}

impl AdjustmentParams {
    pub fn into_adjustment(self, kind: AdjustmentKind) -> NewAdjustment {
        let amount = match (self.percent, self.amount_cents) {
            (Some(p), _) => Discount::Percent(p.0),
            (None, c) => Discount::Amount(c.unwrap_or(0)),
        };
        NewAdjustment { kind, reason: self.reason, reason_code: self.reason_code, amount }
    }
}

pub fn adjustments(what: &str) -> Field {
    array(AdjustmentParams::object()).max_items(10).optional().describe(what)
}

pub fn prices_include_tax() -> Field {
    boolean().optional().describe("VAT only: true when the unit prices include VAT (Tally then takes the tax out of each group's gross). Defaults to the business's setting.")
}

/// Cross-field rule: each allowance or charge is a percent or an amount, not both, not neither.
pub fn one_amount_each(adjustments: &Option<Vec<AdjustmentParams>>) -> Result<(), ValidationError> {
    for (i, a) in adjustments.iter().flatten().enumerate() {
        if a.percent.is_some() == a.amount_cents.is_some() {
            return Err(rule_broken(
                "invalid_value",
                format!("item {i} must give exactly one of percent and amount_cents"),
                "percent (e.g. 10) or amount_cents (e.g. 500)".into(),
                None,
            ));
        }
    }
    Ok(())
}

/// Cross-field rule: a line has one kind of discount at most and a period in order, and the lines
/// together do not exceed the largest invoice Tally keeps.
pub fn total_within_limit(lines: &[LineParams]) -> Result<(), ValidationError> {
    for (i, l) in lines.iter().enumerate() {
        if l.discount_percent.is_some() && l.discount_cents.is_some() {
            return Err(rule_broken(
                "invalid_value",
                format!("line_items[{i}] gives both discount_percent and discount_cents; give one"),
                "discount_percent or discount_cents".into(),
                None,
            ));
        }
        if let (Some(start), Some(end)) = (l.period_start, l.period_end)
            && start > end
        {
            return Err(rule_broken(
                "invalid_value",
                format!("line_items[{i}]'s period ends ({end}) before it starts ({start})"),
                "period_start on or before period_end".into(),
                None,
            ));
        }
    }
    let gross = |l: &LineParams| crate::domain::tax::engine::round(Decimal::from(l.amount_cents) * l.quantity.0);
    match lines
        .iter()
        .try_fold(0i64, |sum, l| gross(l).and_then(|g| sum.checked_add(g)))
        .filter(|t| *t <= money::MAX_TOTAL)
    {
        Some(_) => Ok(()),
        None => Err(rule_broken(
            "out_of_range",
            format!(
                "the invoice total (sum of amount_cents × quantity) exceeds the maximum of {} minor units",
                money::MAX_TOTAL
            ),
            format!("a total of at most {} minor units", money::MAX_TOTAL),
            None,
        )),
    }
}
