//! list_invoices: invoices newest first, filtered and keyset-paginated.

use serde_json::json;

use crate::domain::{InvoiceService, ListQuery, StatusFilter};
use crate::schema::{integer, string};
use crate::tools::Role;
use crate::tools::declare::one_of;
use crate::tools::outputs::InvoicePage;
use crate::tools::shapes::customer_id;
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

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
