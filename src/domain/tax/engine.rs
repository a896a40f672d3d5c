//! The one calculation: from a draft's lines, discounts, allowances and charges to the figures an
//! invoice carries, in exact arithmetic (integer minor units, exact decimals; no floats).
//!
//! The rules (EN 16931, and ../shared/money-and-einvoices.md):
//! - One rounding rule: half away from zero, to the minor unit ([`round`]).
//! - A line: `gross = round(quantity × unit price)`; a percent discount is `round(gross × % / 100)`,
//!   an amount discount is taken as given (never more than the gross); the line amount is
//!   `gross − discount`.
//! - Lines are grouped into *tax sets*, the lines that carry the same rates (VAT: one
//!   (category, rate) each; US sales tax: the same components, untaxed lines a set of their own).
//!   A document allowance or charge is computed once, on the sum of all line amounts when it is a
//!   percent (each percent on that same sum: two allowances do not compound), and split across the
//!   sets in proportion to their line amounts by largest remainder, so the parts add up exactly
//!   (with no line amount at all, it falls on the first set).
//! - Per rate (a VAT group, or one sales-tax component): `taxable = Σ line amounts − allowances +
//!   charges` of the sets that carry it, and `tax = round(taxable × rate / 100)`: once per group,
//!   never per line.
//! - Tax-inclusive prices (VAT only): the same sums are gross, and per group `taxable = round(gross
//!   × 100 / (100 + rate))`, `tax = gross − taxable`. Each line and part gets its net share the
//!   same way, the residual on the group's largest line, so the net figures add up to the group's
//!   taxable exactly and the grand total is the shelf price.
//!
//! By construction, every EN 16931 total identity (BR-CO-10 … BR-CO-16) holds exactly;
//! [`Calculation::identities`] checks them, and the tests prove it on random drafts.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::{AppliedRate, TaxMode};
use crate::domain::money::MAX_TOTAL;

/// Rounds half away from zero to a whole minor unit; None past `i64`.
pub fn round(x: Decimal) -> Option<i64> {
    x.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero).to_i64()
}

/// A percentage of an amount, rounded: `round(amount × percent / 100)`.
pub fn percent_of(amount: i64, percent: Decimal) -> Option<i64> {
    round(Decimal::from(amount).checked_mul(percent)?.checked_div(Decimal::ONE_HUNDRED)?)
}

/// A line's discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discount {
    /// A percentage of the line's gross, 0 to 100.
    Percent(Decimal),
    /// An amount in minor units, at most the line's gross.
    Amount(i64),
}

/// One line as the calculation needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Up to four decimal places, more than zero.
    pub quantity: Decimal,
    /// Minor units per unit, tax included when the prices are.
    pub unit_price: i64,
    pub discount: Option<Discount>,
    /// VAT: exactly one; sales tax: the components (none: the line is not taxed); mode none: none.
    pub rates: Vec<AppliedRate>,
}

/// A document-level allowance (a discount) or charge (shipping, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentKind {
    Allowance,
    Charge,
}

/// An allowance or charge: a percent of the line amounts' sum, or an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adjustment {
    pub kind: AdjustmentKind,
    pub amount: Discount,
}

/// What the calculation is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub mode: TaxMode,
    /// Unit prices include tax (VAT mode only).
    pub inclusive: bool,
    pub lines: Vec<Line>,
    pub adjustments: Vec<Adjustment>,
}

/// A line's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFigures {
    /// `round(quantity × unit price)`.
    pub gross: i64,
    pub discount: i64,
    /// `gross − discount`: the line's amount as priced (tax included when prices are).
    pub amount: i64,
    /// The line's net amount (EN 16931 BT-131): equal to `amount` unless prices include tax.
    pub net: i64,
}

/// The share of an allowance or charge that falls on one tax set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Index into [`Calculation::sets`].
    pub set: usize,
    /// As priced.
    pub amount: i64,
    /// Net of tax (equal to `amount` unless prices include tax).
    pub net: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentFigures {
    pub kind: AdjustmentKind,
    /// The whole amount, as priced: what a percent came to, or the amount given.
    pub amount: i64,
    /// Its split across the tax sets, in set order; the parts add up to `amount`.
    pub parts: Vec<Part>,
}

