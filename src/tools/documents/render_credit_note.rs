//! render_credit_note: the credit note as a PDF/A-3u document.

use super::{DocumentLink, Documents, embed_field, warnings_field};
use crate::domain::money::Money;
use crate::domain::{CreditNoteId, InvoiceId};
use crate::schema::{integer, string};
use crate::tools::credit_notes::credit_note_id;
use crate::tools::{About, Annotations, Attached, Role, Tool, ToolContext, ToolFailure};

pub struct RenderCreditNote(pub Documents);

crate::params! {
    pub struct RenderCreditNoteParams {
        credit_note_id: CreditNoteId = credit_note_id(),
        embed: bool = embed_field(),
    }
}

crate::output! {
    pub struct RenderedCreditNote {
        credit_note_id: CreditNoteId = string().pattern(CreditNoteId::PATTERN).describe("The credit note."),
        number: String = string().describe("Its number."),
        invoice_id: InvoiceId = string().pattern(InvoiceId::PATTERN).describe("The invoice it corrects."),
        invoice_number: String = string().describe("That invoice's number."),
        total_cents: i64 = integer().min(1).describe("What it credits, tax included."),
        total_formatted: String = string().describe("The total written with the currency's minor unit."),
        document: DocumentLink = DocumentLink::object().describe("The PDF."),
        warnings: Vec<String> = warnings_field(),
    }
}

impl Tool for RenderCreditNote {
    type Params = RenderCreditNoteParams;
    type Output = Attached<RenderedCreditNote>;

    fn about() -> About {
        About {
            name: "render_credit_note",
            title: "Render credit note PDF",
            description: "The credit note as a PDF to send the customer, in the invoice's style: titled Credit note, \
                naming the invoice it corrects, the lines and tax credited, and where the money went. Returns a \
                resource_link (credit_note://{credit_note_id}/pdf) to read with resources/read; set embed to also \
                get the PDF inline.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(
        &self,
        ctx: ToolContext,
        p: RenderCreditNoteParams,
    ) -> Result<Attached<RenderedCreditNote>, ToolFailure> {
        let rendered = self.0.service.credit_note(ctx.tenant_id(), p.credit_note_id).await?;
        let note = rendered.credit_note;
        let uri = format!("credit_note://{}/pdf", note.credit_note_id);
        let title = format!("Credit note {}", note.number);
        let total_formatted = Money::of(note.total_cents, &note.currency).plain();
        let (document, attachment, warnings) = self.0.attach(&ctx, uri, title, rendered.document, p.embed);
        let output = RenderedCreditNote {
            credit_note_id: note.credit_note_id,
            number: note.number,
            invoice_id: note.invoice_id,
            invoice_number: note.invoice_number,
            total_cents: note.total_cents,
            total_formatted,
            document,
            warnings,
        };
        Ok(Attached { output, attachment })
    }
}
