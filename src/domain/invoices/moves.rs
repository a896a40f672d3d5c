//! What decides a move: the invoice row locked for the rest of the transaction, the facts read
//! with the lock, and the state machine's check with a hint an agent can act on.

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::{DISPLAY_STATUS, InvoiceStatus};
use crate::domain::state::{self, Action};
use crate::domain::{DomainError, Entity, InvoiceId};

/// The facts about a locked invoice that decide a move.
#[derive(sqlx::FromRow)]
pub(crate) struct Locked {
    pub status: InvoiceStatus,
    pub customer_id: String,
    pub currency: String,
    pub total_cents: i64,
    pub amount_paid_cents: i64,
    /// Σ of the invoice's ledger (payments, credit notes, write-offs, credit applied, void):
    /// what is due is `total_cents − settled_cents`.
    pub settled_cents: i64,
    pub due_date: Option<NaiveDate>,
    pub issue_date: Option<NaiveDate>,
    pub tax_mode: crate::domain::tax::TaxMode,
    /// The tenant's today, read with the lock (see [`calendar`]).
    pub today: NaiveDate,
}

impl Locked {
    /// What is due on it now.
    pub fn due_cents(&self) -> i64 {
        self.total_cents - self.settled_cents
    }
}

/// Locks the invoice row for the rest of the transaction: concurrent moves on one invoice queue.
pub(crate) async fn lock(conn: &mut PgConnection, tenant: &str, id: InvoiceId) -> Result<Locked, DomainError> {
    sqlx::query_as(&format!(
        "select {DISPLAY_STATUS} as status, i.customer_id, i.currency, i.total_cents, i.amount_paid_cents,
                i.settled_cents,
                i.due_date, i.issue_date, i.tax_mode, (select tenant_today()) as today
           from invoices i where i.tenant_id = $1 and i.invoice_id = $2 for update"
    ))
    .bind(tenant)
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| DomainError::NotFound { entity: Entity::Invoice, id: id.to_string() })
}

/// Refuses `action` unless the machine allows it from the invoice's status.
pub(crate) fn check(locked: &Locked, action: Action) -> Result<(), DomainError> {
    let allowed = state::allowed(locked.status, locked.amount_paid_cents > 0);
    if allowed.contains(&action) {
        return Ok(());
    }
    let hint = match (action, locked.status) {
        (Action::Void, InvoiceStatus::Sent | InvoiceStatus::Overdue | InvoiceStatus::Paid)
            if locked.amount_paid_cents > 0 =>
        {
            "An invoice with payments cannot be voided: the money received must stay on record. To correct it, \
             issue a credit note (create_credit_note): it reduces what is due and sends back what was paid."
                .to_owned()
        }
        (Action::ApplyPayment, InvoiceStatus::Draft) => {
            "Send the invoice first (send_invoice), then record payments.".to_owned()
        }
        (Action::UpdateDraft, _) => {
            "Only drafts can be changed. A sent invoice without payments can be voided and re-issued.".to_owned()
        }
        (Action::Credit, InvoiceStatus::Draft) => {
            "A draft is not issued yet: change it with update_draft_invoice, or void it.".to_owned()
        }
        (_, InvoiceStatus::Paid) => {
            "The invoice is settled. To correct it, issue a credit note (create_credit_note).".to_owned()
        }
        (_, InvoiceStatus::WrittenOff) => {
            "The invoice was written off as a bad debt; nothing more can be done to it.".to_owned()
        }
        (_, InvoiceStatus::Void) => "The invoice is void; create a new invoice instead.".to_owned(),
        _ => format!("Allowed from {}: {}", locked.status.as_str(), names(&allowed)),
    };
    Err(DomainError::InvalidState { status: locked.status, action, allowed, hint })
}

fn names(actions: &[Action]) -> String {
    if actions.is_empty() { "nothing".into() } else { actions.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ") }
}
