//! Payments tools. One tool per file.

mod apply_payment;

pub use apply_payment::ApplyPayment;
