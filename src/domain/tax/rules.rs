//! The EN 16931 rules Tally checks itself before an invoice takes a number: the parties' VAT ids
//! the categories require, exemption reasons, one category per line, the total identities and the
//! two-decimal limit. A broken rule is refused with its id (as the CEN schematron names it), the
//! path of what to change and how.

use super::engine::Calculation;
use super::vat_id::{self, VatIdError};
use super::{AppliedRate, RateRule, TaxMode, VatCategory};

/// A rule an invoice breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBroken {
    /// The rule's id: EN 16931's (`BR-AE-02`), or Tally's own for what the standard states
    /// only as a format (`TALLY-VATID`).
    pub rule: &'static str,
    /// Where to fix it: `business_profile.tax_id`, `customer.tax_id`, `line_items[2].tax_rate_ids`.
    pub path: String,
    pub message: String,
    /// What would satisfy the rule.
    pub expected: String,
}

fn broken(rule: &'static str, path: impl Into<String>, message: String, expected: impl Into<String>) -> RuleBroken {
    RuleBroken { rule, path: path.into(), message, expected: expected.into() }
}

/// What the rules look at.
pub struct Facts<'a> {
    pub mode: TaxMode,
    pub calculation: &'a Calculation,
    /// Each line's rates, in line order.
    pub line_rates: Vec<&'a [AppliedRate]>,
    /// The currency's minor-unit digits (USD 2, JPY 0, KWD 3).
    pub exponent: u32,
    pub seller_vat_id: Option<&'a str>,
    pub buyer_vat_id: Option<&'a str>,
    /// A delivery date or an invoicing period is given (BT-72, BG-14).
    pub has_supply_date: bool,
}

/// Every rule, in a fixed order; the first broken one.
pub fn check(f: &Facts<'_>) -> Result<(), RuleBroken> {
    if let Err(rule) = f.calculation.identities(f.mode) {
        return Err(broken(
            rule,
            "line_items",
            format!("The invoice's totals break {rule}: this is a fault in Tally, not in the invoice."),
            "totals that add up",
        ));
    }
    decimals(f)?;
    if f.mode != TaxMode::Vat {
        return Ok(());
    }
    let mut categories: Vec<VatCategory> = Vec::new();
    for (i, rates) in f.line_rates.iter().enumerate() {
        let path = format!("line_items[{i}].tax_rate_ids");
        let [rate] = rates else {
            return Err(broken(
                "BR-CO-04",
                path,
                format!("Line {} carries {} VAT rates; a VAT invoice line carries exactly one.", i + 1, rates.len()),
                "exactly one VAT rate per line",
            ));
        };
        let Some(category) = rate.category else {
            return Err(broken(
                "BR-CO-04",
                path,
                format!("Line {}'s rate {:?} has no VAT category.", i + 1, rate.name),
                "a VAT rate with a category",
            ));
        };
        rate_rules(category, rate, &path)?;
        if !categories.contains(&category) {
            categories.push(category);
        }
    }
    if categories.contains(&VatCategory::O) && categories.len() > 1 {
        return Err(broken(
            "BR-O-11",
            "line_items",
            "An invoice with lines outside the scope of VAT (category O) may carry no other VAT category.".to_owned(),
            "only category O lines, or no category O line (issue two invoices)",
        ));
    }
    for &category in &categories {
        if category.needs_seller_vat_id() {
            let rule = seller_rule(category);
            vat_id_rule(rule, "business_profile.tax_id", "seller", f.seller_vat_id, category)?;
        }
        if category.needs_buyer_vat_id() {
            let rule = if category == VatCategory::AE { "BR-AE-02" } else { "BR-IC-02" };
            vat_id_rule(rule, "customer.tax_id", "buyer", f.buyer_vat_id, category)?;
        }
        if category == VatCategory::K && !f.has_supply_date {
            return Err(broken(
                "BR-IC-11",
                "supply_date",
                "An intra-community supply (category K) must say when the goods were delivered.".to_owned(),
                "send_invoice with supply_date, or period_start and period_end",
            ));
        }
    }
    Ok(())
}

fn seller_rule(category: VatCategory) -> &'static str {
    match category {
        VatCategory::S => "BR-S-02",
        VatCategory::Z => "BR-Z-02",
        VatCategory::E => "BR-E-02",
        VatCategory::AE => "BR-AE-02",
        VatCategory::K => "BR-IC-02",
        VatCategory::G => "BR-G-02",
        VatCategory::L => "BR-IG-02",
        VatCategory::M => "BR-IP-02",
        VatCategory::O => "BR-O-02",
    }
}

