//! void_invoice: cancel an invoice for good, with a reason.

use crate::domain::{InvoiceId, InvoiceService};
use crate::schema::string;
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::outputs::Invoice;
use crate::tools::shapes::{idempotency_key, invoice_id};
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct VoidInvoice(pub InvoiceService);

crate::params! {
    pub struct VoidInvoiceParams {
        invoice_id: InvoiceId = invoice_id(),
        reason: String = string()
                        .min_len(1)
                        .max_len(500)
                        .describe("Why the invoice is voided, e.g. \"Duplicate of INV-000041\"."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for VoidInvoice {
    type Params = VoidInvoiceParams;
    type Output = Reply<Invoice>;

    fn about() -> About {
        About {
            name: "void_invoice",
            title: "Void invoice",
            description: "Cancel an invoice for good, with a reason kept on record. Possible for drafts and \
                for sent invoices with no payments; an invoice with payments cannot be voided (the error \
                says what to do instead). A voided invoice keeps its number. Returns the void invoice.",
            annotations: Annotations::DESTRUCTIVE,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, p: VoidInvoiceParams) -> Result<Reply<Invoice>, ToolFailure> {
        let key = Reply::<Invoice>::key(p.idempotency_key);
        Ok(self.0.void(&ctx.actor(), p.invoice_id, p.reason, key).await?.into())
    }
}
