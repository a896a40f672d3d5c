//! The catalogue: every tool Tally serves, once, in the order `tools/list` publishes them. The
//! server builds its registry here; `tools/list`, the role table in README.md and the tests read
//! the registry it returns (`tests/api/tool_schemas.rs` checks the README against it). Adding a
//! tool is its file under its family, one line here, and its tests.

use super::Registry;
use super::credit_notes::{CreateCreditNote, GetCreditNote, ListCreditNotes};
use super::customers::{GetCustomer, ListCustomers, UpsertCustomer};
use super::documents::{
    Documents, GetBusinessProfile, GetStatement, RenderCreditNote, RenderInvoice, SetBusinessProfile,
};
use super::invoices::{
    CreateInvoice, CreateInvoicesBatch, GetInvoice, ListInvoices, SendInvoice, UpdateDraftInvoice, VoidInvoice,
};
use super::payments::{ApplyCustomerCredit, ApplyPayment, WriteOffInvoice};
use super::receivables::ListOutstanding;
use super::taxes::{ArchiveTaxRate, CreateTaxRate, ListTaxRates, SetTaxSettings};
use crate::domain::InvoiceService;
use crate::domain::customers::CustomerService;
use crate::domain::receivables::ReceivablesService;
use crate::domain::tax::TaxRateService;

/// The domain services the tools call.
#[derive(Clone)]
pub struct Services {
    pub invoices: InvoiceService,
    pub customers: CustomerService,
    pub receivables: ReceivablesService,
    pub taxes: TaxRateService,
    /// Documents, with their download-link signer.
    pub documents: Documents,
}

/// Every tool, over `s`.
pub fn catalogue(s: &Services) -> Registry {
    Registry::new()
        .register(UpsertCustomer(s.customers.clone()))
        .register(GetCustomer(s.customers.clone()))
        .register(ListCustomers(s.customers.clone()))
        .register(CreateInvoice(s.invoices.clone()))
        .register(CreateInvoicesBatch(s.invoices.clone()))
        .register(UpdateDraftInvoice(s.invoices.clone()))
        .register(SendInvoice(s.invoices.clone()))
        .register(GetInvoice(s.invoices.clone()))
        .register(ListInvoices(s.invoices.clone()))
        .register(ApplyPayment(s.invoices.clone()))
        .register(ApplyCustomerCredit(s.invoices.clone()))
        .register(WriteOffInvoice(s.invoices.clone()))
        .register(VoidInvoice(s.invoices.clone()))
        .register(CreateCreditNote(s.invoices.clone()))
        .register(GetCreditNote(s.invoices.clone()))
        .register(ListCreditNotes(s.invoices.clone()))
        .register(ListOutstanding(s.receivables.clone()))
        .register(RenderInvoice(s.documents.clone()))
        .register(RenderCreditNote(s.documents.clone()))
        .register(GetStatement(s.documents.clone()))
        .register(GetBusinessProfile(s.documents.service.clone()))
        .register(SetBusinessProfile(s.documents.service.clone()))
        .register(SetTaxSettings(s.taxes.clone()))
        .register(CreateTaxRate(s.taxes.clone()))
        .register(ListTaxRates(s.taxes.clone()))
        .register(ArchiveTaxRate(s.taxes.clone()))
}
