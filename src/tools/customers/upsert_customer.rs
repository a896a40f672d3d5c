//! upsert_customer: add a customer, or change the fields given.

use crate::domain::Patch;
use crate::domain::customers::{CustomerService, CustomerUpsert};
use crate::domain::money::Currency;
use crate::schema::{Format, integer, string};
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::outputs::UpsertedCustomer;
use crate::tools::shapes::{customer_id, idempotency_key};
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

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
