//! Documents a business sends: the invoice PDF and the customer's statement of account. This
//! module gathers the figures and writes the data its templates print; [`crate::render`] typesets
//! them. Every amount is formatted from the currency's exponent, every date is ISO (YYYY-MM-DD).

mod credit_note;
pub mod links;
pub mod profile;
pub mod statement;

use crate::domain::invoices::pricing::UNIT_ONE;
use crate::domain::tax::engine::Group;
use crate::domain::tax::{TaxMode, percent_text};
use chrono::NaiveDate;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::parties::{self, Buyer, Seller};
use super::{DomainError, Entity, Invoice, InvoiceId, InvoiceService, InvoiceStatus};
use crate::render::{Job, Rendered, Renderer};
pub use profile::{Logo, MAX_LOGO_BYTES, ProfileUpdate};
pub use statement::{EntryKind, StatementFigures, StatementKind, StatementQuery};

const COMMON: &str = include_str!("templates/common.typ");
const INVOICE: &str = include_str!("templates/invoice.typ");
const STATEMENT: &str = include_str!("templates/statement.typ");
const CREDIT_NOTE: &str = include_str!("templates/credit_note.typ");
const MODULES: &[(&str, &str)] = &[("/common.typ", COMMON)];

/// SHA-256 of `bytes`, lowercase hex: how a document and a logo are identified.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A rendered PDF and what identifies it.
#[derive(Debug, Clone)]
pub struct Document {
    pub rendered: Rendered,
    /// Of the PDF's bytes, lowercase hex.
    pub sha256: String,
    /// A name to save it under, e.g. `INV-000042.pdf`.
    pub filename: String,
}

impl Document {
    fn new(rendered: Rendered, filename: String) -> Self {
        let sha256 = sha256_hex(&rendered.pdf);
        Self { rendered, sha256, filename }
    }
}

#[derive(Debug, Clone)]
pub struct InvoiceDocument {
    pub invoice: Invoice,
    pub document: Document,
}

#[derive(Debug, Clone)]
pub struct CreditNoteDocument {
    pub credit_note: super::invoices::credit_notes::CreditNote,
    pub document: Document,
}

#[derive(Debug, Clone)]
pub struct StatementDocument {
    pub customer_id: String,
    pub customer_name: String,
    pub figures: StatementFigures,
    pub document: Document,
}

#[derive(Clone)]
pub struct DocumentService {
    pool: PgPool,
    renderer: Renderer,
    invoices: InvoiceService,
}

impl DocumentService {
    pub fn new(pool: PgPool, renderer: Renderer) -> Self {
        Self { invoices: InvoiceService::new(pool.clone()), pool, renderer }
    }

    /// The tenant's today (see [`calendar`](super::calendar)).
    pub async fn today(&self, tenant: &str) -> Result<NaiveDate, DomainError> {
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        super::calendar::today(&mut tx).await
    }

