//! get_customer: a customer with what they owe today.

use crate::domain::customers::CustomerService;
use crate::tools::Role;
use crate::tools::outputs::CustomerAccount;
use crate::tools::shapes::customer_id;
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct GetCustomer(pub CustomerService);

crate::params! {
    pub struct GetCustomerParams {
        customer_id: String = customer_id().describe("The business's own key for the customer."),
    }
}

impl Tool for GetCustomer {
    type Params = GetCustomerParams;
    type Output = CustomerAccount;

    fn about() -> About {
        About {
            name: "get_customer",
            title: "Get customer",
            description: "Fetch a customer added with upsert_customer, with what they owe today per currency: \
                outstanding and overdue amounts, open invoice count and aging buckets.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: GetCustomerParams) -> Result<CustomerAccount, ToolFailure> {
        Ok(self.0.get(ctx.tenant_id(), &p.customer_id).await?.into())
    }
}
