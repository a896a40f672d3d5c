//! The audit trail: an append-only record of every change (the table refuses updates and
//! deletes). It is what an invoice's history shows.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgExecutor};

use super::{Actor, DomainError, Entity, InvoiceStatus};

/// What a change did (stored as text; the table's check constraint lists the same values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AuditAction {
    Created,
    Updated,
    Sent,
    PaymentApplied,
    Voided,
    /// A credit note was issued against the invoice.
    Credited,
    /// A credit note was issued (its own record).
    Issued,
    /// Money went back to the customer.
    Refunded,
    /// What was due was closed as a bad debt.
    WrittenOff,
    /// The customer's credit was applied to the invoice.
    CreditApplied,
}

impl AuditAction {
    pub const ALL: [Self; 10] = [
        Self::Created,
        Self::Updated,
        Self::Sent,
        Self::PaymentApplied,
        Self::Voided,
        Self::Credited,
        Self::Issued,
        Self::Refunded,
        Self::WrittenOff,
        Self::CreditApplied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Sent => "sent",
            Self::PaymentApplied => "payment_applied",
            Self::Voided => "voided",
            Self::Credited => "credited",
            Self::Issued => "issued",
            Self::Refunded => "refunded",
            Self::WrittenOff => "written_off",
            Self::CreditApplied => "credit_applied",
        }
    }
}

/// One change, as a write describes it.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub entity: Entity,
    pub entity_id: &'a str,
    pub action: AuditAction,
    pub from_status: Option<InvoiceStatus>,
    pub to_status: Option<InvoiceStatus>,
    pub amount_cents: Option<i64>,
    pub currency: Option<&'a str>,
    pub details: Value,
}

impl<'a> Change<'a> {
    pub fn invoice(invoice_id: &'a str, action: AuditAction) -> Self {
        Self::of(Entity::Invoice, invoice_id, action)
    }

    pub fn of(entity: Entity, entity_id: &'a str, action: AuditAction) -> Self {
        Self {
            entity,
            entity_id,
            action,
            from_status: None,
            to_status: None,
            amount_cents: None,
            currency: None,
            details: Value::Object(Default::default()),
        }
    }

    pub fn status(mut self, from: Option<InvoiceStatus>, to: InvoiceStatus) -> Self {
        self.from_status = from;
        self.to_status = Some(to);
        self
    }

    pub fn amount(mut self, cents: i64, currency: &'a str) -> Self {
        self.amount_cents = Some(cents);
        self.currency = Some(currency);
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// The one statement that appends an audit record, its values given as SQL expressions (the
/// placeholders or literals of the statement it is part of): tenant, tool, session, entity,
/// entity id, action, from and to status, amount, currency, idempotency key, details.
macro_rules! insert_audit_event {
    ($tenant:literal, $tool:literal, $session:literal, $entity:literal, $entity_id:literal, $action:literal,
     $from:literal, $to:literal, $amount:literal, $currency:literal, $key:literal, $details:literal,
     $token_id:literal, $token_name:literal, $role:literal) => {
        concat!(
            "insert into audit_events (tenant_id, tool, session_id, entity, entity_id, action, from_status, to_status, ",
            "amount_cents, currency, idempotency_key, details, token_id, token_name, role) values (",
            $tenant, ", ", $tool, ", ", $session, ", ", $entity, ", ", $entity_id, ", ", $action, ", ",
            $from, ", ", $to, ", ", $amount, ", ", $currency, ", ", $key, ", ", $details, ", ",
            $token_id, ", ", $token_name, ", ", $role, ")"
        )
    };
}

/// One entry of an entity's history, as readers see it.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub action: AuditAction,
    pub from_status: Option<InvoiceStatus>,
    pub to_status: Option<InvoiceStatus>,
    pub amount_cents: Option<i64>,
    pub currency: Option<String>,
    pub via: String,
    pub session_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub details: Value,
    /// Who: the role and the access token (id and name, never the secret) it acted with; no
    /// token for the process's own operator, and neither on changes made before roles existed.
    pub role: Option<super::access::Role>,
    pub token_id: Option<uuid::Uuid>,
    pub token_name: Option<String>,
}

pub async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    key: Option<&str>,
    c: Change<'_>,
) -> Result<(), DomainError> {
    sqlx::query(insert_audit_event!(
        "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15"
    ))
    .bind(&actor.tenant_id)
    .bind(actor.via)
    .bind(&actor.session_id)
    .bind(c.entity.as_str())
    .bind(c.entity_id)
    .bind(c.action)
    .bind(c.from_status)
    .bind(c.to_status)
    .bind(c.amount_cents)
    .bind(c.currency)
    .bind(key)
    .bind(c.details)
    .bind(actor.token.as_ref().map(|t| t.id))
    .bind(actor.token.as_ref().map(|t| t.name.as_str()))
    .bind(actor.role)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn history<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    entity: Entity,
    entity_id: &str,
) -> Result<Vec<Event>, DomainError> {
    Ok(sqlx::query_as(
        "select occurred_at as at, action, from_status, to_status, amount_cents, currency, tool as via, session_id,
                idempotency_key, details, role, token_id, token_name
           from audit_events where tenant_id = $1 and entity = $2 and entity_id = $3 order by event_id",
    )
    .bind(tenant)
    .bind(entity.as_str())
    .bind(entity_id)
    .fetch_all(db)
    .await?)
}