    /// The invoice as a PDF: drafts are watermarked DRAFT and unnumbered, void invoices say VOID.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn invoice(&self, tenant: &str, id: InvoiceId) -> Result<InvoiceDocument, DomainError> {
        let invoice = self.invoices.get(tenant, id).await?;
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        // An issued invoice prints the parties it was issued to; a draft, the live ones.
        let parties = match parties::frozen(&mut tx, tenant, id.0).await? {
            Some(frozen) => frozen,
            None => parties::live(&mut tx, tenant, &invoice.summary.customer_id).await?,
        };
        let logo = logo(&mut tx, tenant, &parties.seller).await?;
        tx.commit().await?;
        let (seller, buyer) = (&parties.seller, &parties.buyer);
        let data = invoice_data(&invoice, seller, buyer, logo.as_ref());
        let filename = match &invoice.summary.number {
            Some(number) => format!("{number}.pdf"),
            None => format!("draft-{id}.pdf"),
        };
        let job = self.job(INVOICE, data, format!("tally/{tenant}/invoice/{id}"), invoice_date(&invoice), logo);
        let rendered = self.render(job).await?;
        Ok(InvoiceDocument { invoice, document: Document::new(rendered, filename) })
    }

    /// The credit note as a PDF, with the parties its invoice was issued to.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn credit_note(&self, tenant: &str, id: super::CreditNoteId) -> Result<CreditNoteDocument, DomainError> {
        let note = self.invoices.get_credit_note(tenant, id).await?;
        let seller: Seller = serde_json::from_value(note.seller.0.clone())
            .map_err(|_| DomainError::Inconsistent("a credit note's seller does not read"))?;
        let buyer: Buyer = serde_json::from_value(note.buyer.0.clone())
            .map_err(|_| DomainError::Inconsistent("a credit note's buyer does not read"))?;
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        let logo = logo(&mut tx, tenant, &seller).await?;
        tx.commit().await?;
        let data = credit_note::data(&note, &seller, &buyer, logo.as_ref());
        let job = self.job(CREDIT_NOTE, data, format!("tally/{tenant}/credit_note/{id}"), note.issue_date, logo);
        let rendered = self.render(job).await?;
        let filename = format!("{}.pdf", note.number);
        Ok(CreditNoteDocument { credit_note: note, document: Document::new(rendered, filename) })
    }

    /// The customer's statement; not found when Tally knows neither the customer nor any of its
    /// invoices.
    #[tracing::instrument(skip_all, fields(customer = %q.customer_id))]
    pub async fn statement(&self, tenant: &str, q: &StatementQuery) -> Result<StatementDocument, DomainError> {
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        // A buyer without a name is one the tenant has no record of.
        let parties = parties::live(&mut tx, tenant, &q.customer_id).await?;
        if parties.buyer.name.is_none() {
            let known: bool =
                sqlx::query_scalar("select exists (select 1 from invoices where tenant_id = $1 and customer_id = $2)")
                    .bind(tenant)
                    .bind(&q.customer_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if !known {
                return Err(DomainError::NotFound { entity: Entity::Customer, id: q.customer_id.clone() });
            }
        }
        let logo = logo(&mut tx, tenant, &parties.seller).await?;
        let figures = statement::figures(&mut tx, tenant, q).await?;
        tx.commit().await?;
        let name = parties.buyer.name.clone().unwrap_or_else(|| q.customer_id.clone());
        let currency_code = q.currency.as_ref().map(|c| c.code());
        let data =
            statement_data(&figures, &parties.seller, &q.customer_id, &parties.buyer, logo.as_ref(), currency_code);
        let (label, ident) = match q.kind {
            StatementKind::Activity { from, to } => (format!("{from}-{to}"), format!("activity/{from}/{to}")),
            StatementKind::OpenItems { as_of } => (format!("open-{as_of}"), format!("open-items/{as_of}")),
        };
        let currency = q.currency.as_ref().map_or(String::new(), |c| format!("/{}", c.code()));
        let ident = format!("tally/{tenant}/statement/{}/{ident}{currency}", q.customer_id);
        let job = self.job(STATEMENT, data, ident, q.kind.end(), logo);
        let rendered = self.render(job).await?;
        let only = q.currency.as_ref().map_or(String::new(), |c| format!("-{}", c.code()));
        let filename = format!("statement-{}-{label}{only}.pdf", q.customer_id);
        Ok(StatementDocument {
            customer_id: q.customer_id.clone(),
            customer_name: name,
            figures,
            document: Document::new(rendered, filename),
        })
    }

    fn job(&self, template: &'static str, data: Value, ident: String, date: NaiveDate, logo: Option<Logo>) -> Job {
        let files = logo.map(|l| vec![(l.path().to_owned(), l.bytes)]).unwrap_or_default();
        Job { template, modules: MODULES, data, ident, date, files }
    }

    async fn render(&self, job: Job) -> Result<Rendered, DomainError> {
        self.renderer.render(job).await.map_err(|e| {
            tracing::error!(error = %e, "a document failed to render");
            DomainError::Inconsistent("a document failed to render")
        })
    }
}

/// The seller's logo, as kept when it was set (a frozen seller names it by hash).
async fn logo(conn: &mut sqlx::PgConnection, tenant: &str, seller: &Seller) -> Result<Option<Logo>, DomainError> {
    Ok(parties::logo(conn, tenant, seller).await?.and_then(|bytes| Logo::sniff(bytes).ok()))
}

