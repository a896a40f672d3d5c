//! Credit note tools: correcting an issued invoice. One tool per file.

mod create_credit_note;
mod get_credit_note;
mod list_credit_notes;

pub use create_credit_note::CreateCreditNote;
pub use get_credit_note::GetCreditNote;
pub use list_credit_notes::ListCreditNotes;

use crate::domain::CreditNoteId;
use crate::schema::{Field, string};

pub fn credit_note_id() -> Field {
    string().pattern(CreditNoteId::PATTERN).describe(
        "The credit note's id: cn_ followed by 32 hex digits, as create_credit_note or get_invoice returns it.",
    )
}