/// The lines that carry the same taxes: their group keys, and the rates of the first such line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxSet {
    pub keys: Vec<String>,
    pub rates: Vec<AppliedRate>,
}

/// One group's figures: a VAT group (category and rate, EN 16931 BG-23) or one sales-tax
/// component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// What groups lines: `S:19` (VAT category and rate), or the sales-tax rate's id.
    pub key: String,
    /// The group's rate, as the first line that carries it names it.
    pub rate: AppliedRate,
    /// Σ line nets of the group (what EN 16931 sums into BT-116 before allowances and charges).
    pub lines: i64,
    pub allowances: i64,
    pub charges: i64,
    /// BT-116: `lines − allowances + charges`.
    pub taxable: i64,
    /// BT-117: `round(taxable × rate / 100)`, or the gross's remainder when prices include tax.
    pub tax: i64,
    /// When prices include tax: the group's gross (`taxable + tax`); 0 otherwise.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gross: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl Group {
    fn new(key: String, rate: AppliedRate) -> Self {
        Self { key, rate, lines: 0, allowances: 0, charges: 0, taxable: 0, tax: 0, gross: 0 }
    }
}

/// Everything an invoice's figures are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calculation {
    pub lines: Vec<LineFigures>,
    pub adjustments: Vec<AdjustmentFigures>,
    /// The distinct sets of taxes the lines carry, in order of first appearance.
    pub sets: Vec<TaxSet>,
    /// Per rate, in order of first appearance.
    pub groups: Vec<Group>,
    /// BT-106: Σ line nets.
    pub subtotal: i64,
    /// BT-107: Σ document allowances (net).
    pub allowances: i64,
    /// BT-108: Σ document charges (net).
    pub charges: i64,
    /// BT-109: `subtotal − allowances + charges`.
    pub taxable: i64,
    /// BT-110: Σ group tax.
    pub tax: i64,
    /// BT-112 (and, before payments, BT-115): `taxable + tax`.
    pub total: i64,
}

/// Why a draft has no figures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    #[error("the invoice's amounts exceed the maximum of {MAX_TOTAL} minor units")]
    TooLarge,
    #[error("line {line}: the discount of {discount} exceeds the line's {gross}")]
    DiscountExceedsLine { line: usize, discount: i64, gross: i64 },
    #[error("the allowances exceed what the lines they fall on add up to")]
    AllowancesExceedLines,
    #[error("prices that include tax are for VAT only")]
    InclusiveWithoutVat,
}

