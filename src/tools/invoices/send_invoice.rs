//! send_invoice: issue a draft, numbering and dating it.

use chrono::NaiveDate;

use crate::domain::{InvoiceId, InvoiceService, IssueDetails, Supply};
use crate::schema::{Format, string};
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::outputs::Invoice;
use crate::tools::shapes::{idempotency_key, invoice_id};
use crate::tools::{About, Annotations, Tool, ToolContext, ToolError, ToolFailure};

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
