//! Customer tools: upsert_customer, get_customer, list_customers.

use serde_json::json;

use super::Reply;
use super::Role;
use super::outputs::{CustomerAccount, CustomerPage, UpsertedCustomer};
use super::shapes::{customer_id, idempotency_key};
use super::{About, Annotations, Tool, ToolContext, ToolFailure};
use crate::domain::Patch;
use crate::domain::customers::{CustomerService, CustomerUpsert};
use crate::domain::money::Currency;
use crate::schema::{Format, integer, string};

pub struct UpsertCustomer(pub CustomerService);

crate::params! {
    pub struct UpsertCustomerParams {
        customer_id: String = customer_id().describe("The business's own key for the customer, e.g. cust_42."),
        name: Option<String> = string().min_len(1).max_len(200).optional().describe("The customer's name, e.g. \"Acme Ltd\"; required for a new customer."),
        #[serde(default)]
        email: Patch<String> = string().format(Format::Email).max_len(254).optional().nullable().describe("Billing e-mail address. Omit to keep; null clears."),
        currency: Option<Currency> = string()
                        .format(Format::Currency)
                        .optional()
                        .describe("The customer's usual ISO-4217 currency; USD for new customers unless given."),
        payment_terms_days: Option<i32> = integer()
                        .range(0, 365)
                        .optional()
                        .describe("Days from sending to due date; 30 for new customers unless given."),
        #[serde(default)]
        billing_address: Patch<String> = string()
                        .multiline()
                        .min_len(1)
                        .max_len(500)
                        .optional()
                        .nullable()
                        .describe("Postal address printed in the invoice's buyer block, one line per line, e.g. \"1 Main St\\nSpringfield\". Omit to keep; null clears."),
        #[serde(default)]
        tax_id: Patch<String> = string()
                        .min_len(1)
                        .max_len(50)
                        .optional()
                        .nullable()
                        .describe("The customer's VAT or tax number, printed on its invoices. Omit to keep; null clears."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for UpsertCustomer {
    type Params = UpsertCustomerParams;
    type Output = Reply<UpsertedCustomer>;

    fn about() -> About {
        About {
            name: "upsert_customer",
            title: "Create or update customer",
            description: "Add a customer under the business's own key (customer_id, e.g. a CRM id), or change \
                only the fields you pass for an existing one (null clears email, billing_address or tax_id). A \
                new customer needs a name; invoices can only be sent to customers added here. Invoices already \
                sent keep the details they were issued with. currency is used by create_invoice when it names \
                none; payment_terms_days sets when invoices sent without a due date fall due (default 30).",
            annotations: Annotations::ADDITIVE,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, p: UpsertCustomerParams) -> Result<Reply<UpsertedCustomer>, ToolFailure> {
        let upsert = CustomerUpsert {
            customer_id: p.customer_id,
            name: p.name,
            email: p.email,
            currency: p.currency,
            payment_terms_days: p.payment_terms_days,
            billing_address: p.billing_address,
            tax_id: p.tax_id,
        };
        let key = Reply::<UpsertedCustomer>::key(p.idempotency_key);
        Ok(self.0.upsert(&ctx.actor(), upsert, key).await?.into())
    }
}

// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------

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
