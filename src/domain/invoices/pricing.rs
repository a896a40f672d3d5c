//! From a draft's lines and adjustments to its figures: the rates each line names are resolved
//! against the tenant's (and its tax mode), the one calculation runs, and what it makes is what
//! the invoice stores, shows and, once sent, keeps.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{NewAdjustment, NewLine, TaxFigures};
use crate::domain::DomainError;
use crate::domain::tax::engine::{self, AdjustmentKind, CalcError, Calculation, Discount};
use crate::domain::tax::rates::TaxContext;
use crate::domain::tax::{AppliedRate, TaxMode, TaxSettings, VatCategory};

/// A line as `insert_invoice_lines` writes it (see migrations/).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StoredLine<'a> {
    pub line_no: i32,
    pub description: &'a str,
    pub amount_cents: i64,
    pub quantity: Decimal,
    pub unit_code: &'a str,
    pub discount_percent: Option<Decimal>,
    pub discount_cents: i64,
    pub line_total_cents: i64,
    pub net_cents: i64,
    pub taxes: &'a [AppliedRate],
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
}

/// A document allowance or charge as the invoice keeps it: as asked, what it came to, and its
/// split across the tax groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedAdjustment {
    pub kind: AdjustmentKind,
    pub reason: String,
    #[serde(default)]
    pub reason_code: Option<String>,
    /// A percent of the lines' sum, when it was asked as one.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub percent: Option<Decimal>,
    /// What it came to, as priced.
    pub amount_cents: i64,
    pub parts: Vec<AdjustmentPart>,
}

/// The share of an allowance or charge on one set of taxes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentPart {
    /// VAT: the group's category and rate; sales tax: none (see `tax_rate_ids`).
    #[serde(default)]
    pub category: Option<VatCategory>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub percent: Option<Decimal>,
    pub tax_rate_ids: Vec<String>,
    pub amount_cents: i64,
    /// Net of tax: equal to amount_cents unless prices include tax.
    pub net_cents: i64,
}

/// A draft's figures, ready to store.
pub(crate) struct Priced {
    pub settings: TaxSettings,
    pub lines: Vec<Vec<AppliedRate>>,
    pub calculation: Calculation,
    pub adjustments: Vec<AppliedAdjustment>,
}

impl Priced {
    pub fn stored_lines<'a>(&'a self, lines: &'a [NewLine]) -> Vec<StoredLine<'a>> {
        lines
            .iter()
            .zip(&self.calculation.lines)
            .zip(&self.lines)
            .zip(1..)
            .map(|(((l, f), taxes), line_no)| StoredLine {
                line_no,
                description: &l.description,
                amount_cents: l.amount_cents,
                quantity: l.quantity.normalize(),
                unit_code: l.unit.as_deref().unwrap_or(UNIT_ONE),
                discount_percent: match l.discount {
                    Some(Discount::Percent(p)) => Some(p),
                    _ => None,
                },
                discount_cents: f.discount,
                line_total_cents: f.amount,
                net_cents: f.net,
                taxes,
                period_start: l.period_start,
                period_end: l.period_end,
            })
            .collect()
    }

    /// The invoice's tax columns.
    pub fn figures(&self) -> TaxFigures {
        let c = &self.calculation;
        TaxFigures {
            tax_mode: self.settings.mode,
            prices_include_tax: self.settings.prices_include_tax,
            allowance_cents: c.allowances,
            charge_cents: c.charges,
            tax_cents: c.tax,
            tax_breakdown: sqlx::types::Json(c.groups.clone()),
            adjustments: sqlx::types::Json(self.adjustments.clone()),
        }
    }
}

/// UN/ECE Recommendation 20 "one": a line without a unit counts pieces.
pub const UNIT_ONE: &str = "C62";

fn refused(path: String, message: String, expected: String) -> DomainError {
    DomainError::Refused { path, message, expected }
}

