//! A credit note's figures, from the invoice's frozen figures and what earlier credit notes took.
//!
//! The rules (one rounding rule, the engine's: half away from zero):
//! - A line credited by quantity `q` of `Q`: its amount is `round(amount × q / Q)`, and when `q`
//!   is all that is left of the line, exactly what is left; by amount: the amount given. Its net
//!   is `round(net × amount / line amount)`, or what is left of it when the line is used up.
//! - Per tax set (the lines that carry the same taxes, as the engine groups them): the credited
//!   taxable is `round(set taxable × credited nets / set nets)`, so the invoice's allowances and
//!   charges are credited in proportion; when the set's lines are used up, exactly what is left.
//!   (Prices that include tax: the same on the gross, and the taxable is the gross's net.)
//! - Per tax group (VAT category and rate, or a sales-tax component): `tax = round(taxable × rate
//!   / 100)` (prices with tax: gross − taxable), once per group; when the group's taxable is used
//!   up, exactly the tax that is left.
//! - Nothing credited ever exceeds what is left: a request beyond it is refused (per line: the
//!   quantity and the amount; a custom amount: its group's taxable), and a derived figure is never
//!   more than what remains of it. So the credit notes of an invoice add up to at most its figures,
//!   and to exactly them once everything is credited.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::tax::engine::{Group, net_of, percent_of, round};
use crate::domain::tax::{AppliedRate, TaxMode};

/// What the caller asks to credit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditRequest {
    /// Everything still creditable.
    Whole,
    /// Some lines, each by quantity or by amount.
    Lines(Vec<LineCredit>),
    /// An amount in one tax group (as priced: tax included when the invoice's prices are).
    Amount { group: Option<String>, amount: i64, description: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineCredit {
    pub line_no: i32,
    pub by: LineCreditBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineCreditBy {
    Quantity(Decimal),
    /// As priced, in minor units.
    Amount(i64),
}

/// One invoice line as a credit needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceLine {
    pub line_no: i32,
    pub description: String,
    pub unit_code: String,
    pub unit_price: i64,
    pub quantity: Decimal,
    /// As priced (tax included when prices are).
    pub amount: i64,
    pub net: i64,
    pub rates: Vec<AppliedRate>,
}

/// The invoice's frozen figures, as a credit reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub mode: TaxMode,
    pub inclusive: bool,
    pub lines: Vec<InvoiceLine>,
    /// Per tax set, in the engine's order: the allowances' and charges' net and priced amounts.
    pub set_adjustments: Vec<SetAdjustment>,
    pub groups: Vec<Group>,
}

/// What an invoice's allowances and charges put on one tax set (net, and as priced).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetAdjustment {
    pub net: i64,
    pub amount: i64,
}

/// A credited line, as the credit note keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditedLine {
    /// The invoice line it credits; none for a custom amount.
    pub invoice_line_no: Option<i32>,
    pub description: String,
    pub unit_code: String,
    /// The quantity returned (0 when a line is credited by amount).
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// The invoice line's unit price.
    pub unit_price: i64,
    /// As priced.
    pub amount_cents: i64,
    pub net_cents: i64,
    pub taxes: Vec<AppliedRate>,
    /// Index of its tax set in the invoice.
    pub set: usize,
}

/// What a credit note takes from one of the invoice's tax sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditedSet {
    pub set: usize,
    /// Σ nets of the invoice lines credited.
    pub lines: i64,
    /// Σ amounts (as priced) of the invoice lines credited.
    pub amount: i64,
    pub taxable: i64,
    /// As priced: the taxable plus its tax when prices include tax, else the taxable.
    pub gross: i64,
}

/// A credit note's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub lines: Vec<CreditedLine>,
    pub sets: Vec<CreditedSet>,
    pub groups: Vec<Group>,
    pub subtotal: i64,
    pub allowances: i64,
    pub charges: i64,
    pub tax: i64,
    pub total: i64,
}

/// Why a request cannot be credited: where, what, and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub path: String,
    pub message: String,
    pub expected: String,
}

