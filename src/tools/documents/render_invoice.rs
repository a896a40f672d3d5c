//! render_invoice: the invoice as a PDF/A-3u document.

use super::{DocumentLink, Documents, embed_field, warnings_field};
use crate::domain::InvoiceId;
use crate::schema::string;
use crate::tools::outputs::InvoiceSummary;
use crate::tools::shapes::invoice_id;
use crate::tools::{About, Annotations, Attached, Role, Tool, ToolContext, ToolFailure};

pub struct RenderInvoice(pub Documents);

crate::params! {
    pub struct RenderInvoiceParams {
        invoice_id: InvoiceId = invoice_id(),
        embed: bool = embed_field(),
    }
}

crate::output! {
    pub struct RenderedInvoice {
        ..invoice: InvoiceSummary;
        total_formatted: String = string().describe("The total written with the currency's minor unit."),
        document: DocumentLink = DocumentLink::object().describe("The PDF."),
        warnings: Vec<String> = warnings_field(),
    }
}

impl Tool for RenderInvoice {
    type Params = RenderInvoiceParams;
    type Output = Attached<RenderedInvoice>;

    fn about() -> About {
        About {
            name: "render_invoice",
            title: "Render invoice PDF",
            description: "The invoice as a PDF to send the customer: seller and buyer, number, dates, terms, lines, \
                total, amount paid and amount due, payment instructions, page X of Y. Drafts are watermarked \
                DRAFT and have no number; void invoices say VOID. Returns the figures and a resource_link \
                (invoice://{invoice_id}/pdf) to read with resources/read; set embed to also get the PDF inline.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: RenderInvoiceParams) -> Result<Attached<RenderedInvoice>, ToolFailure> {
        let rendered = self.0.service.invoice(ctx.tenant_id(), p.invoice_id).await?;
        let summary = rendered.invoice.summary;
        let uri = format!("invoice://{}/pdf", summary.invoice_id);
        let title = match &summary.number {
            Some(n) => format!("Invoice {n}"),
            None => format!("Draft invoice {}", summary.invoice_id),
        };
        let total_formatted = summary.total().plain();
        let (document, attachment, warnings) = self.0.attach(&ctx, uri, title, rendered.document, p.embed);
        let output = RenderedInvoice { invoice: summary.into(), total_formatted, document, warnings };
        Ok(Attached { output, attachment })
    }
}