/// The document's date: the latest thing that happened to the invoice, so that the same
/// invoice in the same state gives the same bytes.
fn invoice_date(invoice: &Invoice) -> NaiveDate {
    let s = &invoice.summary;
    [Some(s.created_at), s.issued_at, invoice.voided_at]
        .into_iter()
        .flatten()
        .chain(invoice.payments.iter().map(|p| p.created_at))
        .max()
        .unwrap_or(s.created_at)
        .date_naive()
}

fn nonempty(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn text_lines(text: &Option<String>) -> Vec<String> {
    nonempty(text).map(|t| t.lines().map(|l| l.trim_end().to_owned()).collect()).unwrap_or_default()
}

/// How a party's tax id is labelled: a VAT invoice shows VAT ids.
fn tax_id_label(vat: bool) -> &'static str {
    if vat { "VAT ID" } else { "Tax ID" }
}

fn seller_block(p: &Seller, logo: Option<&Logo>, vat: bool) -> Value {
    let mut lines = text_lines(&p.address);
    lines.extend(nonempty(&p.tax_id).map(|t| format!("{}: {t}", tax_id_label(vat))));
    lines.extend(nonempty(&p.email).map(str::to_owned));
    lines.extend(nonempty(&p.phone).map(str::to_owned));
    json!({ "legal_name": p.legal_name, "lines": lines, "logo": logo.map(|l| l.path()) })
}

fn buyer_block(customer_id: &str, c: &Buyer, vat: bool) -> Value {
    let Some(name) = &c.name else {
        return json!({ "name": customer_id, "lines": [format!("Customer {customer_id}")] });
    };
    let mut lines = text_lines(&c.billing_address);
    lines.extend(nonempty(&c.tax_id).map(|t| format!("{}: {t}", tax_id_label(vat))));
    lines.extend(nonempty(&c.email).map(str::to_owned));
    lines.push(format!("Customer {customer_id}"));
    json!({ "name": name, "lines": lines })
}

fn pay_lines(p: &Seller) -> Vec<String> {
    let mut lines = text_lines(&p.payment_instructions);
    lines.extend(nonempty(&p.payment_link).map(|l| format!("Pay online: {l}")));
    lines
}

