//! list_customers: customers by name, paginated.

use serde_json::json;

use crate::domain::customers::CustomerService;
use crate::schema::{integer, string};
use crate::tools::Role;
use crate::tools::outputs::CustomerPage;
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct ListCustomers(pub CustomerService);

crate::params! {
    pub struct ListCustomersParams {
        query: Option<String> = string()
                        .min_len(1)
                        .max_len(200)
                        .optional()
                        .describe("Text the customer's name contains, e.g. \"acme\"."),
        limit: u32 = integer().range(1, 100).default(json!(20)).describe("Page size, 1-100; defaults to 20."),
        cursor: Option<String> = string()
                        .min_len(1)
                        .max_len(400)
                        .optional()
                        .describe("next_cursor from the previous page of the same listing."),
    }
}

impl Tool for ListCustomers {
    type Params = ListCustomersParams;
    type Output = CustomerPage;

    fn about() -> About {
        About {
            name: "list_customers",
            title: "List customers",
            description: "List customers by name, optionally those whose name contains `query` (case-insensitive). \
                Returns up to `limit` customers and next_cursor: pass it back as cursor, with the same query, \
                for the next page; null on the last page.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: ListCustomersParams) -> Result<CustomerPage, ToolFailure> {
        Ok(self.0.list(ctx.tenant_id(), p.query.as_deref(), p.limit, p.cursor.as_deref()).await?.into())
    }
}
