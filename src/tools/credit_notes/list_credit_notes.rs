//! list_credit_notes: the credit notes of an invoice, of a customer, or all.

use serde_json::json;

use crate::domain::{InvoiceId, InvoiceService};
use crate::schema::{integer, string};
use crate::tools::Role;
use crate::tools::outputs::CreditNoteList;
use crate::tools::shapes::customer_id;
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct ListCreditNotes(pub InvoiceService);

crate::params! {
    pub struct ListCreditNotesParams {
        invoice_id: Option<InvoiceId> = string().pattern(InvoiceId::PATTERN).optional().describe("Only this invoice's credit notes."),
        customer_id: Option<String> = customer_id().optional().describe("Only this customer's credit notes."),
        limit: u32 = integer().range(1, 100).default(json!(50)).describe("At most this many, newest first; defaults to 50."),
    }
}

impl Tool for ListCreditNotes {
    type Params = ListCreditNotesParams;
    type Output = CreditNoteList;

    fn about() -> About {
        About {
            name: "list_credit_notes",
            title: "List credit notes",
            description: "List credit notes, newest first: all of the business's, or one invoice's (invoice_id), or \
                one customer's (customer_id).",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: ListCreditNotesParams) -> Result<CreditNoteList, ToolFailure> {
        let notes = self.0.list_credit_notes(ctx.tenant_id(), p.invoice_id, p.customer_id.as_deref(), p.limit).await?;
        Ok(notes.into())
    }
}
