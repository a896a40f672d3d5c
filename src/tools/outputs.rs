//! What the tools return, each type declared once with [`output!`](crate::output): the struct
//! (serialized in declaration order) and its published `outputSchema`. The domain's types are
//! facts without a wire shape; the `From` impls here are the only place a domain value becomes
//! what an agent reads.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::declare::one_of;
use super::shapes::Exact;
use crate::domain::access::Role;
use crate::domain::invoices::credit_notes::{self as notes, figures::CreditedLine as DomainCreditedLine};
use crate::domain::invoices::pricing::AppliedAdjustment;
use crate::domain::payments::PaymentMethod;
use crate::domain::tax::engine::Group;
use crate::domain::tax::{AppliedRate, TaxMode};
use crate::domain::{
    self, AuditAction, CreditNoteId, InvoiceId, InvoiceStatus, PaymentId, RefundId, customers, receivables,
};
use crate::schema::{Field, Format, any_object, array, boolean, decimal, integer, string};

fn timestamp(what: &str) -> Field {
    string().describe(&format!("{what} (RFC 3339, UTC)."))
}

fn nullable_timestamp(what: &str) -> Field {
    string().nullable().describe(&format!("{what} (RFC 3339, UTC), or null."))
}

fn currency(what: &str) -> Field {
    string().format(Format::Currency).describe(what)
}

fn next_cursor() -> Field {
    string().nullable().describe("Pass back as cursor for the next page; null on the last page.")
}

crate::output! {
    /// An invoice without its lines, as listings show it.
    pub struct InvoiceSummary {
        invoice_id: InvoiceId = string().pattern(InvoiceId::PATTERN).describe("The invoice's id."),
        number: Option<String> = string().nullable().describe("The invoice number (e.g. INV-000042), assigned when sent; null for drafts."),
        status: InvoiceStatus = one_of::<InvoiceStatus>().describe("draft, sent, paid (settled by payments and credits), overdue (sent and past due), void or written_off (a bad debt)."),
        customer_id: String = string().describe("The business's own customer key."),
        currency: String = currency("ISO-4217 code of every amount."),
        total_cents: i64 = integer().min(0).describe("Sum of the lines, in minor units."),
        amount_paid_cents: i64 = integer().min(0).describe("Paid so far, in minor units."),
        amount_due_cents: i64 = integer().min(0).describe("Still due, in minor units."),
        amount_due_formatted: String = string().describe("The amount due written with the currency's minor unit, e.g. 10.50 USD."),
        due_date: Option<NaiveDate> = string().format(Format::Date).nullable().describe("Due date, YYYY-MM-DD, or null."),
        issue_date: Option<NaiveDate> = string().format(Format::Date).nullable().describe("The invoice's date, YYYY-MM-DD, set when sent; null for drafts."),
        issued_at: Option<DateTime<Utc>> = nullable_timestamp("When it was sent"),
        memo: Option<String> = string().multiline().nullable().describe("The note on the invoice, or null."),
        created_at: DateTime<Utc> = timestamp("When it was created"),
    }
}

crate::output! {
    /// A tax a line carries, as it was when the line was priced.
    pub struct LineTax {
        tax_rate_id: String = string().describe("The rate's id (txr_…)."),
        name: String = string().describe("The rate's name."),
        percent: Exact = decimal(4).describe("The rate, in percent."),
        category: Option<String> = string().nullable().describe("VAT category (S, Z, E, AE, K, G, O, L, M), or null for sales tax."),
        jurisdiction: Option<String> = string().nullable().describe("Sales-tax jurisdiction, or null for VAT."),
    }
}

