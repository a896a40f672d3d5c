//! The credit note as a PDF: the invoice's house style, titled "Credit note", naming the invoice
//! it corrects, what it credits and its tax, and where the money went.

use serde_json::{Value, json};

use super::super::invoices::credit_notes::{CreditNote, ExcessTo};
use super::super::money::Money;
use super::super::parties::{Buyer, Seller};
use super::super::tax::{TaxMode, percent_text};
use super::{
    Logo, breakdown_rows, buyer_block, capitalized, group_name, nonempty, quantity_text, seller_block, wording,
};

pub(super) fn data(note: &CreditNote, seller: &Seller, buyer: &Buyer, logo: Option<&Logo>) -> Value {
    let style = seller.amount_style();
    let money = |cents: i64| Money::of(cents, &note.currency).written(style);
    let vat = note.tax_mode == TaxMode::Vat;
    let facts: Vec<(&str, String)> = vec![
        ("Credit note number", note.number.clone()),
        ("Issue date", note.issue_date.to_string()),
        ("Corrects invoice", format!("{} of {}", note.invoice_number, note.invoice_issue_date)),
        ("Reason", capitalized(&note.reason.as_str().replace('_', " "))),
        ("Reference", note.credit_note_id.to_string()),
        ("Currency", note.currency.clone()),
    ];
    let title = format!("Credit note {}", note.number);
    let buyer_name = buyer.name.clone().unwrap_or_else(|| note.customer_id.clone());
    let mut steps: Vec<(String, String)> = vec![("Subtotal".into(), money(note.subtotal_cents))];
    if note.allowance_cents > 0 {
        steps.push(("Share of the invoice's allowances".into(), format!("−{}", money(note.allowance_cents))));
    }
    if note.charge_cents > 0 {
        steps.push(("Share of the invoice's charges".into(), money(note.charge_cents)));
    }
    let taxable = note.subtotal_cents - note.allowance_cents + note.charge_cents;
    steps.push(("Net total".into(), money(taxable)));
    for g in &note.tax_breakdown.0 {
        steps.push((format!("{} on {}", group_name(g), money(g.taxable)), money(g.tax)));
    }
    // Where the money went, in the order it happened.
    let mut settlement: Vec<String> = vec![];
    if note.applied_cents > 0 {
        settlement.push(format!(
            "{} reduces the amount due on invoice {}.",
            money(note.applied_cents),
            note.invoice_number
        ));
    }
    match (note.excess_to, &note.refund) {
        (Some(ExcessTo::Refund), Some(r)) => settlement.push(format!(
            "{} was refunded on {} by {}{}.",
            money(r.amount_cents),
            r.refunded_on,
            r.method.replace('_', " "),
            r.reference.as_deref().map_or(String::new(), |x| format!(", reference {x}"))
        )),
        (Some(ExcessTo::OutOfBand), _) => {
            settlement.push(format!("{} was settled separately.", money(note.excess_cents)))
        }
        (Some(ExcessTo::CustomerCredit), _) => settlement.push(format!(
            "{} is kept as your credit, for your next invoices in {}.",
            money(note.excess_cents),
            note.currency
        )),
        _ => {}
    }
    json!({
        "title": title,
        "running": format!("{title} · {buyer_name}"),
        "watermark": null,
        "footer": nonempty(&seller.footer).unwrap_or(""),
        "seller": seller_block(seller, logo, vat),
        "buyer": buyer_block(&note.customer_id, buyer, vat),
        "note": {
            "heading": "Credit note",
            "facts": facts.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "headline": format!("Credit of {} against invoice {}", money(note.total_cents), note.invoice_number),
            "memo": nonempty(&note.memo),
            "settlement": settlement,
        },
        "lines": note.lines.0.iter().enumerate().map(|(i, l)| json!({
            "no": (i + 1).to_string(),
            "description": l.description,
            "details": match l.invoice_line_no {
                Some(n) => vec![format!("Invoice line {n}")],
                None => vec![],
            },
            "quantity": if l.quantity.is_zero() {
                "—".to_owned()
            } else {
                quantity_text(l.quantity, &l.unit_code)
            },
            "unit_price": money(l.unit_price),
            "tax": l.taxes.iter().map(|t| format!("{} %", percent_text(t.percent))).collect::<Vec<_>>().join(" + "),
            "amount": money(l.amount_cents),
        })).collect::<Vec<_>>(),
        "taxed": note.tax_mode != TaxMode::None,
        "tax": {
            "steps": steps.into_iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "breakdown": breakdown_rows(&note.tax_breakdown.0, &money),
            "first_column": if note.tax_mode == TaxMode::SalesTax { "Jurisdiction" } else { "Category" },
            "wording": wording(&note.tax_breakdown.0),
        },
        "total": money(note.total_cents),
    })
}