impl Draft {
    /// The figures, or why there are none. Deterministic: the same draft always gives the same
    /// figures.
    pub fn calculate(&self) -> Result<Calculation, CalcError> {
        if self.inclusive && self.mode != TaxMode::Vat {
            return Err(CalcError::InclusiveWithoutVat);
        }
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            lines.push(line_figures(i, line)?);
        }
        // Tax sets, in order of first appearance.
        let mut sets: Vec<TaxSet> = Vec::new();
        let mut set_of_line = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            let keys: Vec<String> = line.rates.iter().map(|r| r.group_key(self.mode)).collect();
            let at = sets.iter().position(|s| s.keys == keys).unwrap_or_else(|| {
                sets.push(TaxSet { keys, rates: line.rates.clone() });
                sets.len() - 1
            });
            set_of_line.push(at);
        }
        let mut set_amounts = vec![0i64; sets.len()];
        for (f, &s) in lines.iter().zip(&set_of_line) {
            set_amounts[s] = checked_add(set_amounts[s], f.amount)?;
        }
        let line_sum = set_amounts.iter().try_fold(0i64, |a, &b| checked_add(a, b))?;

        // Allowances and charges: each computed once, then split across the sets.
        let mut adjustments = Vec::with_capacity(self.adjustments.len());
        let mut set_allowances = vec![0i64; sets.len()];
        let mut set_charges = vec![0i64; sets.len()];
        for adj in &self.adjustments {
            let amount = match adj.amount {
                Discount::Percent(p) => percent_of(line_sum, p).ok_or(CalcError::TooLarge)?,
                Discount::Amount(a) => a,
            };
            let split = largest_remainder(amount, &set_amounts).ok_or(CalcError::TooLarge)?;
            let into = match adj.kind {
                AdjustmentKind::Allowance => &mut set_allowances,
                AdjustmentKind::Charge => &mut set_charges,
            };
            for (s, part) in split.iter().enumerate() {
                into[s] = checked_add(into[s], *part)?;
            }
            let parts = split.into_iter().enumerate().map(|(set, amount)| Part { set, amount, net: amount }).collect();
            adjustments.push(AdjustmentFigures { kind: adj.kind, amount, parts });
        }
        for s in 0..sets.len() {
            if set_amounts[s] - set_allowances[s] + set_charges[s] < 0 {
                return Err(CalcError::AllowancesExceedLines);
            }
        }

        // Net shares when prices include tax (VAT: one rate per set).
        if self.inclusive {
            for (s, set) in sets.iter().enumerate() {
                let Some(rate) = set.rates.first() else { continue };
                let gross = set_amounts[s] - set_allowances[s] + set_charges[s];
                let taxable = net_of(gross, rate.percent)?;
                let mut members: Vec<usize> = (0..lines.len()).filter(|&i| set_of_line[i] == s).collect();
                let mut sum = 0i64;
                for &i in &members {
                    lines[i].net = net_of(lines[i].amount, rate.percent)?;
                    sum += lines[i].net;
                }
                for adj in &mut adjustments {
                    let part = &mut adj.parts[s];
                    part.net = net_of(part.amount, rate.percent)?;
                    match adj.kind {
                        AdjustmentKind::Allowance => sum -= part.net,
                        AdjustmentKind::Charge => sum += part.net,
                    }
                }
                // The residual (a few minor units at most) goes on the largest line.
                members.sort_by_key(|&i| (std::cmp::Reverse(lines[i].amount), i));
                if let Some(&largest) = members.first() {
                    lines[largest].net += taxable - sum;
                }
            }
        }

        let subtotal = lines.iter().try_fold(0i64, |a, f| checked_add(a, f.net))?;
        let sum_parts = |kind: AdjustmentKind| {
            adjustments
                .iter()
                .filter(|a| a.kind == kind)
                .flat_map(|a| a.parts.iter())
                .try_fold(0i64, |a, p| checked_add(a, p.net))
        };
        let allowances = sum_parts(AdjustmentKind::Allowance)?;
        let charges = sum_parts(AdjustmentKind::Charge)?;
        let taxable = subtotal - allowances + charges;

        // Per group (VAT: category and rate; sales tax: each component), over the sets that carry it.
        let mut groups: Vec<Group> = Vec::new();
        for (s, set) in sets.iter().enumerate() {
            for (key, rate) in set.keys.iter().zip(&set.rates) {
                let at = groups.iter().position(|g| g.key == *key).unwrap_or_else(|| {
                    groups.push(Group::new(key.clone(), rate.clone()));
                    groups.len() - 1
                });
                let g = &mut groups[at];
                for (i, f) in lines.iter().enumerate() {
                    if set_of_line[i] == s {
                        g.lines = checked_add(g.lines, f.net)?;
                    }
                }
                for adj in &adjustments {
                    let net = adj.parts[s].net;
                    match adj.kind {
                        AdjustmentKind::Allowance => g.allowances = checked_add(g.allowances, net)?,
                        AdjustmentKind::Charge => g.charges = checked_add(g.charges, net)?,
                    }
                }
                if self.inclusive {
                    // VAT: one group per set. What the set's gross holds besides its net.
                    g.gross = set_amounts[s] - set_allowances[s] + set_charges[s];
                }
            }
        }
        for g in &mut groups {
            g.taxable = g.lines - g.allowances + g.charges;
            g.tax = if self.inclusive {
                g.gross - g.taxable
            } else {
                percent_of(g.taxable, g.rate.percent).ok_or(CalcError::TooLarge)?
            };
        }
        let tax = groups.iter().try_fold(0i64, |a, g| checked_add(a, g.tax))?;
        let total = checked_add(taxable, tax)?;
        if total > MAX_TOTAL {
            return Err(CalcError::TooLarge);
        }
        Ok(Calculation { lines, adjustments, sets, groups, subtotal, allowances, charges, taxable, tax, total })
    }
}