crate::output! {
    pub struct Line {
        line_no: i32 = integer().min(1).describe("Position of the line, from 1."),
        description: String = string().describe("What is billed."),
        amount_cents: i64 = integer().min(0).describe("Unit price in minor units."),
        quantity: Exact = decimal(4).describe("Units, up to 4 decimal places."),
        line_total_cents: i64 = integer().min(0).describe("round(quantity × amount_cents) − discount_cents: the line's amount as priced."),
        unit: String = string().describe("UN/ECE Rec 20 unit code (C62 one, HUR hour)."),
        discount_percent: Option<Exact> = decimal(4).nullable().describe("The line's discount in percent, or null."),
        discount_cents: i64 = integer().min(0).describe("The line's discount, in minor units."),
        net_cents: i64 = integer().min(0).describe("The line's amount without tax (EN 16931 BT-131): line_total_cents unless prices include tax."),
        taxes: Vec<LineTax> = array(LineTax::object()).describe("The line's taxes (one VAT rate, or sales-tax components); empty when untaxed."),
        period_start: Option<NaiveDate> = string().format(Format::Date).nullable().describe("First day of the line's service period, or null."),
        period_end: Option<NaiveDate> = string().format(Format::Date).nullable().describe("Last day of the line's service period, or null."),
    }
}

crate::output! {
    /// One tax group: a VAT category at one rate, or one sales-tax component.
    pub struct TaxGroup {
        category: Option<String> = string().nullable().describe("VAT category, or null for sales tax."),
        percent: Exact = decimal(4).describe("The rate, in percent."),
        name: String = string().describe("The rate's name."),
        jurisdiction: Option<String> = string().nullable().describe("Sales-tax jurisdiction, or null."),
        taxable_cents: i64 = integer().describe("What the tax is on: the group's line nets less allowances plus charges."),
        tax_cents: i64 = integer().describe("The group's tax, rounded once for the group."),
        exemption_reason_code: Option<String> = string().nullable().describe("Why no VAT is charged, as a code (VATEX-EU-AE), or null."),
        exemption_reason: Option<String> = string().nullable().describe("Why no VAT is charged, as printed (\"Reverse charge\"), or null."),
    }
}

crate::output! {
    /// An allowance or charge's share of one tax group.
    pub struct AdjustmentShare {
        category: Option<String> = string().nullable().describe("The VAT category of the share, or null."),
        percent: Option<Exact> = decimal(4).nullable().describe("The VAT rate of the share, or null."),
        tax_rate_ids: Vec<String> = array(string()).describe("The taxes of the lines this share falls on."),
        amount_cents: i64 = integer().describe("The share, as priced."),
        net_cents: i64 = integer().describe("The share without tax (equal unless prices include tax)."),
    }
}

crate::output! {
    /// A document allowance (discount) or charge.
    pub struct Adjustment {
        reason: String = string().describe("Why, as printed."),
        reason_code: Option<String> = string().nullable().describe("UNTDID 5189 / 7161 code, or null."),
        percent: Option<Exact> = decimal(4).nullable().describe("The percent of the lines' total it was given as, or null."),
        amount_cents: i64 = integer().describe("What it came to, in minor units."),
        parts: Vec<AdjustmentShare> = array(AdjustmentShare::object()).describe("Its split across the tax groups, in proportion to their lines; the shares add up to amount_cents."),
    }
}

crate::output! {
    pub struct Payment {
        payment_id: PaymentId = string().pattern(PaymentId::PATTERN).describe("The payment's id: pay_ + 32 hex digits."),
        amount_cents: i64 = integer().min(1).describe("Amount paid, in minor units of the invoice currency."),
        currency: String = currency("The invoice's currency."),
        method: PaymentMethod = one_of::<PaymentMethod>().describe("How it was paid."),
        reference: Option<String> = string().nullable().describe("The payer's reference, or null."),
        paid_at: DateTime<Utc> = timestamp("When the money arrived"),
        created_at: DateTime<Utc> = timestamp("When it was recorded"),
    }
}