/// Resolves the rates, runs the calculation and keeps what it made. `inclusive` overrides the
/// tenant's price basis for this invoice.
pub(crate) fn price(
    lines: &[NewLine],
    adjustments: &[NewAdjustment],
    inclusive: Option<bool>,
    ctx: &TaxContext,
) -> Result<Priced, DomainError> {
    let mode = ctx.settings.mode;
    let inclusive = match (mode, inclusive) {
        (TaxMode::Vat, asked) => asked.unwrap_or(ctx.settings.prices_include_tax),
        (_, Some(true)) => {
            return Err(refused(
                "prices_include_tax".into(),
                format!("Prices that include tax are for VAT only, and the business's tax mode is {}.", mode.as_str()),
                "false, or no prices_include_tax".into(),
            ));
        }
        _ => false,
    };
    let available = || {
        let usable: Vec<String> = ctx
            .rates
            .iter()
            .filter(|r| r.archived_at.is_none() && r.kind == mode)
            .map(|r| format!("{} ({})", r.tax_rate_id, r.name))
            .collect();
        if usable.is_empty() { "list_tax_rates shows the business's rates".to_owned() } else { usable.join(", ") }
    };
    let mut resolved = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let path = format!("line_items[{i}].tax_rate_ids");
        let mut rates = Vec::with_capacity(line.tax_rate_ids.len());
        for id in &line.tax_rate_ids {
            let Some(rate) = ctx.rates.iter().find(|r| r.tax_rate_id == *id) else {
                return Err(refused(
                    path,
                    format!("The business has no tax rate {id}. list_tax_rates shows its rates."),
                    "ids of the business's tax rates (txr_…)".into(),
                ));
            };
            if rate.archived_at.is_some() {
                return Err(refused(
                    path,
                    format!("Tax rate {id} ({}) is archived; invoices can no longer use it.", rate.name),
                    "a rate that is not archived (list_tax_rates)".into(),
                ));
            }
            if rate.kind != mode {
                return Err(refused(
                    path,
                    format!(
                        "Tax rate {id} ({}) is a {} rate, but the business's tax mode is {}.",
                        rate.name,
                        rate.kind.as_str(),
                        mode.as_str()
                    ),
                    format!("rates of kind {}", mode.as_str()),
                ));
            }
            if rates.iter().any(|r: &AppliedRate| r.tax_rate_id == rate.tax_rate_id.to_string()) {
                return Err(refused(path, format!("Tax rate {id} is named twice."), "each rate once".into()));
            }
            rates.push(rate.applied());
        }
        match (mode, rates.len()) {
            (TaxMode::None, 0) | (TaxMode::Vat, 1) | (TaxMode::SalesTax, _) => {}
            (TaxMode::None, _) => {
                return Err(refused(
                    path,
                    "The business charges no tax (tax mode none), so lines carry no tax rates. An admin sets the \
                     tax mode with set_business_profile."
                        .into(),
                    "no tax_rate_ids".into(),
                ));
            }
            (TaxMode::Vat, n) => {
                return Err(refused(
                    path,
                    format!(
                        "A VAT invoice line carries exactly one VAT rate; this one has {n}. Rates: {}.",
                        available()
                    ),
                    "exactly one VAT rate id".into(),
                ));
            }
        }
        resolved.push(rates);
    }
    let draft = engine::Draft {
        mode,
        inclusive,
        lines: lines
            .iter()
            .zip(&resolved)
            .map(|(l, rates)| engine::Line {
                quantity: l.quantity,
                unit_price: l.amount_cents,
                discount: l.discount,
                rates: rates.clone(),
            })
            .collect(),
        adjustments: adjustments.iter().map(|a| engine::Adjustment { kind: a.kind, amount: a.amount }).collect(),
    };
    let calculation = draft.calculate().map_err(|e| match e {
        CalcError::TooLarge => DomainError::TotalTooLarge,
        CalcError::DiscountExceedsLine { line, discount, gross } => refused(
            format!("line_items[{line}].discount_cents"),
            format!("Line {}'s discount of {discount} exceeds the line's {gross} (quantity × unit price).", line + 1),
            format!("a discount of at most {gross}"),
        ),
        CalcError::AllowancesExceedLines => refused(
            "allowances".into(),
            "The allowances come to more than the lines they reduce.".into(),
            "allowances that leave every tax group at zero or more".into(),
        ),
        CalcError::InclusiveWithoutVat => {
            refused("prices_include_tax".into(), "Prices that include tax are for VAT only.".into(), "false".into())
        }
    })?;
    let applied = adjustments
        .iter()
        .zip(&calculation.adjustments)
        .map(|(a, f)| AppliedAdjustment {
            kind: a.kind,
            reason: a.reason.clone(),
            reason_code: a.reason_code.clone(),
            percent: match a.amount {
                Discount::Percent(p) => Some(p),
                Discount::Amount(_) => None,
            },
            amount_cents: f.amount,
            parts: f
                .parts
                .iter()
                .map(|p| {
                    let set = &calculation.sets[p.set];
                    let vat = set.rates.first().filter(|_| mode == TaxMode::Vat);
                    AdjustmentPart {
                        category: vat.and_then(|r| r.category),
                        percent: vat.map(|r| r.percent),
                        tax_rate_ids: set.rates.iter().map(|r| r.tax_rate_id.clone()).collect(),
                        amount_cents: p.amount,
                        net_cents: p.net,
                    }
                })
                .collect(),
        })
        .collect();
    Ok(Priced {
        settings: TaxSettings { mode, prices_include_tax: inclusive },
        lines: resolved,
        calculation,
        adjustments: applied,
    })
}