fn checked_add(a: i64, b: i64) -> Result<i64, CalcError> {
    a.checked_add(b).filter(|s| s.abs() <= MAX_TOTAL).ok_or(CalcError::TooLarge)
}

fn line_figures(i: usize, line: &Line) -> Result<LineFigures, CalcError> {
    let gross = Decimal::from(line.unit_price)
        .checked_mul(line.quantity)
        .and_then(round)
        .filter(|g| (0..=MAX_TOTAL).contains(g))
        .ok_or(CalcError::TooLarge)?;
    let discount = match line.discount {
        None => 0,
        Some(Discount::Percent(p)) => percent_of(gross, p).ok_or(CalcError::TooLarge)?,
        Some(Discount::Amount(a)) => a,
    };
    if discount > gross {
        return Err(CalcError::DiscountExceedsLine { line: i, discount, gross });
    }
    let amount = gross - discount;
    Ok(LineFigures { gross, discount, amount, net: amount })
}

/// `round(gross × 100 / (100 + rate))`: the net part of a gross amount.
pub(crate) fn net_of(gross: i64, rate: Decimal) -> Result<i64, CalcError> {
    let divisor = Decimal::ONE_HUNDRED + rate;
    Decimal::from(gross)
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|x| x.checked_div(divisor))
        .and_then(round)
        .ok_or(CalcError::TooLarge)
}

/// Splits `total` in proportion to `weights` by largest remainder: each part is
/// `floor(total × w / Σw)`, and the units left over go one each to the largest remainders (the
/// earlier part first on a tie). The parts add up to `total`. With no weight at all, everything
/// falls on the first part.
pub fn largest_remainder(total: i64, weights: &[i64]) -> Option<Vec<i64>> {
    if weights.is_empty() {
        return if total == 0 { Some(vec![]) } else { None };
    }
    let sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
    if sum <= 0 {
        let mut parts = vec![0; weights.len()];
        parts[0] = total;
        return Some(parts);
    }
    let total_wide = i128::from(total);
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (i, &w) in weights.iter().enumerate() {
        let product = total_wide * i128::from(w);
        parts.push(i64::try_from(product.div_euclid(sum)).ok()?);
        remainders.push((product.rem_euclid(sum), i));
    }
    let mut left = total - parts.iter().sum::<i64>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    Some(parts)
}

