//! Payments tools: money received, the customer's credit applied, and bad debts written off. One
//! tool per file.

mod apply_customer_credit;
mod apply_payment;
mod write_off_invoice;

pub use apply_customer_credit::ApplyCustomerCredit;
pub use apply_payment::ApplyPayment;
pub use write_off_invoice::WriteOffInvoice;