crate::output! {
    /// One entry of the audit trail.
    pub struct Event {
        at: DateTime<Utc> = timestamp("When it happened"),
        action: AuditAction = string().describe("created, updated, sent, payment_applied, voided, credited (a credit note against it), issued (a credit note itself), refunded, written_off or credit_applied."),
        from_status: Option<InvoiceStatus> = string().nullable().describe("Status before, or null."),
        to_status: Option<InvoiceStatus> = string().nullable().describe("Status after, or null."),
        amount_cents: Option<i64> = integer().nullable().describe("The amount involved, in minor units, or null."),
        currency: Option<String> = string().nullable().describe("Its currency, or null."),
        via: String = string().describe("The tool that made the change."),
        session_id: Option<String> = string().nullable().describe("The MCP session it came from, or null."),
        idempotency_key: Option<String> = string().nullable().describe("The idempotency key it was made with, or null."),
        details: Value = any_object().describe("What changed, in detail."),
        role: Option<Role> = one_of::<Role>().nullable().describe("Who: the role the change was made with."),
        token_id: Option<String> = string().nullable().describe("Who: the access token's id, or null for the server's own operator (stdio without a token, an anonymous local caller)."),
        token_name: Option<String> = string().nullable().describe("Who: the access token's name (oauth:<subject> for an OAuth token), or null with no token."),
    }
}

crate::output! {
    /// An invoice with its lines, payments and history.
    pub struct Invoice {
        ..summary: InvoiceSummary;
        line_items: Vec<Line> = array(Line::object()).describe("The lines, in order."),
        tax_mode: TaxMode = one_of::<TaxMode>().describe("How the invoice is taxed: none, vat or sales_tax."),
        prices_include_tax: bool = boolean().describe("Whether unit prices include tax."),
        subtotal_cents: i64 = integer().describe("Σ line nets, before allowances, charges and tax."),
        allowance_cents: i64 = integer().min(0).describe("Σ document allowances (net)."),
        charge_cents: i64 = integer().min(0).describe("Σ document charges (net)."),
        tax_cents: i64 = integer().min(0).describe("Σ tax of the groups."),
        tax_breakdown: Vec<TaxGroup> = array(TaxGroup::object()).describe("Per tax group: taxable amount and tax. total_cents = subtotal − allowances + charges + tax."),
        allowances: Vec<Adjustment> = array(Adjustment::object()).describe("Discounts on the whole invoice."),
        charges: Vec<Adjustment> = array(Adjustment::object()).describe("Charges on the whole invoice."),
        payments: Vec<Payment> = array(Payment::object()).describe("Payments applied, oldest first."),
        amount_credited_cents: i64 = integer().min(0).describe("Σ of its credit notes' totals."),
        credit_notes: Vec<CreditNoteRef> = array(CreditNoteRef::object()).describe("Credit notes issued against it, oldest first (get_credit_note for one in full)."),
        write_off: Option<WriteOff> = WriteOff::object().nullable().describe("What was written off as a bad debt (write_off_invoice), or null."),
        supply_date: Option<NaiveDate> = string().format(Format::Date).nullable().describe("When the goods or services were supplied, YYYY-MM-DD, or null."),
        period_start: Option<NaiveDate> = string().format(Format::Date).nullable().describe("First day of the period billed, or null."),
        period_end: Option<NaiveDate> = string().format(Format::Date).nullable().describe("Last day of the period billed, or null."),
        voided_at: Option<DateTime<Utc>> = nullable_timestamp("When it was voided"),
        void_reason: Option<String> = string().nullable().describe("Why it was voided, or null."),
        history: Vec<Event> = array(Event::object()).describe("Every change to the invoice, oldest first (the audit trail)."),
    }
}

crate::output! {
    /// A credit note as an invoice lists it.
    pub struct CreditNoteRef {
        credit_note_id: CreditNoteId = string().pattern(CreditNoteId::PATTERN).describe("The credit note's id: cn_ + 32 hex digits."),
        number: String = string().describe("Its number (e.g. CN-000001)."),
        issue_date: NaiveDate = string().format(Format::Date).describe("Its date."),
        reason: String = string().describe("duplicate, order_change, product_unsatisfactory, pricing_error, void or other."),
        total_cents: i64 = integer().min(1).describe("What it credits, tax included."),
        applied_cents: i64 = integer().min(0).describe("The part that reduced what was due on the invoice."),
        excess_cents: i64 = integer().min(0).describe("The part that had been paid already (see excess_to)."),
        excess_to: Option<String> = string().nullable().describe("Where the excess went: refund, customer_credit or out_of_band; null when there was none."),
    }
}

