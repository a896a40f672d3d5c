//! Invoice tools: create_invoice, get_invoice, list_invoices.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use validator::ValidationError;

use super::Reply;
use super::Role;
use super::declare::one_of;
use super::outputs::{Invoice, InvoicePage};
use super::shapes::{customer_id, idempotency_key, invoice_id, line_items};
use super::validation::rule_broken;
use super::{About, Annotations, Tool, ToolContext, ToolFailure};
use crate::domain::money::{self, Currency};
use crate::domain::{InvoiceId, InvoiceService, ListQuery, NewInvoice, NewLine, StatusFilter};
use crate::schema::{Format, integer, string};

// ---------------------------------------------------------------------------------------------

pub struct CreateInvoice(pub InvoiceService);

crate::params! {
    pub struct CreateInvoiceParams {
        customer_id: String = customer_id().describe("The business's own key for the customer, e.g. cust_42 or a CRM id (1-64 chars: letters, digits, _ . : @ -)."),
        #[validate(custom(function = "total_within_limit"))]
        line_items: Vec<LineParams> = line_items().describe("The lines of the invoice, 1 to 100, in order."),
        due_date: Option<NaiveDate> = string().format(Format::Date).optional().describe("When payment is due, YYYY-MM-DD. Optional while the invoice is a draft."),
        currency: Currency = string().format(Format::Currency).default(json!("USD")).describe("ISO-4217 currency code of all amounts, e.g. USD, EUR, JPY. Defaults to USD."),
        memo: Option<String> = string().multiline().max_len(2000).optional().describe("A note printed on the invoice; may span several lines."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

crate::params! {
    /// One line of an invoice (create_invoice, update_draft_invoice).
    #[derive(Serialize)]
    pub struct LineParams {
        description: String = string().min_len(1).max_len(500).describe("What is billed, e.g. \"Widget\" or \"Consulting, March\"."),
        amount_cents: i64 = integer()
            .range(0, 10_000_000_000)
            .describe("Unit price in minor units of the invoice currency (USD cents: 1050 = $10.50)."),
        quantity: i32 = integer().range(1, 1_000_000).default(json!(1)).describe("How many units; defaults to 1."),
    }
}

impl LineParams {
    pub fn into_line(self) -> NewLine {
        NewLine { description: self.description, amount_cents: self.amount_cents, quantity: self.quantity }
    }
}

/// Cross-field rule: the lines together must not exceed the largest invoice Tally keeps.
pub fn total_within_limit(lines: &[LineParams]) -> Result<(), ValidationError> {
    match money::total_of(lines.iter().map(|l| (l.amount_cents, i64::from(l.quantity)))) {
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

impl Tool for CreateInvoice {
    type Params = CreateInvoiceParams;
    type Output = Reply<Invoice>;

    fn about() -> About {
        About {
            name: "create_invoice",
            title: "Create invoice",
            description: "Create a draft invoice for a customer from line items. Use it when the business bills a \
                customer. Amounts are integers in minor units (USD cents: 1050 = $10.50); Tally computes the \
                total. customer_id is the business's own customer key (e.g. cust_42); one Tally has not seen \
                is fine. Returns the invoice with its invoice_id (inv_ + 32 hex digits). Always send an \
                idempotency_key (a fresh UUID per new invoice), so the invoice is never created twice.",
            annotations: Annotations::ADDITIVE,
            role: Role::Clerk,
        }
    }

    async fn call(&self, ctx: ToolContext, p: CreateInvoiceParams) -> Result<Reply<Invoice>, ToolFailure> {
        let new = NewInvoice {
            customer_id: p.customer_id,
            line_items: p.line_items.into_iter().map(LineParams::into_line).collect(),
            due_date: p.due_date,
            currency: p.currency,
            memo: p.memo,
        };
        let key = Reply::<Invoice>::key(p.idempotency_key);
        Ok(self.0.create(&ctx.actor(), new, key).await?.into())
    }
}

// ---------------------------------------------------------------------------------------------

pub struct GetInvoice(pub InvoiceService);

crate::params! {
    pub struct GetInvoiceParams {
        invoice_id: InvoiceId = invoice_id(),
    }
}

impl Tool for GetInvoice {
    type Params = GetInvoiceParams;
    type Output = Invoice;

    fn about() -> About {
        About {
            name: "get_invoice",
            title: "Get invoice",
            description: "Fetch one invoice by its invoice_id (inv_ + 32 hex digits, as returned by create_invoice \
                or list_invoices), with its number, line items, status (draft, sent, paid, overdue or void), \
                amount_paid_cents, amount_due_cents, payments and history of changes.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: GetInvoiceParams) -> Result<Invoice, ToolFailure> {
        Ok(self.0.get(ctx.tenant_id(), p.invoice_id).await?.into())
    }
}

// ---------------------------------------------------------------------------------------------

pub struct ListInvoices(pub InvoiceService);

crate::params! {
    pub struct ListInvoicesParams {
        customer_id: Option<String> =
            customer_id().optional().describe("Only this customer's invoices (the business's own customer key)."),
        status: Option<StatusFilter> =
            one_of::<StatusFilter>().optional().describe("Only invoices with this status; overdue = sent and past due."),
        limit: u32 = integer().range(1, 100).default(json!(20)).describe("Page size, 1-100; defaults to 20."),
        cursor: Option<String> = string()
            .min_len(1)
            .max_len(200)
            .optional()
            .describe("next_cursor from the previous page of the same listing; omit for the first page."),
    }
}

impl Tool for ListInvoices {
    type Params = ListInvoicesParams;
    type Output = InvoicePage;

    fn about() -> About {
        About {
            name: "list_invoices",
            title: "List invoices",
            description: "List invoices newest first, optionally for one customer_id and/or one status. \
                'overdue' means sent and past its due date. Returns up to `limit` invoices (without line \
                items; use get_invoice for those) and next_cursor: pass it back as cursor, with the same \
                filters, to get the next page; it is null on the last page.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: ListInvoicesParams) -> Result<InvoicePage, ToolFailure> {
        let query = ListQuery { customer_id: p.customer_id, status: p.status, limit: p.limit, cursor: p.cursor };
        Ok(self.0.list(ctx.tenant_id(), &query).await?.into())
    }
}
