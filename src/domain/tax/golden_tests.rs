//! Golden invoices: figures worked out by hand (the arithmetic is in the comments), never pasted
//! from the engine's output. Amounts are integer minor units (cents; yen for JPY; fils for KWD).
//!
//! Each row gives, per line `[gross, discount, amount, net]`; per adjustment `(amount, [part per
//! tax set])` (and, when prices include tax, the parts' nets); per group `(key, taxable, tax)`;
//! and the totals `[subtotal, allowances, charges, taxable, tax, total]`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::VatCategory::{self, AE, E, G, K, L, M, O, S, Z};
use super::engine::{
    Adjustment, AdjustmentKind, Calculation, Discount, Draft, Line, largest_remainder, percent_of, round,
};
use super::{AppliedRate, TaxMode};

// ---------------------------------------------------------------------------------------------
// Builders

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn rate(id: &str, percent: &str) -> AppliedRate {
    AppliedRate {
        tax_rate_id: id.to_owned(),
        name: id.to_owned(),
        percent: dec(percent),
        category: None,
        jurisdiction: None,
        exemption_reason_code: None,
        exemption_reason: None,
    }
}

/// A VAT rate.
fn vat(id: &str, category: VatCategory, percent: &str) -> AppliedRate {
    AppliedRate { category: Some(category), ..rate(id, percent) }
}

/// A zero VAT rate with its exemption reason (E, AE, K, G, O).
fn exempt(id: &str, category: VatCategory, code: &str, reason: &str) -> AppliedRate {
    AppliedRate {
        exemption_reason_code: Some(code.to_owned()),
        exemption_reason: Some(reason.to_owned()),
        ..vat(id, category, "0")
    }
}

/// A US sales-tax component.
fn sales(id: &str, jurisdiction: &str, percent: &str) -> AppliedRate {
    AppliedRate { jurisdiction: Some(jurisdiction.to_owned()), ..rate(id, percent) }
}

fn s19() -> AppliedRate {
    vat("de_19", S, "19")
}

fn s7() -> AppliedRate {
    vat("de_7", S, "7")
}

fn z0() -> AppliedRate {
    vat("zero", Z, "0")
}

fn state() -> AppliedRate {
    sales("ca_state", "CA", "6.25")
}

fn county() -> AppliedRate {
    sales("la_county", "Los Angeles County", "1")
}

fn line(qty: &str, unit_price: i64, discount: Option<Discount>, rates: &[AppliedRate]) -> Line {
    Line { quantity: dec(qty), unit_price, discount, rates: rates.to_vec() }
}

fn pct(p: &str) -> Discount {
    Discount::Percent(dec(p))
}

fn amt(minor: i64) -> Discount {
    Discount::Amount(minor)
}

fn allowance(amount: Discount) -> Adjustment {
    Adjustment { kind: AdjustmentKind::Allowance, amount }
}

fn charge(amount: Discount) -> Adjustment {
    Adjustment { kind: AdjustmentKind::Charge, amount }
}

fn draft(mode: TaxMode, inclusive: bool, lines: Vec<Line>, adjustments: Vec<Adjustment>) -> Draft {
    Draft { mode, inclusive, lines, adjustments }
}

/// VAT, prices net of tax.
fn excl(lines: Vec<Line>, adjustments: Vec<Adjustment>) -> Draft {
    draft(TaxMode::Vat, false, lines, adjustments)
}

/// VAT, prices including tax.
fn incl(lines: Vec<Line>, adjustments: Vec<Adjustment>) -> Draft {
    draft(TaxMode::Vat, true, lines, adjustments)
}

// ---------------------------------------------------------------------------------------------
// The table

struct Case {
    name: &'static str,
    draft: Draft,
    want: Want,
}

struct Want {
    /// Per line: `[gross, discount, amount, net]`.
    lines: &'static [[i64; 4]],
    /// Per adjustment: `(amount, part amounts in tax-set order)`.
    adjustments: &'static [(i64, &'static [i64])],
    /// Per adjustment, its parts' nets; empty: the nets are the amounts (prices net of tax).
    part_nets: &'static [&'static [i64]],
    /// Per group: `(key, taxable, tax)`.
    groups: &'static [(&'static str, i64, i64)],
    /// `[subtotal, allowances, charges, taxable, tax, total]`.
    totals: [i64; 6],
}

const NO_ADJUSTMENTS: &[(i64, &[i64])] = &[];