crate::output! {
    /// A bad debt written off on an invoice.
    pub struct WriteOff {
        amount_cents: i64 = integer().min(1).describe("What was still due and was written off."),
        written_off_on: NaiveDate = string().format(Format::Date).describe("The day."),
        reason: Option<String> = string().nullable().describe("Why."),
    }
}

crate::output! {
    pub struct InvoicePage {
        invoices: Vec<InvoiceSummary> = array(InvoiceSummary::object()).describe("This page of invoices, newest first."),
        next_cursor: Option<String> = next_cursor(),
    }
}

crate::output! {
    pub struct PaymentReceipt {
        payment: Payment = Payment::object().describe("The payment recorded."),
        invoice_id: InvoiceId = string().pattern(InvoiceId::PATTERN).describe("The invoice paid."),
        status: InvoiceStatus = one_of::<InvoiceStatus>().describe("draft, sent, paid (settled by payments and credits), overdue (sent and past due), void or written_off (a bad debt)."),
        currency: String = currency("The invoice's currency."),
        total_cents: i64 = integer().min(0).describe("The invoice total, in minor units."),
        amount_paid_cents: i64 = integer().min(0).describe("Paid so far, this payment included."),
        amount_due_cents: i64 = integer().min(0).describe("Still due after this payment; 0 means paid."),
        excess_to_credit_cents: i64 = integer().min(0).describe("The part of the payment beyond what was due, kept as the customer's credit (excess_to_credit); 0 otherwise."),
    }
}

crate::output! {
    /// What a write-off or an application of the customer's credit did to an invoice.
    pub struct Settled {
        invoice_id: InvoiceId = string().pattern(InvoiceId::PATTERN).describe("The invoice."),
        status: InvoiceStatus = one_of::<InvoiceStatus>().describe("Its status after: written_off, paid (nothing left due) or still sent/overdue."),
        currency: String = currency("The invoice's currency."),
        total_cents: i64 = integer().min(0).describe("The invoice total."),
        amount_cents: i64 = integer().min(1).describe("What this took off what was due."),
        amount_due_cents: i64 = integer().min(0).describe("Still due after it."),
        credit_left_cents: i64 = integer().min(0).describe("The customer's credit left in this currency."),
    }
}

crate::output! {
    pub struct Customer {
        customer_id: String = string().describe("The business's own customer key."),
        name: String = string().describe("The customer's name."),
        email: Option<String> = string().nullable().describe("Billing e-mail, or null."),
        currency: String = currency("The customer's usual currency."),
        payment_terms_days: i32 = integer().range(0, 365).describe("Days after sending that an invoice without a due date is due."),
        billing_address: Option<String> = string().multiline().nullable().describe("Postal address printed on invoices, or null."),
        tax_id: Option<String> = string().nullable().describe("VAT or tax number printed on invoices, or null."),
        created_at: DateTime<Utc> = timestamp("When the customer was added"),
        updated_at: DateTime<Utc> = timestamp("When the customer was last changed"),
    }
}

crate::output! {
    pub struct UpsertedCustomer {
        ..customer: Customer;
        created: bool = boolean().describe("True when this call created the customer."),
    }
}

crate::output! {
    pub struct Aging {
        current_cents: i64 = integer().min(0).describe("Not yet due."),
        days_1_30_cents: i64 = integer().min(0).describe("1–30 days past due."),
        days_31_60_cents: i64 = integer().min(0).describe("31–60 days past due."),
        days_61_90_cents: i64 = integer().min(0).describe("61–90 days past due."),
        over_90_cents: i64 = integer().min(0).describe("More than 90 days past due."),
    }
}

crate::output! {
    pub struct Balance {
        customer_id: String = string().describe("The customer."),
        currency: String = currency("Currency of these amounts."),
        outstanding_cents: i64 = integer().min(0).describe("Everything still due on sent invoices, in minor units."),
        overdue_cents: i64 = integer().min(0).describe("The part of it past its due date."),
        open_invoices: i64 = integer().min(0).describe("How many invoices have something due."),
        oldest_due_date: Option<NaiveDate> = string().format(Format::Date).nullable().describe("The earliest due date among them."),
        aging: Aging = Aging::object().describe("Amounts due by days past due."),
        credit_cents: i64 = integer().min(0).describe("The customer's credit not yet applied to an invoice (a credit note's excess kept for it, an overpayment)."),
        balance_cents: i64 = integer().describe("outstanding_cents − credit_cents: what the customer owes on balance; negative when the business owes the customer."),
    }
}

