//! create_invoices_batch: up to 500 drafts, each committed on its own, with progress.

use serde_json::json;
use validator::ValidationError;

use super::create_invoice::CreateInvoiceParams;
use crate::domain::DomainError;
use crate::domain::idempotency::Written;
use crate::domain::{self, InvoiceId, InvoiceService};
use crate::schema::{Format, array, boolean, integer, string};
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::outputs::Invoice;
use crate::tools::shapes::total_within_limit;
use crate::tools::{About, Annotations, Notice, Tool, ToolContext, ToolFailure};

/// The most invoices one batch creates.
pub const BATCH_MAX: usize = 500;

pub struct CreateInvoicesBatch(pub InvoiceService);

crate::params! {
    pub struct CreateInvoicesBatchParams {
        #[validate(custom(function = "each_total_within_limit"))]
        invoices: Vec<CreateInvoiceParams> = array(CreateInvoiceParams::object())
            .min_items(1)
            .max_items(BATCH_MAX)
            .describe("The invoices to create, 1 to 500, each as create_invoice takes it."),
        idempotency_key: Option<String> = string()
            .min_len(1)
            .max_len(200)
            .optional()
            .describe("A unique key for this batch (a UUID). Invoice i is created under key '<key>#<i>' unless it has its own idempotency_key: resend the same batch with the same key after a timeout or a cancel and Tally creates only the invoices still missing."),
    }
}

crate::output! {
    /// One invoice a batch created (or found created by an earlier call with the same key).
    pub struct BatchItem {
        index: u32 = integer().min(0).describe("The invoice's position in `invoices`, from 0."),
        invoice_id: String = string().pattern(InvoiceId::PATTERN).describe("The invoice's id."),
        customer_id: String = string().describe("The business's own customer key."),
        currency: String = string().format(Format::Currency).describe("ISO-4217 code of the total."),
        total_cents: i64 = integer().min(0).describe("Sum of the lines, in minor units."),
        replayed: bool = boolean().describe("true when an earlier call with the same key created it: nothing new was written."),
    }
}

crate::output! {
    pub struct BatchResult {
        requested: u32 = integer().min(1).describe("How many invoices the batch asked for."),
        created: Vec<BatchItem> = array(BatchItem::object()).describe("The invoices that exist now, in order: each one whole, committed on its own."),
        completed: bool = boolean().describe("true when every invoice exists; false when the call was cancelled first. Resend the same batch with the same idempotency_key to create the rest."),
    }
}

/// What a batch reports of one invoice: from the domain's invoice when it was made now without a
/// key, else from the reply kept with its key (the only record a replay has), read as a type.
#[derive(serde::Deserialize)]
struct Made {
    invoice_id: String,
    customer_id: String,
    currency: String,
    total_cents: i64,
}

impl Made {
    fn from_written(written: Written<domain::Invoice>) -> Result<Self, ToolFailure> {
        match written {
            Written::Value(invoice) => Ok(Self {
                invoice_id: invoice.summary.invoice_id.to_string(),
                customer_id: invoice.summary.customer_id,
                currency: invoice.summary.currency,
                total_cents: invoice.summary.total_cents,
            }),
            Written::Kept(text) | Written::Replayed(text) => serde_json::from_str(&text).map_err(|e| {
                tracing::error!(error = %e, "a kept create_invoice reply does not read as an invoice");
                ToolFailure::Internal
            }),
        }
    }
}

/// Each invoice of a batch obeys create_invoice's own cross-field rule.
fn each_total_within_limit(invoices: &[CreateInvoiceParams]) -> Result<(), ValidationError> {
    for (i, invoice) in invoices.iter().enumerate() {
        if let Err(mut e) = total_within_limit(&invoice.line_items) {
            e.message = Some(format!("invoices[{i}].line_items: {}", e.message.unwrap_or_default()).into());
            return Err(e);
        }
    }
    Ok(())
}

impl Tool for CreateInvoicesBatch {
    type Params = CreateInvoicesBatchParams;
    type Output = BatchResult;

    fn about() -> About {
        About {
            name: "create_invoices_batch",
            title: "Create invoices in a batch",
            description: "Create up to 500 draft invoices in one call, e.g. a month-end billing run; each element \
                is exactly what create_invoice takes. Every invoice is committed on its own, in order, so a \
                cancelled or timed-out batch leaves whole invoices only and reports which exist; send an \
                idempotency_key and resend the same batch to finish it without duplicates. Sends \
                notifications/progress when the request carries a progressToken.",
            annotations: Annotations::ADDITIVE,
            role: Role::Clerk,
        }
    }

    async fn call(&self, ctx: ToolContext, p: CreateInvoicesBatchParams) -> Result<BatchResult, ToolFailure> {
        let total = p.invoices.len();
        let actor = ctx.actor();
        let mut created = Vec::with_capacity(total);
        ctx.notify.send(Notice::Log {
            level: "info",
            data: json!({ "message": format!("batch of {total} invoices started") }),
        });
        // Every invoice is priced before any is written: one that would be refused (a line without
        // the rate its tenant's tax mode needs, say) refuses the batch, with its index.
        let items: Vec<_> = p.invoices.into_iter().map(CreateInvoiceParams::into_new).collect();
        for (index, (new, _)) in items.iter().enumerate() {
            self.0.check_draft(&actor, new).await.map_err(|e| match e {
                DomainError::Refused { path, message, expected } => {
                    DomainError::Refused { path: format!("invoices[{index}].{path}"), message, expected }
                }
                other => other,
            })?;
        }
        for (index, (new, own_key)) in items.into_iter().enumerate() {
            if ctx.cancel.is_cancelled() {
                ctx.notify.send(Notice::Log {
                    level: "warning",
                    data: json!({ "message": format!("batch cancelled after {index} of {total} invoices") }),
                });
                return Ok(BatchResult { requested: total as u32, created, completed: false });
            }
            let key = own_key.or_else(|| p.idempotency_key.as_ref().map(|k| format!("{k}#{index}")));
            let written = self.0.create(&actor, new, Reply::<Invoice>::key(key)).await?;
            let replayed = written.replayed();
            let made = Made::from_written(written)?;
            created.push(BatchItem {
                index: index as u32,
                invoice_id: made.invoice_id,
                customer_id: made.customer_id,
                currency: made.currency,
                total_cents: made.total_cents,
                replayed,
            });
            ctx.notify.send(Notice::Progress {
                progress: index as u64 + 1,
                total: Some(total as u64),
                message: Some(format!("{} of {total} invoices created", index + 1)),
            });
            if (index + 1) % 100 == 0 {
                ctx.notify.send(Notice::Log {
                    level: "info",
                    data: json!({ "message": format!("{} of {total} invoices created", index + 1) }),
                });
            }
        }
        Ok(BatchResult { requested: total as u32, created, completed: true })
    }
}