/// The rate and the reason a category requires (rates are checked when created; an invoice is
/// checked again from its frozen copy).
fn rate_rules(category: VatCategory, rate: &AppliedRate, path: &str) -> Result<(), RuleBroken> {
    let p = category.rule_prefix();
    let ok = match category.rate_rule() {
        RateRule::AboveZero => rate.percent > rust_decimal::Decimal::ZERO,
        RateRule::Zero => rate.percent.is_zero(),
        RateRule::Any => rate.percent >= rust_decimal::Decimal::ZERO,
    };
    if !ok {
        let rule = match category {
            VatCategory::S => "BR-S-05",
            VatCategory::Z => "BR-Z-05",
            VatCategory::E => "BR-E-05",
            VatCategory::AE => "BR-AE-05",
            VatCategory::K => "BR-IC-05",
            VatCategory::G => "BR-G-05",
            VatCategory::O => "BR-O-05",
            VatCategory::L => "BR-IG-05",
            VatCategory::M => "BR-IP-05",
        };
        return Err(broken(
            rule,
            path,
            format!(
                "Rate {:?} is {} % in category {}, which {}.",
                rate.name,
                rate.percent,
                category.code(),
                match category.rate_rule() {
                    RateRule::AboveZero => "must be above 0 %",
                    _ => "must be 0 %",
                }
            ),
            format!("a category {} rate ({p} rules)", category.code()),
        ));
    }
    let has_reason = rate.exemption_reason.is_some() || rate.exemption_reason_code.is_some();
    if category.needs_exemption_reason() != has_reason {
        let rule = match category {
            VatCategory::E => "BR-E-10",
            VatCategory::AE => "BR-AE-10",
            VatCategory::K => "BR-IC-10",
            VatCategory::G => "BR-G-10",
            VatCategory::O => "BR-O-10",
            VatCategory::S => "BR-S-10",
            VatCategory::Z => "BR-Z-10",
            VatCategory::L => "BR-IG-10",
            VatCategory::M => "BR-IP-10",
        };
        let message = if has_reason {
            format!(
                "Rate {:?} (category {}) carries an exemption reason, which the category forbids.",
                rate.name,
                category.code()
            )
        } else {
            format!(
                "Rate {:?} (category {}) has no exemption reason, which the category requires.",
                rate.name,
                category.code()
            )
        };
        return Err(broken(
            rule,
            path,
            message,
            "archive the rate and create it again with the reason the category requires",
        ));
    }
    Ok(())
}

fn vat_id_rule(
    rule: &'static str,
    path: &str,
    whose: &str,
    id: Option<&str>,
    category: VatCategory,
) -> Result<(), RuleBroken> {
    let (how, fix) = match whose {
        "seller" => ("set_business_profile", "the business's VAT id, e.g. DE123456789"),
        _ => ("upsert_customer", "the customer's VAT id, e.g. FR40303265045"),
    };
    let Some(id) = id.filter(|s| !s.trim().is_empty()) else {
        return Err(broken(
            rule,
            path,
            format!(
                "An invoice with a category {} line must show the {whose}'s VAT id, and there is none. Set it with {how} (tax_id), then send again.",
                category.code()
            ),
            fix,
        ));
    };
    match vat_id::check(id) {
        Ok(_) => Ok(()),
        Err(VatIdError::UnknownPrefix) => Err(broken(
            "BR-CO-09",
            path,
            format!(
                "The {whose}'s tax_id {id:?} does not begin with a country prefix such as DE or FR, which a VAT id must."
            ),
            fix,
        )),
        Err(e) => {
            Err(broken("TALLY-VATID", path, format!("The {whose}'s tax_id {id:?} is not a valid VAT id: {e}."), fix))
        }
    }
}

/// BR-DEC: every amount an EN 16931 invoice carries has at most two decimals. Only a currency
/// with three (KWD, BHD…) can break it, by an amount that is not a whole number of hundredths.
fn decimals(f: &Facts<'_>) -> Result<(), RuleBroken> {
    if f.exponent <= 2 || f.mode != TaxMode::Vat {
        return Ok(());
    }
    let step = 10i64.pow(f.exponent - 2);
    let c = f.calculation;
    let fine = |n: i64| n % step == 0;
    for (i, l) in c.lines.iter().enumerate() {
        if !fine(l.net) {
            return Err(dec("BR-DEC-23", format!("line_items[{i}]"), l.net, f.exponent));
        }
    }
    for (i, a) in c.adjustments.iter().enumerate() {
        if let Some(p) = a.parts.iter().find(|p| !fine(p.net)) {
            return Err(dec("BR-DEC-01", format!("adjustments[{i}]"), p.net, f.exponent));
        }
    }
    for g in &c.groups {
        if !fine(g.taxable) {
            return Err(dec("BR-DEC-19", "tax_breakdown".to_owned(), g.taxable, f.exponent));
        }
        if !fine(g.tax) {
            return Err(dec("BR-DEC-20", "tax_breakdown".to_owned(), g.tax, f.exponent));
        }
    }
    for (rule, n) in [("BR-DEC-09", c.subtotal), ("BR-DEC-12", c.taxable), ("BR-DEC-13", c.tax), ("BR-DEC-14", c.total)]
    {
        if !fine(n) {
            return Err(dec(rule, "totals".to_owned(), n, f.exponent));
        }
    }
    Ok(())
}

fn dec(rule: &'static str, path: String, minor: i64, exponent: u32) -> RuleBroken {
    broken(
        rule,
        path,
        format!(
            "An EN 16931 invoice carries amounts with at most two decimals; {minor} minor units of a currency with {exponent} \
             would need {exponent}."
        ),
        format!("prices and discounts that come to whole multiples of {} minor units", 10i64.pow(exponent - 2)),
    )
}