fn cases() -> Vec<Case> {
    vec![
        // ---- One VAT category each ----------------------------------------------------------
        Case {
            name: "s19_standard",
            draft: excl(vec![line("3", 3333, None, &[s19()])], vec![]),
            want: Want {
                // 3 × 33.33 = 99.99
                lines: &[[9999, 0, 9999, 9999]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 19 % of 99.99 = 18.9981 → 19.00
                groups: &[("S:19", 9999, 1900)],
                totals: [9999, 0, 0, 9999, 1900, 11899],
            },
        },
        Case {
            name: "s7_reduced",
            draft: excl(vec![line("2", 1250, None, &[s7()]), line("1", 499, None, &[s7()])], vec![]),
            want: Want {
                // 2 × 12.50 = 25.00; 1 × 4.99 = 4.99
                lines: &[[2500, 0, 2500, 2500], [499, 0, 499, 499]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 7 % of 29.99 = 2.0993 → 2.10
                groups: &[("S:7", 2999, 210)],
                totals: [2999, 0, 0, 2999, 210, 3209],
            },
        },
        Case {
            name: "z_zero_rated",
            draft: excl(vec![line("1", 12000, None, &[z0()])], vec![]),
            want: Want {
                lines: &[[12000, 0, 12000, 12000]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 0 % of 120.00 = 0
                groups: &[("Z:0", 12000, 0)],
                totals: [12000, 0, 0, 12000, 0, 12000],
            },
        },
        Case {
            name: "e_exempt_with_reason_beside_s19",
            draft: excl(
                vec![
                    line("4", 4500, None, &[exempt("exempt_med", E, "VATEX-EU-132-1B", "Art. 132(1)(b)")]),
                    line("1", 1000, None, &[s19()]),
                ],
                vec![],
            ),
            want: Want {
                // 4 × 45.00 = 180.00; 1 × 10.00
                lines: &[[18000, 0, 18000, 18000], [1000, 0, 1000, 1000]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // E: no tax; 19 % of 10.00 = 1.90
                groups: &[("E:0", 18000, 0), ("S:19", 1000, 190)],
                totals: [19000, 0, 0, 19000, 190, 19190],
            },
        },
        Case {
            name: "ae_reverse_charge_with_line_discount",
            draft: excl(
                vec![line("10", 9500, Some(pct("5")), &[exempt("rc", AE, "VATEX-EU-AE", "Reverse charge")])],
                vec![],
            ),
            want: Want {
                // 10 × 95.00 = 950.00; 5 % = 47.50; 950.00 − 47.50 = 902.50
                lines: &[[95000, 4750, 90250, 90250]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                groups: &[("AE:0", 90250, 0)],
                totals: [90250, 0, 0, 90250, 0, 90250],
            },
        },
        Case {
            name: "k_intra_community_with_charge",
            draft: excl(
                vec![line("250", 320, None, &[exempt("ic", K, "VATEX-EU-IC", "Intra-Community supply")])],
                vec![charge(amt(2500))],
            ),
            want: Want {
                // 250 × 3.20 = 800.00
                lines: &[[80000, 0, 80000, 80000]],
                // one tax set: the whole 25.00 on it
                adjustments: &[(2500, &[2500])],
                part_nets: &[],
                // 800.00 + 25.00 = 825.00, no tax
                groups: &[("K:0", 82500, 0)],
                totals: [80000, 0, 2500, 82500, 0, 82500],
            },
        },
        Case {
            name: "g_export",
            draft: excl(vec![line("1.5", 20000, None, &[exempt("export", G, "VATEX-EU-G", "Export")])], vec![]),
            want: Want {
                // 1.5 × 200.00 = 300.00
                lines: &[[30000, 0, 30000, 30000]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                groups: &[("G:0", 30000, 0)],
                totals: [30000, 0, 0, 30000, 0, 30000],
            },
        },
        Case {
            name: "o_outside_scope",
            draft: excl(vec![line("2", 4999, None, &[exempt("oos", O, "VATEX-EU-O", "Not subject to VAT")])], vec![]),
            want: Want {
                // 2 × 49.99 = 99.98
                lines: &[[9998, 0, 9998, 9998]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                groups: &[("O:0", 9998, 0)],
                totals: [9998, 0, 0, 9998, 0, 9998],
            },
        },
        Case {
            name: "l_igic_7",
            draft: excl(vec![line("3", 1995, None, &[vat("igic", L, "7")])], vec![]),
            want: Want {
                // 3 × 19.95 = 59.85
                lines: &[[5985, 0, 5985, 5985]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 7 % of 59.85 = 4.1895 → 4.19
                groups: &[("L:7", 5985, 419)],
                totals: [5985, 0, 0, 5985, 419, 6404],
            },
        },
        Case {
            name: "m_ipsi_half_percent",
            draft: excl(vec![line("1", 8765, None, &[vat("ipsi", M, "0.5")])], vec![]),
            want: Want {
                lines: &[[8765, 0, 8765, 8765]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 0.5 % of 87.65 = 0.43825 → 0.44
                groups: &[("M:0.5", 8765, 44)],
                totals: [8765, 0, 0, 8765, 44, 8809],
            },
        },
        // ---- Several rates ------------------------------------------------------------------
        Case {
            name: "mixed_19_and_7",
            draft: excl(vec![line("2", 1000, None, &[s19()]), line("3", 500, None, &[s7()])], vec![]),
            want: Want {
                // 2 × 10.00 = 20.00; 3 × 5.00 = 15.00
                lines: &[[2000, 0, 2000, 2000], [1500, 0, 1500, 1500]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 19 % of 20.00 = 3.80; 7 % of 15.00 = 1.05
                groups: &[("S:19", 2000, 380), ("S:7", 1500, 105)],
                totals: [3500, 0, 0, 3500, 485, 3985],
            },
        },
        Case {
            name: "three_rates",
            draft: excl(
                vec![line("1", 10001, None, &[s19()]), line("1", 3333, None, &[s7()]), line("1", 5000, None, &[z0()])],
                vec![],
            ),
            want: Want {
                lines: &[[10001, 0, 10001, 10001], [3333, 0, 3333, 3333], [5000, 0, 5000, 5000]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 19 % of 100.01 = 19.0019 → 19.00; 7 % of 33.33 = 2.3331 → 2.33; 0
                groups: &[("S:19", 10001, 1900), ("S:7", 3333, 233), ("Z:0", 5000, 0)],
                // 100.01 + 33.33 + 50.00 = 183.34; 19.00 + 2.33 = 21.33
                totals: [18334, 0, 0, 18334, 2133, 20467],
            },
        },
        Case {
            name: "same_rate_two_records_one_group",
            draft: excl(
                vec![line("1", 5555, None, &[s19()]), line("1", 1111, None, &[vat("de_19_old", S, "19.00")])],
                vec![],
            ),
            want: Want {
                lines: &[[5555, 0, 5555, 5555], [1111, 0, 1111, 1111]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // "19.00" and "19" are one group S:19: 19 % of 66.66 = 12.6654 → 12.67
                // (per line it would be 10.5545 → 10.55 + 2.1109 → 2.11 = 12.66)
                groups: &[("S:19", 6666, 1267)],
                totals: [6666, 0, 0, 6666, 1267, 7933],
            },
        },
        // ---- Prices including tax -----------------------------------------------------------
        Case {
            name: "inclusive_residual_tie_first_line",
            draft: incl(
                vec![line("1", 1000, None, &[s19()]), line("1", 1000, None, &[s19()]), line("1", 1000, None, &[s19()])],
                vec![],
            ),
            want: Want {
                // each: 10.00 × 100/119 = 8.40336 → 8.40; Σ 25.20;
                // group: 30.00 × 100/119 = 25.21008 → 25.21; residual +0.01 on the largest line,
                // all equal → the first
                lines: &[[1000, 0, 1000, 841], [1000, 0, 1000, 840], [1000, 0, 1000, 840]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // tax = 30.00 − 25.21 = 4.79
                groups: &[("S:19", 2521, 479)],
                totals: [2521, 0, 0, 2521, 479, 3000],
            },
        },
        Case {
            name: "inclusive_mixed_19_and_7",
            draft: incl(
                vec![
                    line("1", 999, None, &[s19()]),
                    line("1", 499, None, &[s19()]),
                    line("3", 199, None, &[s7()]),
                    line("1", 99, None, &[s7()]),
                ],
                vec![],
            ),
            want: Want {
                // S:19: 9.99 → 999×100/119 = 839.496 → 839; 4.99 → 419.328 → 419; Σ 1258;
                //       group 14.98 → 1498×100/119 = 1258.824 → 1259; residual +1 on 9.99 → 840
                // S:7:  3 × 1.99 = 5.97 → 597×100/107 = 557.944 → 558; 0.99 → 92.523 → 93; Σ 651;
                //       group 6.96 → 696×100/107 = 650.467 → 650; residual −1 on 5.97 → 557
                lines: &[[999, 0, 999, 840], [499, 0, 499, 419], [597, 0, 597, 557], [99, 0, 99, 93]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // tax: 14.98 − 12.59 = 2.39; 6.96 − 6.50 = 0.46
                groups: &[("S:19", 1259, 239), ("S:7", 650, 46)],
                // total = shelf price 9.99 + 4.99 + 5.97 + 0.99 = 21.94
                totals: [1909, 0, 0, 1909, 285, 2194],
            },
        },
        Case {
            name: "inclusive_residual_on_largest_line",
            draft: incl(
                vec![line("1", 1500, None, &[s19()]), line("1", 5950, None, &[s19()]), line("1", 1500, None, &[s19()])],
                vec![],
            ),
            want: Want {
                // 15.00 → 1500×100/119 = 1260.504 → 1261 (twice); 59.50 → 5000 exactly; Σ 7522;
                // group 89.50 → 8950×100/119 = 7521.008 → 7521; residual −1 on the largest (59.50)
                lines: &[[1500, 0, 1500, 1261], [5950, 0, 5950, 4999], [1500, 0, 1500, 1261]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // tax = 89.50 − 75.21 = 14.29
                groups: &[("S:19", 7521, 1429)],
                totals: [7521, 0, 0, 7521, 1429, 8950],
            },
        },
        Case {
            name: "inclusive_with_allowance",
            draft: incl(
                vec![
                    line("1", 1000, None, &[s19()]),
                    line("1", 1000, None, &[s19()]),
                    line("1", 1000, None, &[s19()]),
                    line("1", 500, None, &[s7()]),
                ],
                vec![allowance(amt(100))],
            ),
            want: Want {
                // S:19 lines 10.00 → 8.40336 → 840 each; the allowance part 0.86 → 86×100/119 = 72.27 → 72;
                //   Σ 2520 − 72 = 2448; group (30.00 − 0.86) = 29.14 → 2914×100/119 = 2448.739 → 2449;
                //   residual +1 on the largest line (tie → first) → 841
                // S:7 line 5.00 → 500×100/107 = 467.29 → 467; part 0.14 → 13.08 → 13; Σ 454;
                //   group 4.86 → 486×100/107 = 454.206 → 454; residual 0
                lines: &[[1000, 0, 1000, 841], [1000, 0, 1000, 840], [1000, 0, 1000, 840], [500, 0, 500, 467]],
                // 1.00 over [30.00, 5.00]: 100×3000/3500 = 85.714 → 85 r 2500; 100×500/3500 = 14.286 → 14 r 1000;
                // one unit left → set 0 (larger remainder) → [86, 14]
                adjustments: &[(100, &[86, 14])],
                part_nets: &[&[72, 13]],
                // tax: 29.14 − 24.49 = 4.65; 4.86 − 4.54 = 0.32
                groups: &[("S:19", 2449, 465), ("S:7", 454, 32)],
                // subtotal 841+840+840+467 = 2988; allowances net 72+13 = 85; 2988 − 85 = 2903;
                // total 29.03 + 4.97 = 34.00 = 35.00 − 1.00
                totals: [2988, 85, 0, 2903, 497, 3400],
            },
        },
        // ---- Line discounts -----------------------------------------------------------------
        Case {
            name: "line_discount_percent",
            draft: excl(vec![line("3", 3333, Some(pct("12.5")), &[s19()])], vec![]),
            want: Want {
                // 3 × 33.33 = 99.99; 12.5 % = 12.49875 → 12.50; 99.99 − 12.50 = 87.49
                lines: &[[9999, 1250, 8749, 8749]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 19 % of 87.49 = 16.6231 → 16.62
                groups: &[("S:19", 8749, 1662)],
                totals: [8749, 0, 0, 8749, 1662, 10411],
            },
        },
        Case {
            name: "line_discount_amount",
            draft: excl(vec![line("2", 4990, Some(amt(980)), &[s7()])], vec![]),
            want: Want {
                // 2 × 49.90 = 99.80; − 9.80 = 90.00
                lines: &[[9980, 980, 9000, 9000]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 7 % of 90.00 = 6.30
                groups: &[("S:7", 9000, 630)],
                totals: [9000, 0, 0, 9000, 630, 9630],
            },
        },
        Case {
            name: "line_discount_100_percent",
            draft: excl(vec![line("1.3333", 777, Some(pct("100")), &[s19()]), line("1", 1000, None, &[s19()])], vec![]),
            want: Want {
                // 1.3333 × 7.77 = 10.359741 → 10.36; 100 % of the rounded gross = 10.36 → 0.00 left
                lines: &[[1036, 1036, 0, 0], [1000, 0, 1000, 1000]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 19 % of 10.00 = 1.90
                groups: &[("S:19", 1000, 190)],
                totals: [1000, 0, 0, 1000, 190, 1190],
            },
        },
        // ---- Document allowances and charges ------------------------------------------------
        Case {
            name: "allowance_10_percent_mixed",
            draft: excl(
                vec![line("1", 12345, None, &[s19()]), line("1", 6789, None, &[s7()])],
                vec![allowance(pct("10"))],
            ),
            want: Want {
                lines: &[[12345, 0, 12345, 12345], [6789, 0, 6789, 6789]],
                // 10 % of 191.34 = 19.134 → 19.13;
                // 1913×12345 = 23 615 985 = 19134×1234 + 4629; 1913×6789 = 12 987 357 = 19134×678 + 14505;
                // 1234 + 678 = 1912, one left → set 1 (14505 > 4629) → [1234, 679]
                adjustments: &[(1913, &[1234, 679])],
                part_nets: &[],
                // S:19: 123.45 − 12.34 = 111.11, 19 % = 21.1109 → 21.11
                // S:7:  67.89 − 6.79 = 61.10, 7 % = 4.277 → 4.28
                groups: &[("S:19", 11111, 2111), ("S:7", 6110, 428)],
                // 191.34 − 19.13 = 172.21; 172.21 + 25.39 = 197.60
                totals: [19134, 1913, 0, 17221, 2539, 19760],
            },
        },
        Case {
            name: "allowance_amount_mixed",
            draft: excl(
                vec![line("2", 3000, None, &[s19()]), line("1", 4000, None, &[s7()])],
                vec![allowance(amt(500))],
            ),
            want: Want {
                lines: &[[6000, 0, 6000, 6000], [4000, 0, 4000, 4000]],
                // 5.00 × 60/100 = 3.00; × 40/100 = 2.00 (exact)
                adjustments: &[(500, &[300, 200])],
                part_nets: &[],
                // 57.00 × 19 % = 10.83; 38.00 × 7 % = 2.66
                groups: &[("S:19", 5700, 1083), ("S:7", 3800, 266)],
                totals: [10000, 500, 0, 9500, 1349, 10849],
            },
        },
        Case {
            name: "charge_shipping_split",
            draft: excl(vec![line("1", 7000, None, &[s19()]), line("1", 2999, None, &[s7()])], vec![charge(amt(495))]),
            want: Want {
                lines: &[[7000, 0, 7000, 7000], [2999, 0, 2999, 2999]],
                // 495×7000 = 3 465 000 = 9999×346 + 5346; 495×2999 = 1 484 505 = 9999×148 + 4653;
                // 346 + 148 = 494, one left → set 0 (5346 > 4653) → [347, 148]
                adjustments: &[(495, &[347, 148])],
                part_nets: &[],
                // S:19: 73.47 × 19 % = 13.9593 → 13.96; S:7: 31.47 × 7 % = 2.2029 → 2.20
                groups: &[("S:19", 7347, 1396), ("S:7", 3147, 220)],
                totals: [9999, 0, 495, 10494, 1616, 12110],
            },
        },
        Case {
            name: "charge_percent_split",
            draft: excl(vec![line("1", 3333, None, &[s19()]), line("1", 6667, None, &[s7()])], vec![charge(pct("3"))]),
            want: Want {
                lines: &[[3333, 0, 3333, 3333], [6667, 0, 6667, 6667]],
                // 3 % of 100.00 = 3.00; 300×3333 = 999 900 = 10000×99 + 9900; 300×6667 = 2 000 100 = 10000×200 + 100;
                // one left → set 0 → [100, 200]
                adjustments: &[(300, &[100, 200])],
                part_nets: &[],
                // 34.33 × 19 % = 6.5227 → 6.52; 68.67 × 7 % = 4.8069 → 4.81
                groups: &[("S:19", 3433, 652), ("S:7", 6867, 481)],
                totals: [10000, 0, 300, 10300, 1133, 11433],
            },
        },
        Case {
            name: "allowance_and_charge",
            draft: excl(
                vec![line("1", 8000, None, &[s19()]), line("1", 2000, None, &[s7()])],
                vec![allowance(pct("5")), charge(amt(690))],
            ),
            want: Want {
                lines: &[[8000, 0, 8000, 8000], [2000, 0, 2000, 2000]],
                // 5 % of 100.00 = 5.00 → 80/20: [4.00, 1.00]; 6.90 → 80/20: [5.52, 1.38] (exact)
                adjustments: &[(500, &[400, 100]), (690, &[552, 138])],
                part_nets: &[],
                // S:19: 80.00 − 4.00 + 5.52 = 81.52, 19 % = 15.4888 → 15.49
                // S:7:  20.00 − 1.00 + 1.38 = 20.38, 7 % = 1.4266 → 1.43
                groups: &[("S:19", 8152, 1549), ("S:7", 2038, 143)],
                totals: [10000, 500, 690, 10190, 1692, 11882],
            },
        },
        Case {
            name: "tie_break_earlier_sets_first",
            draft: excl(
                vec![line("1", 1000, None, &[s19()]), line("1", 1000, None, &[s7()]), line("1", 1000, None, &[z0()])],
                vec![allowance(amt(5))],
            ),
            want: Want {
                lines: &[[1000, 0, 1000, 1000], [1000, 0, 1000, 1000], [1000, 0, 1000, 1000]],
                // 5 × 1000/3000 = 1.667 each → 1, remainder 2000 each (a three-way tie);
                // two units left → sets 0 and 1 → [2, 2, 1]
                adjustments: &[(5, &[2, 2, 1])],
                part_nets: &[],
                // 9.98 × 19 % = 1.8962 → 1.90; 9.98 × 7 % = 0.6986 → 0.70; Z 9.99 → 0
                groups: &[("S:19", 998, 190), ("S:7", 998, 70), ("Z:0", 999, 0)],
                totals: [3000, 5, 0, 2995, 260, 3255],
            },
        },
        // ---- Decimal quantities -------------------------------------------------------------
        Case {
            name: "qty_1_5_hours_half_tax",
            draft: excl(vec![line("1.5", 8500, None, &[s19()])], vec![]),
            want: Want {
                // 1.5 × 85.00 = 127.50
                lines: &[[12750, 0, 12750, 12750]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 19 % of 127.50 = 24.225 → 24.23 (half → up)
                groups: &[("S:19", 12750, 2423)],
                totals: [12750, 0, 0, 12750, 2423, 15173],
            },
        },
        Case {
            name: "qty_0_3333_half_gross",
            draft: excl(vec![line("0.3333", 15000, None, &[s19()])], vec![]),
            want: Want {
                // 0.3333 × 150.00 = 49.995 → 50.00 (half → up)
                lines: &[[5000, 0, 5000, 5000]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 19 % of 50.00 = 9.50
                groups: &[("S:19", 5000, 950)],
                totals: [5000, 0, 0, 5000, 950, 5950],
            },
        },
        Case {
            name: "qty_2_125_kg",
            draft: excl(vec![line("2.125", 398, None, &[s7()])], vec![]),
            want: Want {
                // 2.125 × 3.98 = 8.4575 → 8.46
                lines: &[[846, 0, 846, 846]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 7 % of 8.46 = 0.5922 → 0.59
                groups: &[("S:7", 846, 59)],
                totals: [846, 0, 0, 846, 59, 905],
            },
        },
        // ---- Currencies with 0 and 3 decimals -----------------------------------------------
        Case {
            name: "jpy_whole_yen",
            draft: excl(
                vec![line("1", 999, None, &[vat("jp_10", S, "10")]), line("1", 555, None, &[vat("jp_8", S, "8")])],
                vec![],
            ),
            want: Want {
                lines: &[[999, 0, 999, 999], [555, 0, 555, 555]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 10 % of ¥999 = 99.9 → ¥100; 8 % of ¥555 = 44.4 → ¥44
                groups: &[("S:10", 999, 100), ("S:8", 555, 44)],
                totals: [1554, 0, 0, 1554, 144, 1698],
            },
        },
        Case {
            name: "jpy_half_yen_gross",
            draft: excl(vec![line("2.5", 333, None, &[vat("jp_10", S, "10")])], vec![]),
            want: Want {
                // 2.5 × ¥333 = 832.5 → ¥833
                lines: &[[833, 0, 833, 833]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 10 % of ¥833 = 83.3 → ¥83
                groups: &[("S:10", 833, 83)],
                totals: [833, 0, 0, 833, 83, 916],
            },
        },
        Case {
            name: "kwd_fils",
            draft: excl(
                vec![
                    line("2", 12345, None, &[vat("gcc_5", S, "5")]),
                    line("0.75", 1999, None, &[vat("gcc_5", S, "5")]),
                ],
                vec![],
            ),
            want: Want {
                // 2 × 12.345 KWD = 24.690; 0.75 × 1.999 = 1.49925 → 1.499
                lines: &[[24690, 0, 24690, 24690], [1499, 0, 1499, 1499]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 5 % of 26.189 = 1.30945 → 1.309 (below half: down)
                groups: &[("S:5", 26189, 1309)],
                totals: [26189, 0, 0, 26189, 1309, 27498],
            },
        },
        Case {
            name: "kwd_allowance_decimal_percent",
            draft: excl(
                vec![line("1", 10000, None, &[vat("gcc_5", S, "5")]), line("1", 5000, None, &[z0()])],
                vec![allowance(pct("2.5"))],
            ),
            want: Want {
                lines: &[[10000, 0, 10000, 10000], [5000, 0, 5000, 5000]],
                // 2.5 % of 15.000 = 0.375 KWD; 375 × 2/3 = 250, 375 × 1/3 = 125 (exact)
                adjustments: &[(375, &[250, 125])],
                part_nets: &[],
                // 9.750 × 5 % = 0.4875 → 0.488 (half → up); Z 4.875 → 0
                groups: &[("S:5", 9750, 488), ("Z:0", 4875, 0)],
                totals: [15000, 375, 0, 14625, 488, 15113],
            },
        },
        // ---- Half-way rounding ------------------------------------------------------------
        Case {
            name: "half_tax_9_5_up",
            draft: excl(vec![line("1", 50, None, &[s19()])], vec![]),
            want: Want {
                lines: &[[50, 0, 50, 50]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 19 % of 0.50 = 0.095 → 0.10
                groups: &[("S:19", 50, 10)],
                totals: [50, 0, 0, 50, 10, 60],
            },
        },
        Case {
            name: "half_tax_8_5_up_not_even",
            draft: excl(vec![line("1", 50, None, &[vat("s17", S, "17")])], vec![]),
            want: Want {
                lines: &[[50, 0, 50, 50]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 17 % of 0.50 = 0.085 → 0.09 (half away from zero; banker's would give 0.08)
                groups: &[("S:17", 50, 9)],
                totals: [50, 0, 0, 50, 9, 59],
            },
        },
        Case {
            name: "per_group_not_per_line_odoo_36675",
            draft: excl(
                vec![line("1", 5555, None, &[vat("pt_23", S, "23")]), line("1", 1111, None, &[vat("pt_23", S, "23")])],
                vec![],
            ),
            want: Want {
                lines: &[[5555, 0, 5555, 5555], [1111, 0, 1111, 1111]],
                adjustments: NO_ADJUSTMENTS,
                part_nets: &[],
                // 23 % of 66.66 = 15.3318 → 15.33 (per line: 12.7765 → 12.78 + 2.5553 → 2.56 = 15.34)
                groups: &[("S:23", 6666, 1533)],
                totals: [6666, 0, 0, 6666, 1533, 8199],
            },
        },
        // ---- US sales tax and no tax --------------------------------------------------------
        Case {
            name: "us_sales_tax_taxed_untaxed_charge",
            draft: draft(
                TaxMode::SalesTax,
                false,
                vec![
                    line("2", 1999, None, &[state(), county()]),
                    line("1", 4500, None, &[state(), county()]),
                    line("1", 2500, None, &[]),
                ],
                vec![charge(amt(999))],
            ),
            want: Want {
                // 2 × 19.99 = 39.98; 45.00; 25.00 (untaxed)
                lines: &[[3998, 0, 3998, 3998], [4500, 0, 4500, 4500], [2500, 0, 2500, 2500]],
                // sets: taxed 84.98, untaxed 25.00 (Σ 109.98);
                // 999×8498 = 8 489 502 = 10998×771 + 10044; 999×2500 = 2 497 500 = 10998×227 + 954;
                // one left → set 0 → [772, 227]
                adjustments: &[(999, &[772, 227])],
                part_nets: &[],
                // taxable 84.98 + 7.72 = 92.70; state 6.25 % = 5.79375 → 5.79; county 1 % = 0.927 → 0.93
                groups: &[("ca_state", 9270, 579), ("la_county", 9270, 93)],
                // 109.98 + 9.99 = 119.97; + 6.72 = 126.69
                totals: [10998, 0, 999, 11997, 672, 12669],
            },
        },
        Case {
            name: "us_sales_tax_state_only_set",
            draft: draft(
                TaxMode::SalesTax,
                false,
                vec![line("1", 10000, None, &[state(), county()]), line("1", 5000, None, &[state()])],
                vec![allowance(pct("10"))],
            ),
            want: Want {
                lines: &[[10000, 0, 10000, 10000], [5000, 0, 5000, 5000]],
                // 10 % of 150.00 = 15.00 → 2:1 → [10.00, 5.00]
                adjustments: &[(1500, &[1000, 500])],
                part_nets: &[],
                // state over both sets: 90.00 + 45.00 = 135.00 × 6.25 % = 8.4375 → 8.44
                // county over the first: 90.00 × 1 % = 0.90
                groups: &[("ca_state", 13500, 844), ("la_county", 9000, 90)],
                totals: [15000, 1500, 0, 13500, 934, 14434],
            },
        },
        Case {
            name: "no_tax_with_allowance",
            draft: draft(
                TaxMode::None,
                false,
                vec![line("3", 1200, None, &[]), line("1", 750, None, &[])],
                vec![allowance(pct("10"))],
            ),
            want: Want {
                // 3 × 12.00 = 36.00; 7.50
                lines: &[[3600, 0, 3600, 3600], [750, 0, 750, 750]],
                // 10 % of 43.50 = 4.35, all on the one (untaxed) set
                adjustments: &[(435, &[435])],
                part_nets: &[],
                groups: &[],
                totals: [4350, 435, 0, 3915, 0, 3915],
            },
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// The check

/// The figures a row asserts, in one comparable shape.
#[derive(Debug, PartialEq, Eq)]
struct Figures {
    lines: Vec<[i64; 4]>,
    adjustments: Vec<(i64, Vec<i64>)>,
    part_nets: Vec<Vec<i64>>,
    groups: BTreeMap<String, (i64, i64)>,
    totals: [i64; 6],
}

impl Want {
    fn figures(&self) -> Figures {
        let adjustments: Vec<(i64, Vec<i64>)> = self.adjustments.iter().map(|(a, p)| (*a, p.to_vec())).collect();
        let part_nets = if self.part_nets.is_empty() {
            adjustments.iter().map(|(_, p)| p.clone()).collect()
        } else {
            self.part_nets.iter().map(|p| p.to_vec()).collect()
        };
        Figures {
            lines: self.lines.to_vec(),
            adjustments,
            part_nets,
            groups: self.groups.iter().map(|(k, t, x)| ((*k).to_owned(), (*t, *x))).collect(),
            totals: self.totals,
        }
    }
}

fn figures(c: &Calculation) -> Figures {
    Figures {
        lines: c.lines.iter().map(|l| [l.gross, l.discount, l.amount, l.net]).collect(),
        adjustments: c.adjustments.iter().map(|a| (a.amount, a.parts.iter().map(|p| p.amount).collect())).collect(),
        part_nets: c.adjustments.iter().map(|a| a.parts.iter().map(|p| p.net).collect()).collect(),
        groups: c.groups.iter().map(|g| (g.key.clone(), (g.taxable, g.tax))).collect(),
        totals: [c.subtotal, c.allowances, c.charges, c.taxable, c.tax, c.total],
    }
}

/// What differs between a row and the engine, if anything.
fn check(case: &Case) -> Result<(), String> {
    let calc = case.draft.calculate().map_err(|e| format!("no figures: {e}"))?;
    let (want, got) = (case.want.figures(), figures(&calc));
    let mut diffs = Vec::new();
    if calc.groups.len() != got.groups.len() {
        diffs.push(format!("duplicate group keys: {:?}", calc.groups.iter().map(|g| &g.key).collect::<Vec<_>>()));
    }
    macro_rules! field {
        ($f:ident) => {
            if want.$f != got.$f {
                diffs.push(format!("{}: want {:?}, got {:?}", stringify!($f), want.$f, got.$f));
            }
        };
    }
    field!(lines);
    field!(adjustments);
    field!(part_nets);
    field!(groups);
    field!(totals);
    if let Err(rule) = calc.identities(case.draft.mode) {
        diffs.push(format!("identity {rule} broken"));
    }
    if diffs.is_empty() { Ok(()) } else { Err(diffs.join("; ")) }
}

#[test]
fn golden_invoices() {
    let cases = cases();
    assert!(cases.len() >= 32, "only {} golden invoices", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique");
    let failures: Vec<String> =
        cases.iter().filter_map(|c| check(c).err().map(|why| format!("  {}: {why}", c.name))).collect();
    assert!(
        failures.is_empty(),
        "{} of {} golden invoices differ from the hand figures:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// largest_remainder, round, percent_of

#[test]
fn largest_remainder_parts_sum_to_total() {
    let weights: [&[i64]; 6] = [&[1], &[1, 2], &[3, 3, 4], &[12345, 6789], &[7, 0, 13, 1], &[1, 1, 1, 1, 1, 1, 1]];
    for w in weights {
        for total in [0, 1, 2, 5, 99, 100, 101, 1913, 999_999] {
            let parts = largest_remainder(total, w).expect("parts");
            assert_eq!(parts.len(), w.len());
            assert_eq!(parts.iter().sum::<i64>(), total, "{total} over {w:?}: {parts:?}");
            assert!(parts.iter().all(|&p| p >= 0), "{total} over {w:?}: {parts:?}");
        }
    }
}

#[test]
fn largest_remainder_known_splits() {
    // 19.13 over [123.45, 67.89]: floors 1234 r 4629 and 678 r 14505 → the unit to the second.
    assert_eq!(largest_remainder(1913, &[12345, 6789]), Some(vec![1234, 679]));
    // 10 over [1, 2]: 3.33 → 3 r 1, 6.67 → 6 r 2 → the unit to the second.
    assert_eq!(largest_remainder(10, &[1, 2]), Some(vec![3, 7]));
    // Exact: 10 over [3, 3, 4].
    assert_eq!(largest_remainder(10, &[3, 3, 4]), Some(vec![3, 3, 4]));
    // A zero weight gets nothing.
    assert_eq!(largest_remainder(5, &[0, 10]), Some(vec![0, 5]));
}

#[test]
fn largest_remainder_ties_go_to_the_earlier_part() {
    // 1 over [10.00, 10.00]: both 0 r 1000.
    assert_eq!(largest_remainder(1, &[1000, 1000]), Some(vec![1, 0]));
    // 100 over three equal: 33 r 1 each → the first.
    assert_eq!(largest_remainder(100, &[1, 1, 1]), Some(vec![34, 33, 33]));
    // 2 over three equal: 0 r 2 each → the first two.
    assert_eq!(largest_remainder(2, &[5, 5, 5]), Some(vec![1, 1, 0]));
    // 5 over [1000, 1000, 1000]: 1 r 2000 each → the first two.
    assert_eq!(largest_remainder(5, &[1000, 1000, 1000]), Some(vec![2, 2, 1]));
}

#[test]
fn largest_remainder_zero_weights_and_no_parts() {
    assert_eq!(largest_remainder(7, &[0, 0]), Some(vec![7, 0]));
    assert_eq!(largest_remainder(0, &[0, 0, 0]), Some(vec![0, 0, 0]));
    assert_eq!(largest_remainder(0, &[]), Some(vec![]));
    assert_eq!(largest_remainder(5, &[]), None);
}

#[test]
fn round_half_away_from_zero() {
    for (x, want) in [
        ("0.5", 1),
        ("-0.5", -1),
        ("2.5", 3),
        ("-2.5", -3),
        ("8.5", 9),
        ("-8.5", -9),
        ("9.5", 10),
        ("-9.5", -10),
        ("1.4999", 1),
        ("-1.4999", -1),
        ("1.5001", 2),
        ("4999.5", 5000),
        ("0", 0),
    ] {
        assert_eq!(round(dec(x)), Some(want), "round({x})");
    }
    assert_eq!(round(Decimal::MAX), None);
}

#[test]
fn percent_of_half_away_from_zero() {
    for (amount, percent, want) in [
        (50, "19", 10),     // 9.5 → 10
        (-50, "19", -10),   // −9.5 → −10
        (50, "17", 9),      // 8.5 → 9
        (-50, "17", -9),    // −8.5 → −9
        (1, "50", 1),       // 0.5 → 1
        (-1, "50", -1),     // −0.5 → −1
        (3, "50", 2),       // 1.5 → 2
        (-3, "50", -2),     // −1.5 → −2
        (999, "10", 100),   // 99.9 → 100
        (6666, "23", 1533), // 1533.18 → 1533
        (8765, "0.5", 44),  // 43.825 → 44
        (9750, "5", 488),   // 487.5 → 488
        (149, "1", 1),      // 1.49 → 1
        (0, "19", 0),
    ] {
        assert_eq!(percent_of(amount, dec(percent)), Some(want), "{percent} % of {amount}");
    }
}

#[test]
fn the_check_catches_a_wrong_figure() {
    // The table's checker itself: one cent off anywhere is reported.
    let mut case = cases().into_iter().find(|c| c.name == "per_group_not_per_line_odoo_36675").expect("case");
    case.want.groups = &[("S:23", 6666, 1534)];
    case.want.totals = [6666, 0, 0, 6666, 1534, 8200];
    let why = check(&case).expect_err("a per-line figure must not pass");
    assert!(why.contains("groups") && why.contains("totals"), "{why}");
}
