//! Customer tools. One tool per file.

mod get_customer;
mod list_customers;
mod upsert_customer;

pub use get_customer::GetCustomer;
pub use list_customers::ListCustomers;
pub use upsert_customer::UpsertCustomer;