fn refuse(path: impl Into<String>, message: impl Into<String>, expected: impl Into<String>) -> Refusal {
    Refusal { path: path.into(), message: message.into(), expected: expected.into() }
}

/// The tax sets of an invoice's lines, in order of first appearance (as the engine forms them).
fn sets_of(inv: &Invoice) -> (Vec<Vec<String>>, Vec<Vec<AppliedRate>>, Vec<usize>) {
    let mut keys: Vec<Vec<String>> = Vec::new();
    let mut rates: Vec<Vec<AppliedRate>> = Vec::new();
    let mut set_of_line = Vec::with_capacity(inv.lines.len());
    for line in &inv.lines {
        let k: Vec<String> = line.rates.iter().map(|r| r.group_key(inv.mode)).collect();
        let at = keys.iter().position(|s| *s == k).unwrap_or_else(|| {
            keys.push(k);
            rates.push(line.rates.clone());
            keys.len() - 1
        });
        set_of_line.push(at);
    }
    (keys, rates, set_of_line)
}

fn scale(whole: i64, part: i64, of: i64) -> Option<i64> {
    if of == 0 {
        return Some(0);
    }
    round(Decimal::from(whole).checked_mul(Decimal::from(part))?.checked_div(Decimal::from(of))?)
}

const TOO_LARGE: &str = "the amounts are too large to calculate";