crate::output! {
    pub struct CustomerAccount {
        ..customer: Customer;
        outstanding: Vec<Balance> = array(Balance::object()).describe("What the customer owes today, per currency."),
    }
}

crate::output! {
    pub struct CustomerPage {
        customers: Vec<Customer> = array(Customer::object()).describe("This page of customers, by name."),
        next_cursor: Option<String> = next_cursor(),
    }
}

crate::output! {
    pub struct OutstandingReport {
        as_of: NaiveDate = string().format(Format::Date).describe("The date the report is for."),
        balances: Vec<Balance> = array(Balance::object()).describe("Per customer and currency, by customer."),
    }
}

crate::output! {
    /// A line of a credit note: what it credits of an invoice line (or a custom amount).
    pub struct CreditedLine {
        invoice_line_no: Option<i32> = integer().min(1).nullable().describe("The invoice line it credits; null for a custom amount."),
        description: String = string().describe("As on the invoice line."),
        unit: String = string().describe("UN/ECE Rec 20 unit code."),
        quantity: Exact = decimal(4).describe("The quantity credited (returned); 0 when the line is credited by amount."),
        unit_price_cents: i64 = integer().describe("The invoice line's unit price."),
        amount_cents: i64 = integer().describe("What is credited of the line, as priced."),
        net_cents: i64 = integer().describe("Its amount without tax."),
        taxes: Vec<LineTax> = array(LineTax::object()).describe("The line's taxes, as on the invoice."),
    }
}

crate::output! {
    /// Money paid back to the customer, or settled outside Tally.
    pub struct Refund {
        refund_id: RefundId = string().pattern(RefundId::PATTERN).describe("The refund's id: ref_ + 32 hex digits."),
        amount_cents: i64 = integer().min(1).describe("What went back, in minor units."),
        refunded_on: NaiveDate = string().format(Format::Date).describe("When."),
        method: String = string().describe("bank_transfer, card, cash, check, other, or out_of_band (settled outside Tally)."),
        reference: Option<String> = string().nullable().describe("The refund's reference, or null."),
    }
}

crate::output! {
    /// A credit note: the correction of an issued invoice, itself a tax document.
    pub struct CreditNote {
        credit_note_id: CreditNoteId = string().pattern(CreditNoteId::PATTERN).describe("The credit note's id: cn_ + 32 hex digits."),
        number: String = string().describe("Its number in the credit note series (e.g. CN-000001)."),
        invoice_id: InvoiceId = string().pattern(InvoiceId::PATTERN).describe("The invoice it corrects."),
        invoice_number: String = string().describe("That invoice's number."),
        invoice_issue_date: NaiveDate = string().format(Format::Date).describe("That invoice's date."),
        customer_id: String = string().describe("The customer."),
        currency: String = currency("The invoice's currency."),
        issue_date: NaiveDate = string().format(Format::Date).describe("The credit note's date."),
        reason: String = string().describe("duplicate, order_change, product_unsatisfactory, pricing_error, void (issued by void_invoice) or other."),
        memo: Option<String> = string().multiline().nullable().describe("The note printed on it, or null."),
        tax_mode: TaxMode = one_of::<TaxMode>().describe("As the invoice's."),
        prices_include_tax: bool = boolean().describe("As the invoice's."),
        lines: Vec<CreditedLine> = array(CreditedLine::object()).describe("What it credits."),
        subtotal_cents: i64 = integer().describe("Σ line nets."),
        allowance_cents: i64 = integer().min(0).describe("Its share of the invoice's allowances (net)."),
        charge_cents: i64 = integer().min(0).describe("Its share of the invoice's charges (net)."),
        tax_cents: i64 = integer().min(0).describe("Σ tax of its groups."),
        total_cents: i64 = integer().min(1).describe("What it credits, tax included: subtotal − allowances + charges + tax."),
        tax_breakdown: Vec<TaxGroup> = array(TaxGroup::object()).describe("Per tax group: taxable amount and tax credited."),
        applied_cents: i64 = integer().min(0).describe("The part that reduced what was due on the invoice."),
        excess_cents: i64 = integer().min(0).describe("The part that had been paid already: applied_cents + excess_cents = total_cents."),
        excess_to: Option<String> = string().nullable().describe("Where the excess went: refund, customer_credit or out_of_band; null when there was none."),
        refund: Option<Refund> = Refund::object().nullable().describe("The refund (or out-of-band settlement) of the excess, or null."),
        created_at: DateTime<Utc> = timestamp("When it was recorded"),
    }
}

