//! update_draft_invoice: change a draft before it is sent.

use chrono::NaiveDate;
use validator::ValidationError;

use super::create_invoice::adjustments_of;
use crate::domain::money::Currency;
use crate::domain::{DraftChanges, InvoiceId, InvoiceService};
use crate::schema::{Format, string};
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::outputs::Invoice;
use crate::tools::shapes::{
    AdjustmentParams, LineParams, adjustments, one_amount_each, prices_include_tax, total_within_limit,
};
use crate::tools::shapes::{idempotency_key, invoice_id, line_items};
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct UpdateDraftInvoice(pub InvoiceService);

/// [`total_within_limit`] for replacement lines, when given. (Declared fields reach validator
/// as opaque types, so an optional field's rule takes the `Option` itself.)
fn new_total_within_limit(lines: &Option<Vec<LineParams>>) -> Result<(), ValidationError> {
    lines.as_deref().map_or(Ok(()), total_within_limit)
}

crate::params! {
    pub struct UpdateDraftParams {
        invoice_id: InvoiceId = invoice_id(),
        #[validate(custom(function = "new_total_within_limit"))]
        line_items: Option<Vec<LineParams>> = line_items().optional().describe("New lines replacing all current lines, 1 to 100."),
        due_date: Option<NaiveDate> = string().format(Format::Date).optional().describe("New due date, YYYY-MM-DD."),
        memo: Option<String> = string()
                        .multiline()
                        .max_len(2000)
                        .optional()
                        .describe("New note on the invoice; may span several lines."),
        currency: Option<Currency> = string().format(Format::Currency).optional().describe("New ISO-4217 currency of all amounts."),
        #[validate(custom(function = "one_amount_each"))]
        allowances: Option<Vec<AdjustmentParams>> = adjustments("New document discounts replacing all current ones ([] removes them)."),
        #[validate(custom(function = "one_amount_each"))]
        charges: Option<Vec<AdjustmentParams>> = adjustments("New document charges replacing all current ones ([] removes them)."),
        prices_include_tax: Option<bool> = prices_include_tax(),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for UpdateDraftInvoice {
    type Params = UpdateDraftParams;
    type Output = Reply<Invoice>;

    fn about() -> About {
        About {
            name: "update_draft_invoice",
            title: "Update draft invoice",
            description: "Change a draft invoice before it is sent. Replaces only what you pass: line_items \
                (all lines at once; the total is recomputed), due_date, memo, currency. Refused with \
                invalid_state once the invoice is sent, paid or void. Returns the updated invoice.",
            annotations: Annotations::ADDITIVE,
            role: Role::Clerk,
        }
    }

    async fn call(&self, ctx: ToolContext, p: UpdateDraftParams) -> Result<Reply<Invoice>, ToolFailure> {
        let changes = DraftChanges {
            line_items: p.line_items.map(|lines| lines.into_iter().map(LineParams::into_line).collect()),
            adjustments: (p.allowances.is_some() || p.charges.is_some())
                .then(|| adjustments_of(p.allowances, p.charges)),
            prices_include_tax: p.prices_include_tax,
            due_date: p.due_date,
            memo: p.memo,
            currency: p.currency,
        };
        let key = Reply::<Invoice>::key(p.idempotency_key);
        Ok(self.0.update_draft(&ctx.actor(), p.invoice_id, changes, key).await?.into())
    }
}
