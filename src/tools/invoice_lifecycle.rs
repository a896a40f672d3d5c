//! Moving invoices along: update_draft_invoice, send_invoice, void_invoice.

use chrono::NaiveDate;
use validator::ValidationError;

use super::Reply;
use super::Role;
use super::invoices::{LineParams, total_within_limit};
use super::outputs::Invoice;
use super::shapes::{idempotency_key, invoice_id, line_items};
use super::{About, Annotations, Tool, ToolContext, ToolError, ToolFailure};
use crate::domain::money::Currency;
use crate::domain::{DraftChanges, InvoiceId, InvoiceService, IssueDetails, Supply};
use crate::schema::{Format, string};

pub struct UpdateDraftInvoice(pub InvoiceService);

/// [`total_within_limit`] for replacement lines, when given. (Declared fields reach validator
/// as opaque types, so an optional field's rule takes the `Option` itself.)
fn new_total_within_limit(lines: &Option<Vec<LineParams>>) -> Result<(), ValidationError> {
    lines.as_deref().map_or(Ok(()), total_within_limit)
}

crate::params! {
    pub struct UpdateDraftParams {
        invoice_id: InvoiceId = invoice_id(),
        #[validate(custom(function = "new_total_within_limit"))]
        line_items: Option<Vec<LineParams>> = line_items().optional().describe("New lines replacing all current lines, 1 to 100."),
        due_date: Option<NaiveDate> = string().format(Format::Date).optional().describe("New due date, YYYY-MM-DD."),
        memo: Option<String> = string()
                        .multiline()
                        .max_len(2000)
                        .optional()
                        .describe("New note on the invoice; may span several lines."),
        currency: Option<Currency> = string().format(Format::Currency).optional().describe("New ISO-4217 currency of all amounts."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for UpdateDraftInvoice {
    type Params = UpdateDraftParams;
    type Output = Reply<Invoice>;

    fn about() -> About {
        About {
            name: "update_draft_invoice",
            title: "Update draft invoice",
            description: "Change a draft invoice before it is sent. Replaces only what you pass: line_items \
                (all lines at once; the total is recomputed), due_date, memo, currency. Refused with \
                invalid_state once the invoice is sent, paid or void. Returns the updated invoice.",
            annotations: Annotations::ADDITIVE,
            role: Role::Clerk,
        }
    }

    async fn call(&self, ctx: ToolContext, p: UpdateDraftParams) -> Result<Reply<Invoice>, ToolFailure> {
        let changes = DraftChanges {
            line_items: p.line_items.map(|lines| lines.into_iter().map(LineParams::into_line).collect()),
            due_date: p.due_date,
            memo: p.memo,
            currency: p.currency,
        };
        let key = Reply::<Invoice>::key(p.idempotency_key);
        Ok(self.0.update_draft(&ctx.actor(), p.invoice_id, changes, key).await?.into())
    }
}

// ---------------------------------------------------------------------------------------------

pub struct SendInvoice(pub InvoiceService);

crate::params! {
    pub struct SendInvoiceParams {
        invoice_id: InvoiceId = invoice_id(),
        issue_date: Option<NaiveDate> = string()
                        .format(Format::Date)
                        .optional()
                        .describe("The invoice's date, YYYY-MM-DD; defaults to today. Not in the future, and not before the latest invoice already issued."),
        supply_date: Option<NaiveDate> = string()
                        .format(Format::Date)
                        .optional()
                        .describe("When the goods or services were supplied, YYYY-MM-DD, if not the issue date."),
        period_start: Option<NaiveDate> = string()
                        .format(Format::Date)
                        .optional()
                        .describe("First day of the period billed (with period_end), YYYY-MM-DD."),
        period_end: Option<NaiveDate> = string()
                        .format(Format::Date)
                        .optional()
                        .describe("Last day of the period billed (with period_start), YYYY-MM-DD."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

/// Cross-field rule: a service period has both ends, in order.
fn period(p: &SendInvoiceParams) -> Result<Supply, ToolFailure> {
    let supply = Supply { supply_date: p.supply_date, period_start: p.period_start, period_end: p.period_end };
    match (p.period_start, p.period_end) {
        (None, None) => Ok(supply),
        (Some(start), Some(end)) if start <= end => Ok(supply),
        (Some(start), Some(end)) => Err(ToolError::invalid_field(
            "period_start",
            format!("period_start {start} is after period_end {end}"),
            "period_start on or before period_end",
        )
        .into()),
        (start, _) => {
            let missing = if start.is_some() { "period_end" } else { "period_start" };
            Err(ToolError::invalid_field(
                missing,
                format!("a service period needs both period_start and period_end; {missing} is missing"),
                "both period_start and period_end, or neither",
            )
            .into())
        }
    }
}

impl Tool for SendInvoice {
    type Params = SendInvoiceParams;
    type Output = Reply<Invoice>;

    fn about() -> About {
        About {
            name: "send_invoice",
            title: "Send invoice",
            description: "Issue a draft invoice to the customer: it becomes sent, gets its invoice number \
                (gapless, e.g. INV-000042) and its issue_date (today unless given), and, if it has no due date, \
                is due after the customer's payment terms (30 days unless set with upsert_customer). The seller \
                and customer details are fixed on the invoice as they are now. Only drafts with a total above \
                zero, for a customer added with upsert_customer, with no due date before the issue date, can \
                be sent. Returns the sent invoice.",
            annotations: Annotations::ADDITIVE,
            role: Role::Clerk,
        }
    }

    async fn call(&self, ctx: ToolContext, p: SendInvoiceParams) -> Result<Reply<Invoice>, ToolFailure> {
        let issue = IssueDetails { issue_date: p.issue_date, supply: period(&p)? };
        let key = Reply::<Invoice>::key(p.idempotency_key);
        Ok(self.0.send(&ctx.actor(), p.invoice_id, issue, key).await?.into())
    }
}

// ---------------------------------------------------------------------------------------------

pub struct VoidInvoice(pub InvoiceService);

crate::params! {
    pub struct VoidInvoiceParams {
        invoice_id: InvoiceId = invoice_id(),
        reason: String = string()
                        .min_len(1)
                        .max_len(500)
                        .describe("Why the invoice is voided, e.g. \"Duplicate of INV-000041\"."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for VoidInvoice {
    type Params = VoidInvoiceParams;
    type Output = Reply<Invoice>;

    fn about() -> About {
        About {
            name: "void_invoice",
            title: "Void invoice",
            description: "Cancel an invoice for good, with a reason kept on record. Possible for drafts and \
                for sent invoices with no payments; an invoice with payments cannot be voided (the error \
                says what to do instead). A voided invoice keeps its number. Returns the void invoice.",
            annotations: Annotations::DESTRUCTIVE,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, p: VoidInvoiceParams) -> Result<Reply<Invoice>, ToolFailure> {
        let key = Reply::<Invoice>::key(p.idempotency_key);
        Ok(self.0.void(&ctx.actor(), p.invoice_id, p.reason, key).await?.into())
    }
}
