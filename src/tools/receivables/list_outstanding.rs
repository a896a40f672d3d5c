//! list_outstanding: who owes what, and how late.

use chrono::NaiveDate;

use crate::domain::money::Currency;
use crate::domain::receivables::{OutstandingQuery, ReceivablesService};
use crate::schema::{Format, string};
use crate::tools::Role;
use crate::tools::outputs::OutstandingReport;
use crate::tools::shapes::customer_id;
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct ListOutstanding(pub ReceivablesService);

crate::params! {
    pub struct ListOutstandingParams {
        customer_id: Option<String> = customer_id().optional().describe("Only this customer."),
        currency: Option<Currency> = string().format(Format::Currency).optional().describe("Only this ISO-4217 currency."),
        as_of: Option<NaiveDate> = string()
                        .format(Format::Date)
                        .optional()
                        .describe("Report date, YYYY-MM-DD, past or future; defaults to today in the business's time zone."),
    }
}

impl Tool for ListOutstanding {
    type Params = ListOutstandingParams;
    type Output = OutstandingReport;

    fn about() -> About {
        About {
            name: "list_outstanding",
            title: "List outstanding balances",
            description: "Who owes what: per customer and currency, the amount still due on sent invoices, the \
                overdue part, the count of open invoices, the oldest due date and aging buckets (current, \
                1-30, 31-60, 61-90, over 90 days past due). Use it to chase overdue invoices. as_of reports \
                as of another date (what was open at the end of that day); default today.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: ListOutstandingParams) -> Result<OutstandingReport, ToolFailure> {
        let query = OutstandingQuery { customer_id: p.customer_id, currency: p.currency, as_of: p.as_of };
        Ok(self.0.outstanding(ctx.tenant_id(), &query).await?.into())
    }
}
