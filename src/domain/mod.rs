//! The invoicing domain: rules, money and states over Postgres. It knows nothing of MCP.

pub mod access;
mod actor;
mod audit;
pub(crate) mod calendar;
pub mod cursor;
pub mod customers;
pub mod documents;
mod error;
pub mod idempotency;
mod ids;
pub mod invoices;
/// Payments belong to invoices: applied to one, read with it.
pub use invoices::payments;
pub mod money;
pub mod parties;
pub mod patch;
pub mod receivables;
pub mod state;
pub mod tax;
mod write;

pub use actor::{Actor, Principal, Quota, TokenRef};
pub use audit::{AuditAction, Event};
pub use error::{DomainError, Entity};
pub use ids::{CreditNoteId, InvoiceId, PaymentId, RefundId, TaxRateId};
pub use invoices::{
    DraftChanges, Invoice, InvoiceService, InvoiceStatus, InvoiceSummary, IssueDetails, LineItem, ListQuery,
    NewAdjustment, NewInvoice, NewLine, Page, StatusFilter, Supply,
};
pub use patch::Patch;
