//! apply_payment: money received against a sent invoice.

use chrono::NaiveDate;

use crate::domain::payments::{NewPayment, PaymentMethod};
use crate::domain::{InvoiceId, InvoiceService};
use crate::schema::{Format, boolean, integer, string};
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::outputs::PaymentReceipt;
use crate::tools::shapes::{idempotency_key, invoice_id, payment_method};
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct ApplyPayment(pub InvoiceService);

crate::params! {
    pub struct ApplyPaymentParams {
        invoice_id: InvoiceId = invoice_id(),
        amount_cents: i64 = integer()
                        .range(1, 1_000_000_000_000_000)
                        .describe("Amount received, in minor units of the invoice currency (USD cents)."),
        paid_at: Option<NaiveDate> = string()
                        .format(Format::Date)
                        .optional()
                        .describe("The day the money arrived, YYYY-MM-DD; defaults to today. Not in the future."),
        method: PaymentMethod = payment_method()
                        .default(serde_json::json!("bank_transfer"))
                        .describe("How it was paid; defaults to bank_transfer."),
        reference: Option<String> = string()
                        .min_len(1)
                        .max_len(200)
                        .optional()
                        .describe("The payer's reference (bank reference, card authorization, check number)."),
        excess_to_credit: bool = boolean().default(serde_json::json!(false)).describe("When the money that arrived is more than is due: true keeps what is over as the customer's credit (apply_customer_credit uses it on a later invoice); false (the default) refuses the overpayment."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for ApplyPayment {
    type Params = ApplyPaymentParams;
    type Output = Reply<PaymentReceipt>;

    fn about() -> About {
        About {
            name: "apply_payment",
            title: "Apply payment",
            description: "Record money received against a sent (or overdue) invoice, in the invoice's currency \
                and minor units. Partial payments are normal; the invoice becomes paid when nothing is due. \
                Paying a draft, void or paid invoice is refused, and so is more than amount_due_cents (the \
                error gives the amount due) unless excess_to_credit keeps the rest as the customer's credit. Returns the payment and the invoice's new amount_paid_cents, \
                amount_due_cents and status. Always send an idempotency_key, so a payment is never \
                recorded twice.",
            annotations: Annotations::ADDITIVE,
            role: Role::Clerk,
        }
    }

    async fn call(&self, ctx: ToolContext, p: ApplyPaymentParams) -> Result<Reply<PaymentReceipt>, ToolFailure> {
        let payment = NewPayment {
            amount_cents: p.amount_cents,
            paid_on: p.paid_at,
            method: p.method,
            reference: p.reference,
            excess_to_credit: p.excess_to_credit,
        };
        let key = Reply::<PaymentReceipt>::key(p.idempotency_key);
        Ok(self.0.apply_payment(&ctx.actor(), p.invoice_id, payment, key).await?.into())
    }
}
