//! The invoicing domain: rules, money and states over Postgres. It knows nothing of MCP.

mod cursor;
mod error;
pub mod idempotency;
mod ids;
pub mod invoices;
pub mod money;

pub use error::DomainError;
pub use ids::InvoiceId;
pub use invoices::{
    Invoice, InvoiceService, InvoiceStatus, InvoiceSummary, LineItem, ListQuery, NewInvoice,
    NewLine, Page, StatusFilter,
};
