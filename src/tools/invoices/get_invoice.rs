//! get_invoice: one invoice with its lines, payments and history.

use crate::domain::{InvoiceId, InvoiceService};
use crate::tools::Role;
use crate::tools::outputs::Invoice;
use crate::tools::shapes::invoice_id;
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct GetInvoice(pub InvoiceService);

crate::params! {
    pub struct GetInvoiceParams {
        invoice_id: InvoiceId = invoice_id(),
    }
}

impl Tool for GetInvoice {
    type Params = GetInvoiceParams;
    type Output = Invoice;

    fn about() -> About {
        About {
            name: "get_invoice",
            title: "Get invoice",
            description: "Fetch one invoice by its invoice_id (inv_ + 32 hex digits, as returned by create_invoice \
                or list_invoices), with its number, line items, status (draft, sent, paid, overdue or void), \
                amount_paid_cents, amount_due_cents, payments and history of changes.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: GetInvoiceParams) -> Result<Invoice, ToolFailure> {
        Ok(self.0.get(ctx.tenant_id(), p.invoice_id).await?.into())
    }
}