/// The credit note's figures for `request`, given the credit notes already issued against the
/// invoice (`earlier`).
pub fn credit(inv: &Invoice, earlier: &[Figures], request: &CreditRequest) -> Result<Figures, Refusal> {
    let (set_keys, set_rates, set_of_line) = sets_of(inv);
    let n_sets = set_keys.len();
    let too_large = || refuse("amount_cents", TOO_LARGE, "smaller amounts");

    // What the invoice has per set, and what is left of it.
    let mut set_lines = vec![0i64; n_sets];
    let mut set_amount = vec![0i64; n_sets];
    for (line, &s) in inv.lines.iter().zip(&set_of_line) {
        set_lines[s] += line.net;
        set_amount[s] += line.amount;
    }
    let adjustment = |s: usize| inv.set_adjustments.get(s).copied().unwrap_or_default();
    let set_taxable: Vec<i64> = (0..n_sets).map(|s| set_lines[s] + adjustment(s).net).collect();
    let set_gross: Vec<i64> = (0..n_sets).map(|s| set_amount[s] + adjustment(s).amount).collect();
    let mut left_lines = set_lines.clone();
    let mut left_amount = set_amount.clone();
    let mut left_taxable = set_taxable.clone();
    let mut left_gross = set_gross.clone();
    for f in earlier {
        for c in &f.sets {
            if c.set < n_sets {
                left_lines[c.set] -= c.lines;
                left_amount[c.set] -= c.amount;
                left_taxable[c.set] -= c.taxable;
                left_gross[c.set] -= c.gross;
            }
        }
    }
    // Per invoice line: quantity, amount and net left.
    let left_of_line = |no: i32| {
        let line = inv.lines.iter().find(|l| l.line_no == no)?;
        let (mut q, mut a, mut n) = (line.quantity, line.amount, line.net);
        for c in earlier.iter().flat_map(|f| &f.lines).filter(|c| c.invoice_line_no == Some(no)) {
            q -= c.quantity;
            a -= c.amount_cents;
            n -= c.net_cents;
        }
        Some((line, q, a, n))
    };

    let mut lines: Vec<CreditedLine> = Vec::new();
    let mut credited = vec![CreditedSet { set: 0, lines: 0, amount: 0, taxable: 0, gross: 0 }; n_sets];
    for (s, c) in credited.iter_mut().enumerate() {
        c.set = s;
    }
    let mut custom_set: Option<usize> = None;
    // The sets a line credit reaches (every set, for the whole rest).
    let mut touched = vec![matches!(request, CreditRequest::Whole); n_sets];

    let asks: Vec<(String, LineCredit)> = match request {
        CreditRequest::Whole => inv
            .lines
            .iter()
            .filter_map(|l| {
                let (_, q, a, n) = left_of_line(l.line_no)?;
                (a > 0 || n > 0).then(|| {
                    (format!("line {}", l.line_no), LineCredit { line_no: l.line_no, by: LineCreditBy::Quantity(q) })
                })
            })
            .collect(),
        CreditRequest::Lines(asks) => {
            asks.iter().enumerate().map(|(i, a)| (format!("lines[{i}]"), a.clone())).collect::<Vec<_>>()
        }
        CreditRequest::Amount { .. } => vec![],
    };
    let mut seen: Vec<i32> = Vec::new();
    for (path, ask) in &asks {
        if seen.contains(&ask.line_no) {
            return Err(refuse(
                format!("{path}.line_no"),
                format!("line {} is named twice", ask.line_no),
                "each invoice line at most once",
            ));
        }
        seen.push(ask.line_no);
        let Some((line, q_left, a_left, n_left)) = left_of_line(ask.line_no) else {
            let numbers: Vec<String> = inv.lines.iter().map(|l| l.line_no.to_string()).collect();
            return Err(refuse(
                format!("{path}.line_no"),
                format!("the invoice has no line {}", ask.line_no),
                format!("one of the invoice's line numbers: {}", numbers.join(", ")),
            ));
        };
        let s = set_of_line[inv.lines.iter().position(|l| l.line_no == ask.line_no).unwrap_or(0)];
        let (quantity, amount) = match ask.by {
            LineCreditBy::Quantity(q) => {
                if q > q_left {
                    return Err(refuse(
                        format!("{path}.quantity"),
                        format!(
                            "line {} has {} left to credit (invoiced {}), not {}",
                            line.line_no,
                            q_left.normalize(),
                            line.quantity.normalize(),
                            q.normalize()
                        ),
                        format!("a quantity from 0.0001 to {}", q_left.normalize()),
                    ));
                }
                let amount = if q == q_left {
                    a_left
                } else {
                    let share = round(
                        Decimal::from(line.amount)
                            .checked_mul(q)
                            .and_then(|x| x.checked_div(line.quantity))
                            .ok_or_else(too_large)?,
                    )
                    .ok_or_else(too_large)?;
                    share.min(a_left)
                };
                (q, amount)
            }
            LineCreditBy::Amount(a) => {
                if a > a_left {
                    return Err(refuse(
                        format!("{path}.amount_cents"),
                        format!(
                            "line {} has {a_left} left to credit (invoiced {}), not {a}",
                            line.line_no, line.amount
                        ),
                        format!("an amount from 1 to {a_left}"),
                    ));
                }
                (Decimal::ZERO, a)
            }
        };
        let net = if amount == a_left {
            n_left
        } else {
            scale(line.net, amount, line.amount).ok_or_else(too_large)?.min(n_left)
        };
        credited[s].lines += net;
        credited[s].amount += amount;
        touched[s] = true;
        lines.push(CreditedLine {
            invoice_line_no: Some(line.line_no),
            description: line.description.clone(),
            unit_code: line.unit_code.clone(),
            quantity,
            unit_price: line.unit_price,
            amount_cents: amount,
            net_cents: net,
            taxes: line.rates.clone(),
            set: s,
        });
    }

    // Per set: the taxable (and gross) credited.
    if let CreditRequest::Amount { group, amount, description } = request {
        let s = match group {
            Some(key) => set_keys.iter().position(|k| k.len() == 1 && k[0] == *key).ok_or_else(|| {
                let keys: Vec<&str> = set_keys.iter().filter(|k| k.len() == 1).map(|k| k[0].as_str()).collect();
                refuse(
                    "tax_group",
                    format!("the invoice has no tax group {key:?} that lines carry alone"),
                    format!("one of: {}", keys.join(", ")),
                )
            })?,
            None if n_sets == 1 => 0,
            None => {
                let keys: Vec<String> = set_keys.iter().map(|k| k.join("+")).collect();
                return Err(refuse(
                    "tax_group",
                    "the invoice has several tax groups: say which one the amount is in",
                    format!("one of: {}", keys.join(", ")),
                ));
            }
        };
        let room = if inv.inclusive { left_gross[s] } else { left_taxable[s] };
        if *amount > room {
            return Err(refuse(
                "amount_cents",
                format!("{room} is left to credit in that tax group, not {amount}"),
                format!("an amount from 1 to {room}"),
            ));
        }
        let (taxable, gross) = if inv.inclusive {
            let rate = set_rates[s].first().map_or(Decimal::ZERO, |r| r.percent);
            let taxable = if *amount == room {
                left_taxable[s]
            } else {
                net_of(*amount, rate).map_err(|_| too_large())?.min(left_taxable[s])
            };
            (taxable, *amount)
        } else {
            (*amount, *amount)
        };
        credited[s].taxable = taxable;
        credited[s].gross = gross;
        custom_set = Some(s);
        lines.push(CreditedLine {
            invoice_line_no: None,
            description: description.clone(),
            unit_code: "C62".into(),
            quantity: Decimal::ONE,
            unit_price: *amount,
            amount_cents: *amount,
            net_cents: taxable,
            taxes: set_rates[s].clone(),
            set: s,
        });
    } else {
        for s in 0..n_sets {
            if !touched[s] {
                continue;
            }
            let c = &mut credited[s];
            let used_up = c.lines == left_lines[s] && c.amount == left_amount[s];
            if used_up {
                c.taxable = left_taxable[s];
                c.gross = left_gross[s];
            } else if inv.inclusive {
                c.gross = scale(set_gross[s], c.amount, set_amount[s]).ok_or_else(too_large)?.min(left_gross[s]);
                let rate = set_rates[s].first().map_or(Decimal::ZERO, |r| r.percent);
                c.taxable = net_of(c.gross, rate).map_err(|_| too_large())?.min(left_taxable[s]);
            } else {
                c.taxable = scale(set_taxable[s], c.lines, set_lines[s]).ok_or_else(too_large)?.min(left_taxable[s]);
                c.gross = c.taxable;
            }
        }
    }
    let sets: Vec<CreditedSet> =
        credited.into_iter().filter(|c| c.lines != 0 || c.amount != 0 || c.taxable != 0 || c.gross != 0).collect();

    // Per group: the taxable of the sets that carry it, and its tax.
    let mut groups: Vec<Group> = Vec::new();
    for c in &sets {
        for (key, rate) in set_keys[c.set].iter().zip(&set_rates[c.set]) {
            let at = groups.iter().position(|g| g.key == *key).unwrap_or_else(|| {
                groups.push(Group {
                    key: key.clone(),
                    rate: rate.clone(),
                    lines: 0,
                    allowances: 0,
                    charges: 0,
                    taxable: 0,
                    tax: 0,
                    gross: 0,
                });
                groups.len() - 1
            });
            let g = &mut groups[at];
            let lines_net = if custom_set == Some(c.set) { c.taxable } else { c.lines };
            g.lines += lines_net;
            g.allowances += (lines_net - c.taxable).max(0);
            g.charges += (c.taxable - lines_net).max(0);
            g.taxable += c.taxable;
            if inv.inclusive {
                g.gross += c.gross;
            }
        }
    }
    for g in &mut groups {
        let invoiced = inv.groups.iter().find(|i| i.key == g.key);
        let (mut taxable_left, mut tax_left) = invoiced.map_or((0, 0), |i| (i.taxable, i.tax));
        for e in earlier.iter().flat_map(|f| &f.groups).filter(|e| e.key == g.key) {
            taxable_left -= e.taxable;
            tax_left -= e.tax;
        }
        g.tax = if g.taxable == taxable_left {
            tax_left
        } else if inv.inclusive {
            (g.gross - g.taxable).clamp(0, tax_left.max(0))
        } else {
            percent_of(g.taxable, g.rate.percent).ok_or_else(too_large)?.clamp(0, tax_left.max(0))
        };
    }

    let subtotal: i64 = lines.iter().map(|l| l.net_cents).sum();
    let taxable: i64 = sets.iter().map(|c| c.taxable).sum();
    let (allowances, charges) = if taxable <= subtotal { (subtotal - taxable, 0) } else { (0, taxable - subtotal) };
    let tax: i64 = groups.iter().map(|g| g.tax).sum();
    let total = taxable + tax;
    if total <= 0 {
        let path = match request {
            CreditRequest::Lines(_) => "lines",
            CreditRequest::Amount { .. } => "amount_cents",
            CreditRequest::Whole => "invoice_id",
        };
        return Err(refuse(
            path,
            "nothing would be credited: what was asked for is already credited (or comes to 0)",
            "lines, quantities or an amount the invoice still has to credit",
        ));
    }
    Ok(Figures { lines, sets, groups, subtotal, allowances, charges, tax, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tax::VatCategory;
    use crate::domain::tax::engine::{Adjustment, AdjustmentKind, Discount, Draft, Line};
    use proptest::prelude::*;

    fn vat(percent: &str) -> AppliedRate {
        AppliedRate {
            tax_rate_id: format!("r{percent}"),
            name: format!("VAT {percent}"),
            percent: percent.parse().unwrap(),
            category: Some(VatCategory::S),
            jurisdiction: None,
            exemption_reason_code: None,
            exemption_reason: None,
        }
    }

    /// The invoice the engine makes of `draft`, as a credit reads it.
    fn invoice(draft: &Draft) -> Invoice {
        let calc = draft.calculate().unwrap();
        let lines = draft
            .lines
            .iter()
            .zip(&calc.lines)
            .enumerate()
            .map(|(i, (l, f))| InvoiceLine {
                line_no: i as i32 + 1,
                description: format!("line {}", i + 1),
                unit_code: "C62".into(),
                unit_price: l.unit_price,
                quantity: l.quantity,
                amount: f.amount,
                net: f.net,
                rates: l.rates.clone(),
            })
            .collect();
        let mut set_adjustments = vec![SetAdjustment::default(); calc.sets.len()];
        for a in &calc.adjustments {
            let sign = if a.kind == AdjustmentKind::Allowance { -1 } else { 1 };
            for p in &a.parts {
                set_adjustments[p.set].net += sign * p.net;
                set_adjustments[p.set].amount += sign * p.amount;
            }
        }
        Invoice { mode: draft.mode, inclusive: draft.inclusive, lines, set_adjustments, groups: calc.groups }
    }

    fn line(qty: &str, price: i64, rate: &str) -> Line {
        Line { quantity: qty.parse().unwrap(), unit_price: price, discount: None, rates: vec![vat(rate)] }
    }

    #[test]
    fn a_whole_credit_is_the_invoice() {
        let draft = Draft {
            mode: TaxMode::Vat,
            inclusive: false,
            lines: vec![line("3", 3333, "19"), line("1.5", 999, "7")],
            adjustments: vec![Adjustment { kind: AdjustmentKind::Allowance, amount: Discount::Percent(Decimal::TEN) }],
        };
        let calc = draft.calculate().unwrap();
        let f = credit(&invoice(&draft), &[], &CreditRequest::Whole).unwrap();
        assert_eq!(f.total, calc.total);
        assert_eq!(f.tax, calc.tax);
        assert_eq!(
            f.groups.iter().map(|g| (g.taxable, g.tax)).collect::<Vec<_>>(),
            calc.groups.iter().map(|g| (g.taxable, g.tax)).collect::<Vec<_>>()
        );
        assert_eq!(f.subtotal - f.allowances + f.charges + f.tax, f.total);
        // Nothing is left after it.
        assert!(credit(&invoice(&draft), &[f], &CreditRequest::Whole).is_err());
    }

    #[test]
    fn one_line_by_quantity_hand_computed() {
        // 2 × 50.00 at 19 % and 1 × 20.00 at 7 %, no allowances. Return one of the two: 50.00 net,
        // 9.50 VAT, 59.50 in all.
        let draft = Draft {
            mode: TaxMode::Vat,
            inclusive: false,
            lines: vec![line("2", 5000, "19"), line("1", 2000, "7")],
            adjustments: vec![],
        };
        let ask = CreditRequest::Lines(vec![LineCredit { line_no: 1, by: LineCreditBy::Quantity(Decimal::ONE) }]);
        let f = credit(&invoice(&draft), &[], &ask).unwrap();
        assert_eq!((f.subtotal, f.tax, f.total), (5000, 950, 5950));
        // A second one takes the rest of line 1; a third is refused with what is left.
        let second = credit(&invoice(&draft), std::slice::from_ref(&f), &ask).unwrap();
        assert_eq!(second.total, 5950);
        let err = credit(&invoice(&draft), &[f, second], &ask).unwrap_err();
        assert_eq!(err.path, "lines[0].quantity");
        assert!(err.expected.contains("to 0"), "{err:?}");
    }

    #[test]
    fn a_custom_amount_in_one_group_is_capped_by_its_taxable() {
        let draft = Draft {
            mode: TaxMode::Vat,
            inclusive: false,
            lines: vec![line("1", 10000, "19"), line("1", 2000, "7")],
            adjustments: vec![],
        };
        let ask = |amount| CreditRequest::Amount { group: Some("S:7".into()), amount, description: "price".into() };
        let f = credit(&invoice(&draft), &[], &ask(500)).unwrap();
        assert_eq!((f.subtotal, f.tax, f.total), (500, 35, 535));
        let err = credit(&invoice(&draft), &[f], &ask(1501)).unwrap_err();
        assert_eq!(err.expected, "an amount from 1 to 1500");
        let no_group =
            credit(&invoice(&draft), &[], &CreditRequest::Amount { group: None, amount: 1, description: "x".into() });
        assert_eq!(no_group.unwrap_err().path, "tax_group");
    }

    fn arb_draft() -> impl Strategy<Value = Draft> {
        let rate = prop_oneof![Just("19"), Just("7"), Just("0")];
        let line = (1u32..=40_000, 0i64..=200_000, rate).prop_map(|(q, p, r)| Line {
            quantity: Decimal::new(q.into(), 2),
            unit_price: p,
            discount: None,
            rates: vec![vat(r)],
        });
        (prop::collection::vec(line, 1..5), any::<bool>(), 0u32..=30, 0i64..=500).prop_map(
            |(lines, inclusive, pct, charge)| Draft {
                mode: TaxMode::Vat,
                inclusive,
                lines,
                adjustments: vec![
                    Adjustment { kind: AdjustmentKind::Allowance, amount: Discount::Percent(Decimal::from(pct)) },
                    Adjustment { kind: AdjustmentKind::Charge, amount: Discount::Amount(charge) },
                ],
            },
        )
    }

    proptest! {
        /// Credit notes of random lines and quantities until nothing is left: no group's taxable or
        /// tax is ever exceeded, each note adds up, and together they are exactly the invoice.
        #[test]
        fn credits_never_exceed_and_end_exactly(draft in arb_draft(), picks in prop::collection::vec((0usize..5, 1u32..=100), 0..8)) {
            let Ok(calc) = draft.calculate() else { return Ok(()) };
            prop_assume!(calc.total > 0);
            let inv = invoice(&draft);
            let mut notes: Vec<Figures> = vec![];
            for (pick, percent) in picks {
                let l = &inv.lines[pick % inv.lines.len()];
                let q = (l.quantity * Decimal::from(percent) / Decimal::ONE_HUNDRED).round_dp(2);
                if q <= Decimal::ZERO { continue }
                let ask = CreditRequest::Lines(vec![LineCredit { line_no: l.line_no, by: LineCreditBy::Quantity(q) }]);
                if let Ok(f) = credit(&inv, &notes, &ask) {
                    prop_assert_eq!(f.subtotal - f.allowances + f.charges + f.tax, f.total);
                    notes.push(f);
                }
                for g in &calc.groups {
                    let t: i64 = notes.iter().flat_map(|n| &n.groups).filter(|x| x.key == g.key).map(|x| x.taxable).sum();
                    let x: i64 = notes.iter().flat_map(|n| &n.groups).filter(|x| x.key == g.key).map(|x| x.tax).sum();
                    prop_assert!(t <= g.taxable && x <= g.tax, "group {} over-credited: {t}/{} {x}/{}", g.key, g.taxable, g.tax);
                }
            }
            if let Ok(rest) = credit(&inv, &notes, &CreditRequest::Whole) { notes.push(rest) }
            let total: i64 = notes.iter().map(|n| n.total).sum();
            prop_assert_eq!(total, calc.total);
        }
    }
}
