//! Receivables tools. One tool per file.

mod list_outstanding;

pub use list_outstanding::ListOutstanding;
