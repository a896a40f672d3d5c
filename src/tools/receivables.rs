//! list_outstanding: who owes what, and how late.

use chrono::NaiveDate;
use serde::Deserialize;
use validator::Validate;

use super::shapes::{self, customer_id};
use super::{Annotations, Tool, ToolContext, ToolDefinition, ToolFailure};
use crate::domain::money::Currency;
use crate::domain::receivables::{OutstandingQuery, OutstandingReport, ReceivablesService};
use crate::schema::{Format, ToolSchema, string};

pub struct ListOutstanding(pub ReceivablesService);

#[derive(Debug, Deserialize, Validate)]
pub struct ListOutstandingParams {
    customer_id: Option<String>,
    currency: Option<Currency>,
    as_of: Option<NaiveDate>,
}

impl Tool for ListOutstanding {
    type Params = ListOutstandingParams;
    type Output = OutstandingReport;

    fn definition() -> ToolDefinition {
        ToolDefinition {
            name: "list_outstanding",
            title: "List outstanding balances",
            description: "Who owes what: per customer and currency, the amount still due on sent invoices, the \
                overdue part, the count of open invoices, the oldest due date and aging buckets (current, \
                1-30, 31-60, 61-90, over 90 days past due). Use it to chase overdue invoices. as_of reports \
                as of an earlier date (payments after it do not count); default today.",
            input: ToolSchema::new()
                .param("customer_id", customer_id().optional().describe("Only this customer."))
                .param(
                    "currency",
                    string().format(Format::Currency).optional().describe("Only this ISO-4217 currency."),
                )
                .param(
                    "as_of",
                    string()
                        .format(Format::Date)
                        .optional()
                        .describe("Report date, YYYY-MM-DD; defaults to today (UTC)."),
                ),
            output: shapes::outstanding_report(),
            annotations: Annotations::READ_ONLY,
        }
    }

    async fn call(&self, ctx: ToolContext, p: ListOutstandingParams) -> Result<OutstandingReport, ToolFailure> {
        let query = OutstandingQuery { customer_id: p.customer_id, currency: p.currency, as_of: p.as_of };
        Ok(self.0.outstanding(&ctx.tenant_id, &query).await?)
    }
}
