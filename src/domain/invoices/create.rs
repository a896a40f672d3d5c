//! Creating a draft: the invoice and its lines in one transaction, idempotent.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Invoice, InvoiceService, InvoiceStatus, InvoiceSummary, LineItem, NewInvoice, NewLine, Supply};
use crate::db::call::NamedCall;
use crate::domain::audit::{AuditAction, Event};
use crate::domain::idempotency::{self, IdempotencyKey, Keyed, Written};
use crate::domain::money::{self, Currency};
use crate::domain::write::Write;
use crate::domain::{Actor, DomainError, InvoiceId};

impl InvoiceService {
    /// Creates a draft invoice and its lines. With an idempotency key, a repeat returns the
    /// first result and a different request under the key is refused.
    ///
    /// One round trip: the reply is made first (the id, times and line totals are Tally's own),
    /// then `create_invoice_once` claims the key, writes the invoice, its lines, the audit record
    /// and the kept reply, and commits, as one statement (see its migration).
    #[tracing::instrument(skip_all, fields(lines = new.line_items.len()))]
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewInvoice,
        key: Option<Keyed<Invoice>>,
    ) -> Result<Written<Invoice>, DomainError> {
        let total = money::total_of(new.line_items.iter().map(|l| (l.amount_cents, i64::from(l.quantity))))
            .ok_or(DomainError::TotalTooLarge)?;
        crate::db::check_tenant_id(&actor.tenant_id)?;
        let currency = match &new.currency {
            Some(currency) => currency.clone(),
            None => self.usual_currency(&actor.tenant_id, &new.customer_id).await?,
        };
        let keyed = key.map(|k| (IdempotencyKey::new(actor.via, k.key, &new, k.shape), k.keep));
        let id = InvoiceId::generate();
        // Postgres keeps microseconds: the reply says exactly what a later read will.
        let now = Utc::now();
        let at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        let key_text = keyed.as_ref().map(|(k, _)| k.key.clone());
        let details = json!({ "customer_id": new.customer_id, "lines": new.line_items.len() });
        let descriptions: Vec<&str> = new.line_items.iter().map(|l| l.description.as_str()).collect();
        let amounts: Vec<i64> = new.line_items.iter().map(|l| l.amount_cents).collect();
        let quantities: Vec<i32> = new.line_items.iter().map(|l| l.quantity).collect();
        let line_items = new
            .line_items
            .iter()
            .zip(1..)
            .map(|(l, line_no)| LineItem {
                line_no,
                description: l.description.clone(),
                amount_cents: l.amount_cents,
                quantity: l.quantity,
                // total_of has checked every product.
                line_total_cents: l.amount_cents * i64::from(l.quantity),
            })
            .collect();
        let history = vec![Event {
            at,
            action: AuditAction::Created,
            from_status: None,
            to_status: Some(InvoiceStatus::Draft),
            amount_cents: Some(total),
            currency: Some(currency.code().to_owned()),
            via: actor.via.to_owned(),
            session_id: actor.session_id.clone(),
            idempotency_key: key_text.clone(),
            details: details.clone(),
            role: Some(actor.role),
            token_id: actor.token.as_ref().map(|t| t.id),
            token_name: actor.token.as_ref().map(|t| t.name.clone()),
        }];
        let invoice = Invoice {
            summary: InvoiceSummary {
                invoice_id: id,
                number: None,
                status: InvoiceStatus::Draft,
                customer_id: new.customer_id.clone(),
                currency: currency.code().to_owned(),
                total_cents: total,
                amount_paid_cents: 0,
                amount_due_cents: total,
                amount_due_formatted: String::new(),
                due_date: new.due_date,
                issue_date: None,
                issued_at: None,
                memo: new.memo.clone(),
                created_at: at,
            }
            .derive(),
            line_items,
            payments: vec![],
            supply: Supply::default(),
            voided_at: None,
            void_reason: None,
            history,
        };
        let (kept, invoice) = match &keyed {
            Some((_, keep)) => (Some(keep(invoice)), None),
            None => (None, Some(invoice)),
        };
        let key = keyed.as_ref().map(|(k, _)| k);
        let entity_id = id.to_string();
        let mut call = NamedCall::new("outcome, request_hash, response, result_shape", "create_invoice_once")
            .arg("p_tenant", &actor.tenant_id)
            .arg("p_key", &key_text)
            .arg("p_request_hash", key.map(|k| k.request_hash.as_str()))
            .arg("p_response", &kept)
            .arg("p_shape", key.map(|k| k.shape))
            .arg("p_retention_hours", idempotency::RETENTION_HOURS)
            .arg("p_invoice_id", id.0)
            .arg("p_entity_id", &entity_id)
            .arg("p_customer_id", &new.customer_id)
            .arg("p_currency", currency.code())
            .arg("p_total_cents", total)
            .arg("p_due_date", new.due_date)
            .arg("p_memo", &new.memo)
            .arg("p_created_at", at)
            .arg("p_descriptions", &descriptions)
            .arg("p_amounts", &amounts)
            .arg("p_quantities", &quantities)
            .arg("p_tool", actor.via)
            .arg("p_session_id", &actor.session_id)
            .arg("p_details", &details)
            .arg("p_token_id", actor.token.as_ref().map(|t| t.id))
            .arg("p_token_name", actor.token.as_ref().map(|t| t.name.as_str()))
            .arg("p_role", actor.role);
        let (outcome, hash, response, shape): Outcome = call.query_as().fetch_one(&self.pool).await?;
        match (outcome.as_str(), kept, invoice, key) {
            ("created", Some(kept), _, _) => Ok(Written::Kept(kept)),
            ("created", None, Some(invoice), _) => Ok(Written::Value(invoice)),
            ("exists", _, _, Some(key)) => {
                let hash = hash.unwrap_or_default();
                Ok(Written::Replayed(idempotency::replay(key, &hash, response, shape.as_deref())?))
            }
            _ => Err(DomainError::Inconsistent("create_invoice_once answered neither created nor exists")),
        }
    }
}

