//! The invoice state machine: draft → sent → paid; draft | sent → void. Overdue is sent and past
//! due, so it allows what sent allows. Sent and paid invoices are corrected by credit notes; one
//! credited in full with nothing paid is void (by credit note).

use serde::Serialize;

use super::InvoiceStatus;

/// What can be done to an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    UpdateDraft,
    Send,
    ApplyPayment,
    Void,
    /// Issue a credit note against it.
    Credit,
    /// Close what is due as a bad debt.
    WriteOff,
    /// Apply the customer's credit to it.
    ApplyCredit,
}

impl Action {
    /// The tool an agent calls to do this.
    pub fn name(self) -> &'static str {
        match self {
            Self::UpdateDraft => "update_draft_invoice",
            Self::Send => "send_invoice",
            Self::ApplyPayment => "apply_payment",
            Self::Void => "void_invoice",
            Self::Credit => "create_credit_note",
            Self::WriteOff => "write_off_invoice",
            Self::ApplyCredit => "apply_customer_credit",
        }
    }
}

/// The actions allowed from a status. A sent invoice that already has payments can no longer be
/// voided; `void_allowed` tells.
pub fn allowed(status: InvoiceStatus, has_payments: bool) -> Vec<Action> {
    match status {
        InvoiceStatus::Draft => vec![Action::UpdateDraft, Action::Send, Action::Void],
        InvoiceStatus::Sent | InvoiceStatus::Overdue if has_payments => {
            vec![Action::ApplyPayment, Action::Credit, Action::ApplyCredit, Action::WriteOff]
        }
        InvoiceStatus::Sent | InvoiceStatus::Overdue => {
            vec![Action::ApplyPayment, Action::Void, Action::Credit, Action::ApplyCredit, Action::WriteOff]
        }
        InvoiceStatus::Paid => vec![Action::Credit],
        InvoiceStatus::Void | InvoiceStatus::WrittenOff => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine() {
        assert!(allowed(InvoiceStatus::Draft, false).contains(&Action::Send));
        assert!(!allowed(InvoiceStatus::Draft, false).contains(&Action::ApplyPayment));
        assert_eq!(allowed(InvoiceStatus::Overdue, false), allowed(InvoiceStatus::Sent, false));
        assert_eq!(
            allowed(InvoiceStatus::Sent, true),
            vec![Action::ApplyPayment, Action::Credit, Action::ApplyCredit, Action::WriteOff]
        );
        assert!(allowed(InvoiceStatus::WrittenOff, true).is_empty());
        assert_eq!(allowed(InvoiceStatus::Paid, false), vec![Action::Credit]);
        assert!(allowed(InvoiceStatus::Void, false).is_empty());
    }
}