fn invoice_data(invoice: &Invoice, seller: &Seller, buyer: &Buyer, logo: Option<&Logo>) -> Value {
    let style = seller.amount_style();
    let s = &invoice.summary;
    let money = |cents: i64| s.money(cents).written(style);
    let c = s.currency.as_str();
    let issued = s.issue_date;
    let status = s.status;
    let (heading, watermark) = match status {
        InvoiceStatus::Draft => ("Draft invoice", Some("DRAFT")),
        InvoiceStatus::Void => ("Invoice", Some("VOID")),
        _ => ("Invoice", None),
    };
    let mut facts: Vec<(&str, String)> = Vec::new();
    if let Some(number) = &s.number {
        facts.push(("Invoice number", number.clone()));
    }
    // Sent and overdue differ only by today's date, which the document must not depend on.
    let printed_status = match status {
        InvoiceStatus::Draft => "Draft",
        InvoiceStatus::Sent | InvoiceStatus::Overdue => "Open",
        InvoiceStatus::Paid => "Paid",
        InvoiceStatus::Void => "Void",
        InvoiceStatus::WrittenOff => "Written off",
    };
    facts.push(("Status", printed_status.to_owned()));
    if let Some(issued) = issued {
        facts.push(("Issue date", issued.to_string()));
    }
    if let Some(due) = s.due_date {
        facts.push(("Due date", due.to_string()));
    }
    if let Some(day) = invoice.supply.supply_date {
        facts.push(("Supply date", day.to_string()));
    }
    if let (Some(start), Some(end)) = (invoice.supply.period_start, invoice.supply.period_end) {
        facts.push(("Service period", format!("{start} to {end}")));
    }
    if let (Some(issued), Some(due)) = (issued, s.due_date) {
        let days = (due - issued).num_days();
        facts.push(("Terms", if days <= 0 { "Due on receipt".into() } else { format!("Net {days} days") }));
    }
    facts.push(("Reference", s.invoice_id.to_string()));
    facts.push(("Currency", c.to_owned()));
    let void_note = invoice.voided_at.map(|at| {
        format!("VOID — voided on {}: {}", at.date_naive(), invoice.void_reason.as_deref().unwrap_or("no reason given"))
    });
    let due = if status == InvoiceStatus::Void { 0 } else { s.amount_due_cents };
    let title = match &s.number {
        Some(n) => format!("Invoice {n}"),
        None => format!("Draft invoice {}", s.invoice_id),
    };
    // What happened, where "How to pay" would stand: a paid or void invoice asks for nothing.
    let settled_note = match status {
        InvoiceStatus::Paid => {
            let last = invoice.payments.iter().map(|p| p.paid_at.date_naive()).max();
            Some(match last {
                Some(day) => format!("Paid in full on {day}. Thank you."),
                None => "Paid in full. Thank you.".to_owned(),
            })
        }
        _ => None,
    };
    let pay = match status {
        InvoiceStatus::Paid | InvoiceStatus::Void | InvoiceStatus::WrittenOff => vec![],
        _ => pay_lines(seller),
    };
    // The headline under the title: what is asked of the reader, and by when.
    let headline = match (status, s.due_date) {
        (InvoiceStatus::Void, _) => "Void: nothing is due".to_owned(),
        (InvoiceStatus::WrittenOff, _) => "Written off: nothing is due".to_owned(),
        (InvoiceStatus::Paid, _) => format!("Paid: {}", s.total().written(style)),
        (_, Some(due_date)) => format!("Amount due {} by {due_date}", money(due)),
        (_, None) => format!("Amount due {}", money(due)),
    };
    let buyer_name = buyer.name.clone().unwrap_or_else(|| s.customer_id.clone());
    let t = &invoice.taxes;
    let vat = t.tax_mode == TaxMode::Vat;
    json!({
        "title": title,
        "running": format!("{title} · {buyer_name}"),
        "watermark": watermark,
        "footer": nonempty(&seller.footer).unwrap_or(""),
        "seller": seller_block(seller, logo, vat),
        "buyer": buyer_block(&s.customer_id, buyer, vat),
        "invoice": {
            "heading": heading,
            "facts": facts.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "void_note": void_note,
            "settled_note": settled_note,
            "headline": headline,
            "memo": nonempty(&s.memo),
        },
        "lines": invoice.line_items.iter().map(|l| json!({
            "no": l.line_no.to_string(),
            "description": l.description,
            "details": line_details(l, &money),
            "quantity": quantity_text(l.quantity, &l.unit_code),
            "unit_price": money(l.amount_cents),
            "tax": l.taxes.0.iter().map(|t| format!("{} %", percent_text(t.percent))).collect::<Vec<_>>().join(" + "),
            "amount": money(l.line_total_cents),
        })).collect::<Vec<_>>(),
        "taxed": t.tax_mode != TaxMode::None,
        "tax": tax_data(invoice, &money),
        "totals": {
            "total": s.total().written(style),
            "paid": s.paid().written(style),
            "credited": credited_row(invoice, due).map(|(label, cents)| json!([label, format!("−{}", money(cents))])),
            "due": money(due),
        },
        "payments": invoice.payments.iter().map(|p| json!({
            "date": p.paid_at.date_naive().to_string(),
            "method": capitalized(&p.method.as_str().replace('_', " ")),
            "reference": p.reference.as_deref().unwrap_or(""),
            "amount": p.amount().written(style),
        })).collect::<Vec<_>>(),
        "pay": pay,
    })
}

/// What credit notes, the customer's credit or a write-off took off the invoice, when anything
/// did: total − paid − due, with its label.
fn credited_row(invoice: &Invoice, due: i64) -> Option<(&'static str, i64)> {
    let s = &invoice.summary;
    if s.status == InvoiceStatus::Void {
        return None;
    }
    let cents = s.total_cents - s.amount_paid_cents - due;
    let label = if s.status == InvoiceStatus::WrittenOff { "Credited or written off" } else { "Credited" };
    (cents > 0).then_some((label, cents))
}

/// A line's second row: its discount and service period, when it has them.
fn line_details(l: &crate::domain::LineItem, money: &dyn Fn(i64) -> String) -> Vec<String> {
    let mut out = vec![];
    if l.discount_cents > 0 {
        out.push(match l.discount_percent {
            Some(p) => format!("Discount {} %: −{}", percent_text(p), money(l.discount_cents)),
            None => format!("Discount: −{}", money(l.discount_cents)),
        });
    }
    match (l.period_start, l.period_end) {
        (Some(a), Some(b)) => out.push(format!("Period {a} to {b}")),
        (Some(a), None) => out.push(format!("From {a}")),
        (None, Some(b)) => out.push(format!("Until {b}")),
        (None, None) => {}
    }
    out
}