crate::output! {
    pub struct CreditNoteReceipt {
        credit_note: CreditNote = CreditNote::object().describe("The credit note issued."),
        invoice_status: InvoiceStatus = one_of::<InvoiceStatus>().describe("The invoice's status after it: open ones stay sent or overdue; paid when nothing is due and something was paid; void when credit notes alone settled it."),
        invoice_amount_due_cents: i64 = integer().min(0).describe("What is still due on the invoice."),
    }
}

crate::output! {
    pub struct CreditNoteList {
        credit_notes: Vec<CreditNote> = array(CreditNote::object()).describe("Newest first."),
    }
}

// ---------------------------------------------------------------------------------------------
// From the domain's facts.

fn all<T, O: From<T>>(items: Vec<T>) -> Vec<O> {
    items.into_iter().map(O::from).collect()
}

impl From<domain::InvoiceSummary> for InvoiceSummary {
    fn from(s: domain::InvoiceSummary) -> Self {
        Self {
            invoice_id: s.invoice_id,
            number: s.number,
            status: s.status,
            customer_id: s.customer_id,
            currency: s.currency,
            total_cents: s.total_cents,
            amount_paid_cents: s.amount_paid_cents,
            amount_due_cents: s.amount_due_cents,
            amount_due_formatted: s.amount_due_formatted,
            due_date: s.due_date,
            issue_date: s.issue_date,
            issued_at: s.issued_at,
            memo: s.memo,
            created_at: s.created_at,
        }
    }
}

impl From<domain::LineItem> for Line {
    fn from(l: domain::LineItem) -> Self {
        Self {
            line_no: l.line_no,
            description: l.description,
            amount_cents: l.amount_cents,
            quantity: Exact(l.quantity),
            line_total_cents: l.line_total_cents,
            unit: l.unit_code,
            discount_percent: l.discount_percent.map(Exact),
            discount_cents: l.discount_cents,
            net_cents: l.net_cents,
            taxes: l.taxes.0.into_iter().map(LineTax::from).collect(),
            period_start: l.period_start,
            period_end: l.period_end,
        }
    }
}

impl From<AppliedRate> for LineTax {
    fn from(r: AppliedRate) -> Self {
        Self {
            tax_rate_id: r.tax_rate_id,
            name: r.name,
            percent: Exact(r.percent),
            category: r.category.map(|c| c.code().to_owned()),
            jurisdiction: r.jurisdiction,
        }
    }
}

impl From<Group> for TaxGroup {
    fn from(g: Group) -> Self {
        let r = g.rate;
        Self {
            category: r.category.map(|c| c.code().to_owned()),
            percent: Exact(r.percent),
            name: r.name,
            jurisdiction: r.jurisdiction,
            taxable_cents: g.taxable,
            tax_cents: g.tax,
            exemption_reason_code: r.exemption_reason_code,
            exemption_reason: r.exemption_reason,
        }
    }
}

impl From<&AppliedAdjustment> for Adjustment {
    fn from(a: &AppliedAdjustment) -> Self {
        Self {
            reason: a.reason.clone(),
            reason_code: a.reason_code.clone(),
            percent: a.percent.map(Exact),
            amount_cents: a.amount_cents,
            parts: a
                .parts
                .iter()
                .map(|p| AdjustmentShare {
                    category: p.category.map(|c| c.code().to_owned()),
                    percent: p.percent.map(Exact),
                    tax_rate_ids: p.tax_rate_ids.clone(),
                    amount_cents: p.amount_cents,
                    net_cents: p.net_cents,
                })
                .collect(),
        }
    }
}

