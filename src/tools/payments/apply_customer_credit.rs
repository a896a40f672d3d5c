//! apply_customer_credit: use the customer's credit to settle a later invoice.

use crate::domain::{InvoiceId, InvoiceService};
use crate::schema::integer;
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::outputs::Settled;
use crate::tools::shapes::{idempotency_key, invoice_id};
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct ApplyCustomerCredit(pub InvoiceService);

crate::params! {
    pub struct ApplyCustomerCreditParams {
        invoice_id: InvoiceId = invoice_id(),
        amount_cents: Option<i64> = integer().range(1, 10_000_000_000_000).optional().describe("How much of the credit to apply, in minor units; defaults to as much as the credit and the amount due allow."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for ApplyCustomerCredit {
    type Params = ApplyCustomerCreditParams;
    type Output = Reply<Settled>;

    fn about() -> About {
        About {
            name: "apply_customer_credit",
            title: "Apply customer credit",
            description: "Apply the customer's unapplied credit (a credit note's excess kept as customer_credit, or an \
                overpayment) to one of its sent or overdue invoices in the same currency. get_customer and \
                list_outstanding show the credit as credit_cents. Returns what was applied, what is still due, \
                and the credit left. Always send an idempotency_key.",
            annotations: Annotations::ADDITIVE,
            role: Role::Clerk,
        }
    }

    async fn call(&self, ctx: ToolContext, p: ApplyCustomerCreditParams) -> Result<Reply<Settled>, ToolFailure> {
        let key = Reply::<Settled>::key(p.idempotency_key);
        Ok(self.0.apply_credit(&ctx.actor(), p.invoice_id, p.amount_cents, key).await?.into())
    }
}
