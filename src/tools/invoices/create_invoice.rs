//! create_invoice: a draft invoice from its lines.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::money::Currency;
use crate::domain::tax::AdjustmentKind;
use crate::domain::{InvoiceService, NewAdjustment, NewInvoice};
use crate::schema::{Format, string};
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::outputs::Invoice;
use crate::tools::shapes::{
    AdjustmentParams, LineParams, adjustments, one_amount_each, prices_include_tax, total_within_limit,
};
use crate::tools::shapes::{customer_id, idempotency_key, line_items};
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct CreateInvoice(pub InvoiceService);

crate::params! {
    #[derive(Serialize)]
    pub struct CreateInvoiceParams {
        customer_id: String = customer_id().describe("The business's own key for the customer, e.g. cust_42 or a CRM id (1-64 chars: letters, digits, _ . : @ -)."),
        #[validate(custom(function = "total_within_limit"))]
        line_items: Vec<LineParams> = line_items().describe("The lines of the invoice, 1 to 100, in order."),
        due_date: Option<NaiveDate> = string().format(Format::Date).optional().describe("When payment is due, YYYY-MM-DD. Optional while the invoice is a draft."),
        currency: Option<Currency> = string().format(Format::Currency).optional().describe("ISO-4217 currency code of all amounts, e.g. USD, EUR, JPY. Defaults to the customer's currency (upsert_customer), else USD."),
        memo: Option<String> = string().multiline().max_len(2000).optional().describe("A note printed on the invoice; may span several lines."),
        #[validate(custom(function = "one_amount_each"))]
        allowances: Option<Vec<AdjustmentParams>> = adjustments("Discounts on the whole invoice (e.g. 10 % loyalty discount), after line discounts and before tax; each is split across the tax groups in proportion."),
        #[validate(custom(function = "one_amount_each"))]
        charges: Option<Vec<AdjustmentParams>> = adjustments("Charges on the whole invoice (e.g. shipping), taxed like the lines, split across the tax groups in proportion."),
        prices_include_tax: Option<bool> = prices_include_tax(),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl CreateInvoiceParams {
    /// The domain's new invoice, and the idempotency key it was sent with.
    pub(super) fn into_new(self) -> (NewInvoice, Option<String>) {
        let new = NewInvoice {
            customer_id: self.customer_id,
            line_items: self.line_items.into_iter().map(LineParams::into_line).collect(),
            due_date: self.due_date,
            currency: self.currency,
            memo: self.memo,
            adjustments: adjustments_of(self.allowances, self.charges),
            prices_include_tax: self.prices_include_tax,
        };
        (new, self.idempotency_key)
    }
}

impl Tool for CreateInvoice {
    type Params = CreateInvoiceParams;
    type Output = Reply<Invoice>;

    fn about() -> About {
        About {
            name: "create_invoice",
            title: "Create invoice",
            description: "Create a draft invoice for a customer from line items. Use it when the business bills a \
                customer. Amounts are integers in minor units (USD cents: 1050 = $10.50); Tally computes the \
                line amounts, discounts, tax per group and totals. customer_id is the business's own customer key (e.g. cust_42); a draft may name one \
                Tally has not seen, but only a customer added with upsert_customer can be sent an invoice. \
                Without currency, the customer's usual currency is used. Returns the invoice with its invoice_id (inv_ + 32 hex digits). Always send an \
                idempotency_key (a fresh UUID per new invoice), so the invoice is never created twice.",
            annotations: Annotations::ADDITIVE,
            role: Role::Clerk,
        }
    }

    async fn call(&self, ctx: ToolContext, p: CreateInvoiceParams) -> Result<Reply<Invoice>, ToolFailure> {
        let (new, key) = p.into_new();
        Ok(self.0.create(&ctx.actor(), new, Reply::<Invoice>::key(key)).await?.into())
    }
}

/// Allowances then charges, as the domain takes them.
pub(super) fn adjustments_of(
    allowances: Option<Vec<AdjustmentParams>>,
    charges: Option<Vec<AdjustmentParams>>,
) -> Vec<NewAdjustment> {
    let allowances = allowances.into_iter().flatten().map(|a| a.into_adjustment(AdjustmentKind::Allowance));
    let charges = charges.into_iter().flatten().map(|c| c.into_adjustment(AdjustmentKind::Charge));
    allowances.chain(charges).collect()
}