impl InvoiceService {
    /// The customer's usual currency, or USD for a customer Tally has no record of. Only a create
    /// that names no currency pays this round trip (one statement, scoped to the tenant by
    /// `customer_currency` as `create_invoice_once` scopes itself).
    async fn usual_currency(&self, tenant: &str, customer_id: &str) -> Result<Currency, DomainError> {
        let stored: Option<String> = sqlx::query_scalar("select customer_currency($1, $2)")
            .bind(tenant)
            .bind(customer_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(stored.and_then(|code| Currency::parse(&code)).unwrap_or_default())
    }
}

/// `create_invoice_once`'s answer: `created`, or `exists` with the key's request hash, kept
/// reply and its shape.
type Outcome = (String, Option<String>, Option<String>, Option<String>);

/// The one statement that writes an invoice's lines from three arrays (description, unit
/// amount, quantity), numbering them from 1; Postgres computes each line's total and a
/// constraint checks it. Its values are given as SQL expressions: invoice id, tenant, arrays.
macro_rules! insert_invoice_lines {
    ($invoice:literal, $tenant:literal, $descriptions:literal, $amounts:literal, $quantities:literal) => {
        concat!(
            "insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, line_total_cents) ",
            "select ", $invoice, ", l.line_no, ", $tenant, ", l.description, l.amount_cents, l.quantity, l.amount_cents * l.quantity ",
            "from unnest(", $descriptions, "::text[], ", $amounts, "::bigint[], ", $quantities, "::integer[]) with ordinality ",
            "as l(description, amount_cents, quantity, line_no) ",
            "returning line_no::integer as line_no, description, amount_cents, quantity, line_total_cents"
        )
    };
}

/// Writes the lines in one statement; totals per line are computed by Postgres and checked by
/// a constraint.
pub(super) async fn insert_lines(
    w: &mut Write<'_, Invoice>,
    id: InvoiceId,
    lines: &[NewLine],
) -> Result<Vec<LineItem>, DomainError> {
    let descriptions: Vec<&str> = lines.iter().map(|l| l.description.as_str()).collect();
    let amounts: Vec<i64> = lines.iter().map(|l| l.amount_cents).collect();
    let quantities: Vec<i32> = lines.iter().map(|l| l.quantity).collect();
    let tenant = w.tenant();
    Ok(sqlx::query_as(insert_invoice_lines!("$1", "$2", "$3", "$4", "$5"))
        .bind(id.0)
        .bind(tenant)
        .bind(&descriptions)
        .bind(&amounts)
        .bind(&quantities)
        .fetch_all(w.conn())
        .await?)
}