impl From<domain::payments::Payment> for Payment {
    fn from(p: domain::payments::Payment) -> Self {
        Self {
            payment_id: p.payment_id,
            amount_cents: p.amount_cents,
            currency: p.currency,
            method: p.method,
            reference: p.reference,
            paid_at: p.paid_at,
            created_at: p.created_at,
        }
    }
}

impl From<domain::Event> for Event {
    fn from(e: domain::Event) -> Self {
        Self {
            at: e.at,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            amount_cents: e.amount_cents,
            currency: e.currency,
            via: e.via,
            session_id: e.session_id,
            idempotency_key: e.idempotency_key,
            details: e.details,
            role: e.role,
            token_id: e.token_id.map(|id| id.to_string()),
            token_name: e.token_name,
        }
    }
}

impl From<domain::Invoice> for Invoice {
    fn from(i: domain::Invoice) -> Self {
        Self {
            subtotal_cents: i.taxes.subtotal(i.summary.total_cents),
            summary: i.summary.into(),
            line_items: all(i.line_items),
            tax_mode: i.taxes.tax_mode,
            prices_include_tax: i.taxes.prices_include_tax,
            allowance_cents: i.taxes.allowance_cents,
            charge_cents: i.taxes.charge_cents,
            tax_cents: i.taxes.tax_cents,
            allowances: i.taxes.allowances().map(Adjustment::from).collect(),
            charges: i.taxes.charges().map(Adjustment::from).collect(),
            tax_breakdown: all(i.taxes.tax_breakdown.0),
            payments: all(i.payments),
            amount_credited_cents: i.credit_notes.iter().map(|c| c.total_cents).sum(),
            credit_notes: all(i.credit_notes),
            write_off: i.write_off.map(|w| WriteOff {
                amount_cents: w.amount_cents,
                written_off_on: w.written_off_on,
                reason: w.reason,
            }),
            supply_date: i.supply.supply_date,
            period_start: i.supply.period_start,
            period_end: i.supply.period_end,
            voided_at: i.voided_at,
            void_reason: i.void_reason,
            history: all(i.history),
        }
    }
}

impl From<domain::Page> for InvoicePage {
    fn from(p: domain::Page) -> Self {
        Self { invoices: all(p.invoices), next_cursor: p.next_cursor }
    }
}

impl From<domain::payments::PaymentReceipt> for PaymentReceipt {
    fn from(r: domain::payments::PaymentReceipt) -> Self {
        Self {
            payment: r.payment.into(),
            invoice_id: r.invoice_id,
            status: r.status,
            currency: r.currency,
            total_cents: r.total_cents,
            amount_paid_cents: r.amount_paid_cents,
            amount_due_cents: r.amount_due_cents,
            excess_to_credit_cents: r.excess_to_credit_cents,
        }
    }
}