/// A quantity as printed: `3`, `1.5 h`.
fn quantity_text(quantity: rust_decimal::Decimal, unit: &str) -> String {
    match unit {
        UNIT_ONE => quantity.normalize().to_string(),
        unit => format!("{} {}", quantity.normalize(), unit_name(unit)),
    }
}

/// UN/ECE Rec 20 codes as a reader knows them; others as the code.
fn unit_name(code: &str) -> &str {
    match code {
        "HUR" => "h",
        "DAY" => "days",
        "MON" => "months",
        "WEE" => "weeks",
        "MIN" => "min",
        "KGM" => "kg",
        "GRM" => "g",
        "MTR" => "m",
        "LTR" => "l",
        "MTK" => "m²",
        "KWH" => "kWh",
        other => other,
    }
}

/// The totals block and breakdown of a taxed invoice: what each step adds or takes away, the tax
/// per group, and the words the categories require.
fn tax_data(invoice: &Invoice, money: &dyn Fn(i64) -> String) -> Value {
    let t = &invoice.taxes;
    let total = invoice.summary.total_cents;
    let inclusive = t.prices_include_tax;
    let mut steps: Vec<(String, String)> = vec![];
    let lines_sum: i64 = invoice.line_items.iter().map(|l| l.line_total_cents).sum();
    steps.push(("Subtotal".into(), money(if inclusive { lines_sum } else { t.subtotal(total) })));
    for a in t.allowances() {
        steps.push((adjustment_label(a), format!("−{}", money(a.amount_cents))));
    }
    for c in t.charges() {
        steps.push((adjustment_label(c), money(c.amount_cents)));
    }
    if !inclusive {
        steps.push(("Net total".into(), money(t.subtotal(total) - t.allowance_cents + t.charge_cents)));
        for g in &t.tax_breakdown.0 {
            steps.push((format!("{} on {}", group_name(g), money(g.taxable)), money(g.tax)));
        }
    }
    let included: Vec<(String, String)> = if inclusive {
        t.tax_breakdown
            .0
            .iter()
            .map(|g| (format!("Includes {} on {}", group_name(g), money(g.taxable)), money(g.tax)))
            .collect()
    } else {
        vec![]
    };
    json!({
        "steps": steps.into_iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "included": included.into_iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "breakdown": breakdown_rows(&t.tax_breakdown.0, money),
        "first_column": if t.tax_mode == TaxMode::SalesTax { "Jurisdiction" } else { "Category" },
        "wording": wording(&t.tax_breakdown.0),
    })
}

/// How a tax group is named in a totals block: `VAT 19 %`, `CA 6.25 %`.
fn group_name(g: &Group) -> String {
    match (&g.rate.category, &g.rate.jurisdiction) {
        (Some(_), _) => format!("VAT {} %", percent_text(g.rate.percent)),
        (None, Some(j)) => format!("{} {} %", j, percent_text(g.rate.percent)),
        (None, None) => format!("{} {} %", g.rate.name, percent_text(g.rate.percent)),
    }
}

/// The tax breakdown table's rows: category (or jurisdiction), name, rate, taxable, tax.
fn breakdown_rows(groups: &[Group], money: &dyn Fn(i64) -> String) -> Vec<Value> {
    groups
        .iter()
        .map(|g| {
            json!([
                g.rate
                    .category
                    .map_or_else(|| g.rate.jurisdiction.clone().unwrap_or_default(), |c| c.code().to_owned()),
                g.rate.name,
                format!("{} %", percent_text(g.rate.percent)),
                money(g.taxable),
                money(g.tax),
            ])
        })
        .collect()
}

