//! Invoice tools: drafts, sending, voiding and reading invoices. One tool per file.

mod create_invoice;
mod create_invoices_batch;
mod get_invoice;
mod list_invoices;
mod send_invoice;
mod update_draft_invoice;
mod void_invoice;

pub use create_invoice::{CreateInvoice, CreateInvoiceParams};
pub use create_invoices_batch::{BATCH_MAX, BatchResult, CreateInvoicesBatch};
pub use get_invoice::GetInvoice;
pub use list_invoices::{ListInvoices, ListInvoicesParams};
pub use send_invoice::SendInvoice;
pub use update_draft_invoice::UpdateDraftInvoice;
pub use void_invoice::VoidInvoice;