impl Calculation {
    /// The EN 16931 identities that must hold exactly, each with its rule id; the first broken
    /// one, if any. (Per-group BR-x-08 holds for VAT; sales-tax components overlap.)
    pub fn identities(&self, mode: TaxMode) -> Result<(), &'static str> {
        let sum = |it: &mut dyn Iterator<Item = i64>| it.sum::<i64>();
        if self.subtotal != sum(&mut self.lines.iter().map(|l| l.net)) {
            return Err("BR-CO-10");
        }
        let parts =
            |kind| self.adjustments.iter().filter(move |a| a.kind == kind).flat_map(|a| a.parts.iter()).map(|p| p.net);
        if self.allowances != sum(&mut parts(AdjustmentKind::Allowance)) {
            return Err("BR-CO-11");
        }
        if self.charges != sum(&mut parts(AdjustmentKind::Charge)) {
            return Err("BR-CO-12");
        }
        if self.taxable != self.subtotal - self.allowances + self.charges {
            return Err("BR-CO-13");
        }
        if self.tax != sum(&mut self.groups.iter().map(|g| g.tax)) {
            return Err("BR-CO-14");
        }
        if self.total != self.taxable + self.tax {
            return Err("BR-CO-15");
        }
        for a in &self.adjustments {
            if a.amount != a.parts.iter().map(|p| p.amount).sum::<i64>() {
                return Err("allowance-parts");
            }
        }
        if mode == TaxMode::Vat {
            for g in &self.groups {
                if g.taxable != g.lines - g.allowances + g.charges {
                    return Err("BR-S-08");
                }
            }
            if self.taxable != sum(&mut self.groups.iter().map(|g| g.taxable)) {
                return Err("BR-CO-13");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::tax::VatCategory;

    fn rate(i: usize, percent: Decimal, mode: TaxMode) -> AppliedRate {
        AppliedRate {
            tax_rate_id: format!("txr_{i}"),
            name: format!("rate {i}"),
            percent,
            category: (mode == TaxMode::Vat).then_some(if percent.is_zero() { VatCategory::Z } else { VatCategory::S }),
            jurisdiction: (mode == TaxMode::SalesTax).then(|| format!("J{i}")),
            exemption_reason_code: None,
            exemption_reason: None,
        }
    }

    fn draft() -> impl Strategy<Value = Draft> {
        let rates =
            [Decimal::new(19, 0), Decimal::new(7, 0), Decimal::ZERO, Decimal::new(625, 2), Decimal::new(8875, 3)];
        (
            0..3usize,
            any::<bool>(),
            prop::collection::vec((1i64..=50_000, 1i64..=1_000_000, 0usize..5, 0u8..3, 0i64..=100), 1..8),
            prop::collection::vec((any::<bool>(), any::<bool>(), 0i64..=5_000), 0..4),
        )
            .prop_map(move |(m, inclusive, lines, adjustments)| {
                let mode = [TaxMode::None, TaxMode::Vat, TaxMode::SalesTax][m];
                let lines = lines
                    .into_iter()
                    .map(|(q, price, r, d, pct)| Line {
                        quantity: Decimal::new(q, 2),
                        unit_price: price,
                        discount: match d {
                            0 => None,
                            1 => Some(Discount::Percent(Decimal::new(pct, 0))),
                            _ => Some(Discount::Amount(pct)),
                        },
                        rates: match mode {
                            TaxMode::None => vec![],
                            TaxMode::Vat => vec![rate(r, rates[r], mode)],
                            TaxMode::SalesTax => {
                                (0..=r % 3).map(|k| rate(k + 3 * (r % 2), rates[3 + k % 2], mode)).collect()
                            }
                        },
                    })
                    .collect();
                let adjustments = adjustments
                    .into_iter()
                    .map(|(charge, percent, n)| Adjustment {
                        kind: if charge { AdjustmentKind::Charge } else { AdjustmentKind::Allowance },
                        amount: if percent { Discount::Percent(Decimal::new(n % 31, 0)) } else { Discount::Amount(n) },
                    })
                    .collect();
                Draft { mode, inclusive: inclusive && mode == TaxMode::Vat, lines, adjustments }
            })
    }

    proptest! {
        /// For any draft the engine prices: every identity holds exactly, each allowance's parts add
        /// up to it, and with prices that include tax the total is the gross lines less allowances
        /// plus charges (the shelf price).
        #[test]
        fn identities_hold_for_any_draft(d in draft()) {
            let Ok(c) = d.calculate() else { return Ok(()) };
            prop_assert_eq!(c.identities(d.mode), Ok(()));
            for a in &c.adjustments {
                prop_assert_eq!(a.parts.iter().map(|p| p.amount).sum::<i64>(), a.amount);
            }
            if d.inclusive {
                let gross: i64 = c.lines.iter().map(|l| l.amount).sum();
                let signed: i64 = c.adjustments.iter().map(|a| match a.kind {
                    AdjustmentKind::Allowance => -a.amount,
                    AdjustmentKind::Charge => a.amount,
                }).sum();
                prop_assert_eq!(c.total, gross + signed);
            }
            if d.mode == TaxMode::None {
                prop_assert_eq!(c.tax, 0);
            }
        }
    }
}