impl From<customers::Customer> for Customer {
    fn from(c: customers::Customer) -> Self {
        Self {
            customer_id: c.customer_id,
            name: c.name,
            email: c.email,
            currency: c.currency,
            payment_terms_days: c.payment_terms_days,
            billing_address: c.billing_address,
            tax_id: c.tax_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl From<customers::UpsertedCustomer> for UpsertedCustomer {
    fn from(u: customers::UpsertedCustomer) -> Self {
        Self { customer: u.customer.into(), created: u.created }
    }
}

impl From<receivables::Balance> for Balance {
    fn from(b: receivables::Balance) -> Self {
        let a = b.aging;
        Self {
            customer_id: b.customer_id,
            currency: b.currency,
            outstanding_cents: b.outstanding_cents,
            overdue_cents: b.overdue_cents,
            open_invoices: b.open_invoices,
            oldest_due_date: b.oldest_due_date,
            credit_cents: b.credit_cents,
            balance_cents: b.balance_cents,
            aging: Aging {
                current_cents: a.current_cents,
                days_1_30_cents: a.days_1_30_cents,
                days_31_60_cents: a.days_31_60_cents,
                days_61_90_cents: a.days_61_90_cents,
                over_90_cents: a.over_90_cents,
            },
        }
    }
}

impl From<customers::CustomerAccount> for CustomerAccount {
    fn from(a: customers::CustomerAccount) -> Self {
        Self { customer: a.customer.into(), outstanding: all(a.outstanding) }
    }
}

impl From<customers::CustomerPage> for CustomerPage {
    fn from(p: customers::CustomerPage) -> Self {
        Self { customers: all(p.customers), next_cursor: p.next_cursor }
    }
}

impl From<receivables::OutstandingReport> for OutstandingReport {
    fn from(r: receivables::OutstandingReport) -> Self {
        Self { as_of: r.as_of, balances: all(r.balances) }
    }
}

impl From<notes::CreditNoteRef> for CreditNoteRef {
    fn from(c: notes::CreditNoteRef) -> Self {
        Self {
            credit_note_id: c.credit_note_id,
            number: c.number,
            issue_date: c.issue_date,
            reason: c.reason.as_str().into(),
            total_cents: c.total_cents,
            applied_cents: c.applied_cents,
            excess_cents: c.excess_cents,
            excess_to: c.excess_to.map(|e| e.as_str().into()),
        }
    }
}

impl From<DomainCreditedLine> for CreditedLine {
    fn from(l: DomainCreditedLine) -> Self {
        Self {
            invoice_line_no: l.invoice_line_no,
            description: l.description,
            unit: l.unit_code,
            quantity: Exact(l.quantity),
            unit_price_cents: l.unit_price,
            amount_cents: l.amount_cents,
            net_cents: l.net_cents,
            taxes: all(l.taxes),
        }
    }
}

impl From<notes::Refund> for Refund {
    fn from(r: notes::Refund) -> Self {
        Self {
            refund_id: r.refund_id,
            amount_cents: r.amount_cents,
            refunded_on: r.refunded_on,
            method: r.method,
            reference: r.reference,
        }
    }
}

impl From<notes::CreditNote> for CreditNote {
    fn from(c: notes::CreditNote) -> Self {
        Self {
            credit_note_id: c.credit_note_id,
            number: c.number,
            invoice_id: c.invoice_id,
            invoice_number: c.invoice_number,
            invoice_issue_date: c.invoice_issue_date,
            customer_id: c.customer_id,
            currency: c.currency,
            issue_date: c.issue_date,
            reason: c.reason.as_str().into(),
            memo: c.memo,
            tax_mode: c.tax_mode,
            prices_include_tax: c.prices_include_tax,
            lines: all(c.lines.0),
            subtotal_cents: c.subtotal_cents,
            allowance_cents: c.allowance_cents,
            charge_cents: c.charge_cents,
            tax_cents: c.tax_cents,
            total_cents: c.total_cents,
            tax_breakdown: all(c.tax_breakdown.0),
            applied_cents: c.applied_cents,
            excess_cents: c.excess_cents,
            excess_to: c.excess_to.map(|e| e.as_str().into()),
            refund: c.refund.map(Refund::from),
            created_at: c.created_at,
        }
    }
}

impl From<notes::CreditNoteReceipt> for CreditNoteReceipt {
    fn from(r: notes::CreditNoteReceipt) -> Self {
        Self {
            credit_note: r.credit_note.into(),
            invoice_status: r.invoice_status,
            invoice_amount_due_cents: r.invoice_amount_due_cents,
        }
    }
}

impl From<Vec<notes::CreditNote>> for CreditNoteList {
    fn from(notes: Vec<notes::CreditNote>) -> Self {
        Self { credit_notes: all(notes) }
    }
}

impl From<domain::invoices::settle::Settled> for Settled {
    fn from(s: domain::invoices::settle::Settled) -> Self {
        Self {
            invoice_id: s.invoice_id,
            status: s.status,
            currency: s.currency,
            total_cents: s.total_cents,
            amount_cents: s.amount_cents,
            amount_due_cents: s.amount_due_cents,
            credit_left_cents: s.credit_left_cents,
        }
    }
}
