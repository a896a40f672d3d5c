//! Invoice tools: create_invoice, create_invoices_batch, get_invoice, list_invoices.

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
use super::{About, Annotations, Notice, Output, Tool, ToolContext, ToolFailure};
use crate::domain::money::{self, Currency};
use crate::domain::{InvoiceId, InvoiceService, ListQuery, NewInvoice, NewLine, StatusFilter};
use crate::schema::{Format, array, boolean, integer, string};

// ---------------------------------------------------------------------------------------------

pub struct CreateInvoice(pub InvoiceService);

crate::params! {
    #[derive(Serialize)]
    pub struct CreateInvoiceParams {
        customer_id: String = customer_id().describe("The business's own key for the customer, e.g. cust_42 or a CRM id (1-64 chars: letters, digits, _ . : @ -)."),
        #[validate(custom(function = "total_within_limit"))]
        line_items: Vec<LineParams> = line_items().describe("The lines of the invoice, 1 to 100, in order."),
        due_date: Option<NaiveDate> = string().format(Format::Date).optional().describe("When payment is due, YYYY-MM-DD. Optional while the invoice is a draft."),
        currency: Option<Currency> = string().format(Format::Currency).optional().describe("ISO-4217 currency code of all amounts, e.g. USD, EUR, JPY. Defaults to the customer's currency (upsert_customer), else USD."),
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

impl CreateInvoiceParams {
    /// The domain's new invoice, and the idempotency key it was sent with.
    fn into_new(self) -> (NewInvoice, Option<String>) {
        let new = NewInvoice {
            customer_id: self.customer_id,
            line_items: self.line_items.into_iter().map(LineParams::into_line).collect(),
            due_date: self.due_date,
            currency: self.currency,
            memo: self.memo,
        };
        (new, self.idempotency_key)
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
        let (new, key) = p.into_new();
        Ok(self.0.create(&ctx.actor(), new, Reply::<Invoice>::key(key)).await?.into())
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

// ---------------------------------------------------------------------------------------------

/// The most invoices one batch creates.
pub const BATCH_MAX: usize = 500;

pub struct CreateInvoicesBatch(pub InvoiceService);

crate::params! {
    pub struct CreateInvoicesBatchParams {
        #[validate(custom(function = "each_total_within_limit"))]
        invoices: Vec<CreateInvoiceParams> = array(CreateInvoiceParams::object())
            .min_items(1)
            .max_items(BATCH_MAX)
            .describe("The invoices to create, 1 to 500, each as create_invoice takes it."),
        idempotency_key: Option<String> = string()
            .min_len(1)
            .max_len(200)
            .optional()
            .describe("A unique key for this batch (a UUID). Invoice i is created under key '<key>#<i>' unless it has its own idempotency_key: resend the same batch with the same key after a timeout or a cancel and Tally creates only the invoices still missing."),
    }
}

crate::output! {
    /// One invoice a batch created (or found created by an earlier call with the same key).
    pub struct BatchItem {
        index: u32 = integer().min(0).describe("The invoice's position in `invoices`, from 0."),
        invoice_id: String = string().pattern(InvoiceId::PATTERN).describe("The invoice's id."),
        customer_id: String = string().describe("The business's own customer key."),
        currency: String = string().format(Format::Currency).describe("ISO-4217 code of the total."),
        total_cents: i64 = integer().min(0).describe("Sum of the lines, in minor units."),
        replayed: bool = boolean().describe("true when an earlier call with the same key created it: nothing new was written."),
    }
}

crate::output! {
    pub struct BatchResult {
        requested: u32 = integer().min(1).describe("How many invoices the batch asked for."),
        created: Vec<BatchItem> = array(BatchItem::object()).describe("The invoices that exist now, in order: each one whole, committed on its own."),
        completed: bool = boolean().describe("true when every invoice exists; false when the call was cancelled first. Resend the same batch with the same idempotency_key to create the rest."),
    }
}

/// Each invoice of a batch obeys create_invoice's own cross-field rule.
fn each_total_within_limit(invoices: &[CreateInvoiceParams]) -> Result<(), ValidationError> {
    for (i, invoice) in invoices.iter().enumerate() {
        if let Err(mut e) = total_within_limit(&invoice.line_items) {
            e.message = Some(format!("invoices[{i}].line_items: {}", e.message.unwrap_or_default()).into());
            return Err(e);
        }
    }
    Ok(())
}

impl Tool for CreateInvoicesBatch {
    type Params = CreateInvoicesBatchParams;
    type Output = BatchResult;

    fn about() -> About {
        About {
            name: "create_invoices_batch",
            title: "Create invoices in a batch",
            description: "Create up to 500 draft invoices in one call, e.g. a month-end billing run; each element \
                is exactly what create_invoice takes. Every invoice is committed on its own, in order, so a \
                cancelled or timed-out batch leaves whole invoices only and reports which exist; send an \
                idempotency_key and resend the same batch to finish it without duplicates. Sends \
                notifications/progress when the request carries a progressToken.",
            annotations: Annotations::ADDITIVE,
            role: Role::Clerk,
        }
    }

    async fn call(&self, ctx: ToolContext, p: CreateInvoicesBatchParams) -> Result<BatchResult, ToolFailure> {
        let total = p.invoices.len();
        let actor = ctx.actor();
        let mut created = Vec::with_capacity(total);
        ctx.notify.send(Notice::Log {
            level: "info",
            data: json!({ "message": format!("batch of {total} invoices started") }),
        });
        for (index, item) in p.invoices.into_iter().enumerate() {
            if ctx.cancel.is_cancelled() {
                ctx.notify.send(Notice::Log {
                    level: "warning",
                    data: json!({ "message": format!("batch cancelled after {index} of {total} invoices") }),
                });
                return Ok(BatchResult { requested: total as u32, created, completed: false });
            }
            let (new, own_key) = item.into_new();
            let key = own_key.or_else(|| p.idempotency_key.as_ref().map(|k| format!("{k}#{index}")));
            let written = self.0.create(&actor, new, Reply::<Invoice>::key(key)).await?;
            let replayed = written.replayed();
            // The invoice as create_invoice would answer it (kept with its key, or made now).
            let text = Reply::<Invoice>::from(written).into_json().map_err(|_| ToolFailure::Internal)?;
            let invoice: serde_json::Value = serde_json::from_str(&text).map_err(|_| ToolFailure::Internal)?;
            created.push(BatchItem {
                index: index as u32,
                invoice_id: invoice["invoice_id"].as_str().unwrap_or_default().to_owned(),
                customer_id: invoice["customer_id"].as_str().unwrap_or_default().to_owned(),
                currency: invoice["currency"].as_str().unwrap_or_default().to_owned(),
                total_cents: invoice["total_cents"].as_i64().unwrap_or_default(),
                replayed,
            });
            ctx.notify.send(Notice::Progress {
                progress: index as u64 + 1,
                total: Some(total as u64),
                message: Some(format!("{} of {total} invoices created", index + 1)),
            });
            if (index + 1) % 100 == 0 {
                ctx.notify.send(Notice::Log {
                    level: "info",
                    data: json!({ "message": format!("{} of {total} invoices created", index + 1) }),
                });
            }
        }
        Ok(BatchResult { requested: total as u32, created, completed: true })
    }
}
