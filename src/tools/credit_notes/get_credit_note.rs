//! get_credit_note: one credit note in full.

use super::credit_note_id;
use crate::domain::{CreditNoteId, InvoiceService};
use crate::tools::Role;
use crate::tools::outputs::CreditNote;
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct GetCreditNote(pub InvoiceService);

crate::params! {
    pub struct GetCreditNoteParams {
        credit_note_id: CreditNoteId = credit_note_id(),
    }
}

impl Tool for GetCreditNote {
    type Params = GetCreditNoteParams;
    type Output = CreditNote;

    fn about() -> About {
        About {
            name: "get_credit_note",
            title: "Get credit note",
            description: "Fetch one credit note by its credit_note_id (cn_ + 32 hex digits, from create_credit_note \
                or get_invoice): its number, the invoice it corrects, the lines and tax it credits, and where the \
                money went (applied to the invoice, refunded, kept as customer credit).",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: GetCreditNoteParams) -> Result<CreditNote, ToolFailure> {
        Ok(self.0.get_credit_note(ctx.tenant_id(), p.credit_note_id).await?.into())
    }
}