/// The words the groups' categories require (exemption reasons, "Reverse charge"), once each.
fn wording(groups: &[Group]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for w in groups.iter().filter_map(|g| g.rate.wording()) {
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

fn adjustment_label(a: &crate::domain::invoices::pricing::AppliedAdjustment) -> String {
    match a.percent {
        Some(p) => format!("{} ({} %)", a.reason, percent_text(p)),
        None => a.reason.clone(),
    }
}

fn statement_data(
    f: &StatementFigures,
    seller: &Seller,
    customer_id: &str,
    buyer: &Buyer,
    logo: Option<&Logo>,
    currency: Option<&str>,
) -> Value {
    let style = seller.amount_style();
    let (kind, heading, from, to, mut facts) = match f.kind {
        StatementKind::Activity { from, to } => (
            "activity",
            "Statement of account",
            from.to_string(),
            to.to_string(),
            vec![("Statement date", to.to_string()), ("Period", format!("{from} to {to}"))],
        ),
        StatementKind::OpenItems { as_of } => (
            "open_items",
            "Statement of open items",
            as_of.to_string(),
            as_of.to_string(),
            vec![("Statement date", as_of.to_string()), ("Open items as of", as_of.to_string())],
        ),
    };
    facts.push(("Customer", customer_id.to_owned()));
    if let Some(c) = currency {
        facts.push(("Currency", format!("{c} only")));
    }
    let heading_in = match currency {
        Some(c) => format!("{heading} in {c}"),
        None => heading.to_owned(),
    };
    let buyer_name = buyer.name.clone().unwrap_or_else(|| customer_id.to_owned());
    let sections: Vec<Value> = f
        .sections
        .iter()
        .map(|s| {
            let c = s.currency.as_str();
            let money = |cents: i64| s.money(cents).written(style);
            let amount = |cents: i64| if cents == 0 { String::new() } else { money(cents) };
            let a = &s.aging;
            let aging = [a.current_cents, a.days_1_30_cents, a.days_31_60_cents, a.days_61_90_cents, a.over_90_cents]
                .map(money);
            json!({
                "title": format!("{c} — {} owed at {to}", s.closing().written(style)),
                "opening": money(s.opening_cents),
                "closing": s.closing().written(style),
                "rows": s.entries.iter().map(|e| json!({
                    "date": e.date.to_string(),
                    "description": match (e.kind, &e.note) {
                        (EntryKind::Invoice, _) => format!("Invoice {}", e.number),
                        (EntryKind::Payment, Some(note)) => format!("Payment on {} ({note})", e.number),
                        (EntryKind::Payment, None) => format!("Payment on {}", e.number),
                        (EntryKind::CreditNote, Some(note)) => format!("Credit note {} ({note})", e.number),
                        (EntryKind::CreditNote, None) => format!("Credit note {}", e.number),
                        (EntryKind::Refund, Some(note)) => format!("Refund for {} ({note})", e.number),
                        (EntryKind::Refund, None) => format!("Refund for {}", e.number),
                        (EntryKind::WriteOff, Some(reason)) => format!("Written off {}: {reason}", e.number),
                        (EntryKind::WriteOff, None) => format!("Written off {}", e.number),
                        (EntryKind::CreditApplied, Some(note)) => format!("Credit applied to {} ({note})", e.number),
                        (EntryKind::CreditApplied, None) => format!("Credit applied to {}", e.number),
                        (EntryKind::Void, Some(reason)) => format!("Void {}: {reason}", e.number),
                        (EntryKind::Void, None) => format!("Void {}", e.number),
                    },
                    "charge": amount(e.charge_cents),
                    "credit": amount(e.credit_cents),
                    "balance": money(e.balance_cents),
                })).collect::<Vec<_>>(),
                "items": s.open_items.iter().map(|i| json!({
                    "number": i.number,
                    "issued": i.issued_on.to_string(),
                    "due": i.due_date.map_or_else(|| "—".to_owned(), |d| d.to_string()),
                    "days_late": if i.days_late > 0 { i.days_late.to_string() } else { String::new() },
                    "original": money(i.original_cents),
                    "open": money(i.open_cents),
                })).collect::<Vec<_>>(),
                "aging": aging,
            })
        })
        .collect();
    json!({
        "title": format!("{heading_in} — {customer_id} — {to}"),
        "running": format!("{heading_in} · {buyer_name} · {to}"),
        "watermark": null,
        "footer": nonempty(&seller.footer).unwrap_or(""),
        "seller": seller_block(seller, logo, false),
        "buyer": buyer_block(customer_id, buyer, false),
        "statement": {
            "kind": kind,
            "heading": heading_in,
            "facts": facts.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "from": from,
            "to": to,
        },
        "sections": sections,
        "pay": pay_lines(seller),
    })
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
