//! Creating a draft: the invoice and its lines in one transaction, idempotent.

use chrono::{DateTime, Utc};
use serde_json::json;

use sqlx::types::Json;

use super::pricing::{self, StoredLine};
use super::{Invoice, InvoiceService, InvoiceStatus, InvoiceSummary, LineItem, NewInvoice, NewLine, Supply};
use crate::db::call::NamedCall;
use crate::domain::audit::{AuditAction, Event};
use crate::domain::idempotency::{self, IdempotencyKey, Keep, Keyed, Written};
use crate::domain::money::Currency;
use crate::domain::tax::rates::TaxContext;
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
        crate::db::check_tenant_id(&actor.tenant_id)?;
        let keyed = key.map(|k| (IdempotencyKey::new(actor.via, k.key, &new, k.shape), k.keep));
        // A draft that names its currency and no tax rate is priced untaxed without a read: if the
        // tenant taxes after all, create_invoice_once says so, writes nothing, and the draft is
        // priced again with the tenant's settings.
        let untaxed = new.currency.is_some()
            && new.prices_include_tax != Some(true)
            && new.line_items.iter().all(|l| l.tax_rate_ids.is_empty());
        if untaxed && let Some(written) = self.write_draft(actor, &new, &keyed, &TaxContext::default()).await? {
            return Ok(written);
        }
        let ctx = tax_context(&self.pool, &actor.tenant_id, &new.customer_id, &new.line_items).await?;
        self.write_draft(actor, &new, &keyed, &ctx)
            .await?
            .ok_or(DomainError::Inconsistent("the tenant's tax mode changed while a draft was created"))
    }

    /// What `create` would refuse `new` for, without writing anything: a batch checks every
    /// invoice first, so that it writes all of them or none for a reason the caller can fix.
    pub async fn check_draft(&self, actor: &Actor, new: &NewInvoice) -> Result<(), DomainError> {
        crate::db::check_tenant_id(&actor.tenant_id)?;
        let ctx = tax_context(&self.pool, &actor.tenant_id, &new.customer_id, &new.line_items).await?;
        pricing::price(&new.line_items, &new.adjustments, new.prices_include_tax, &ctx).map(|_| ())
    }

    /// Prices the draft under `ctx` and writes it; None when the tenant's tax mode is not the one
    /// `ctx` priced it under.
    async fn write_draft(
        &self,
        actor: &Actor,
        new: &NewInvoice,
        keyed: &Option<(IdempotencyKey, Keep<Invoice>)>,
        ctx: &TaxContext,
    ) -> Result<Option<Written<Invoice>>, DomainError> {
        let currency = match &new.currency {
            Some(currency) => currency.clone(),
            None => ctx.currency.as_deref().and_then(Currency::parse).unwrap_or_default(),
        };
        let priced = pricing::price(&new.line_items, &new.adjustments, new.prices_include_tax, ctx)?;
        let total = priced.calculation.total;
        let id = InvoiceId::generate();
        // Postgres keeps microseconds: the reply says exactly what a later read will.
        let now = Utc::now();
        let at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        let key_text = keyed.as_ref().map(|(k, _)| k.key.clone());
        let details = json!({ "customer_id": new.customer_id, "lines": new.line_items.len() });
        let stored = priced.stored_lines(&new.line_items);
        let line_items = stored.iter().map(LineItem::from).collect();
        let taxes = priced.figures();
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
            taxes: taxes.clone(),
            payments: vec![],
            credit_notes: vec![],
            write_off: None,
            supply: Supply::default(),
            voided_at: None,
            void_reason: None,
            history,
        };
        let (kept, invoice) = match keyed {
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
            .arg("p_lines", Json(&stored))
            .arg("p_tax_mode", taxes.tax_mode)
            .arg("p_prices_include_tax", taxes.prices_include_tax)
            .arg("p_allowance_cents", taxes.allowance_cents)
            .arg("p_charge_cents", taxes.charge_cents)
            .arg("p_tax_cents", taxes.tax_cents)
            .arg("p_tax_breakdown", &taxes.tax_breakdown)
            .arg("p_adjustments", &taxes.adjustments)
            .arg("p_tool", actor.via)
            .arg("p_session_id", &actor.session_id)
            .arg("p_details", &details)
            .arg("p_token_id", actor.token.as_ref().map(|t| t.id))
            .arg("p_token_name", actor.token.as_ref().map(|t| t.name.as_str()))
            .arg("p_role", actor.role);
        let (outcome, hash, response, shape): Outcome = call.query_as().fetch_one(&self.pool).await?;
        match (outcome.as_str(), kept, invoice, key) {
            ("created", Some(kept), _, _) => Ok(Some(Written::Kept(kept))),
            ("created", None, Some(invoice), _) => Ok(Some(Written::Value(invoice))),
            ("exists", _, _, Some(key)) => {
                let hash = hash.unwrap_or_default();
                Ok(Some(Written::Replayed(idempotency::replay(key, &hash, response, shape.as_deref())?)))
            }
            ("tax_mode", ..) => Ok(None),
            _ => Err(DomainError::Inconsistent("create_invoice_once answered neither created nor exists")),
        }
    }
}

/// The customer's usual currency, the tenant's tax settings and the rates the lines name, in one
/// round trip (see [`tax::rates::context`](crate::domain::tax::rates::context)).
pub(super) async fn tax_context(
    conn: impl sqlx::PgExecutor<'_>,
    tenant: &str,
    customer_id: &str,
    lines: &[NewLine],
) -> Result<TaxContext, DomainError> {
    let mut ids: Vec<uuid::Uuid> = lines.iter().flat_map(|l| l.tax_rate_ids.iter().map(|id| id.0)).collect();
    ids.sort_unstable();
    ids.dedup();
    crate::domain::tax::rates::context(conn, tenant, customer_id, &ids).await
}

/// `create_invoice_once`'s answer: `created`, or `exists` with the key's request hash, kept
/// reply and its shape.
type Outcome = (String, Option<String>, Option<String>, Option<String>);

/// Writes a draft's lines, as priced, in one statement (`insert_invoice_lines`, see migrations/).
pub(super) async fn insert_lines(
    w: &mut Write<'_, Invoice>,
    id: InvoiceId,
    lines: &[StoredLine<'_>],
) -> Result<(), DomainError> {
    let tenant = w.tenant();
    sqlx::query("select insert_invoice_lines($1, $2, $3)")
        .bind(tenant)
        .bind(id.0)
        .bind(Json(lines))
        .execute(w.conn())
        .await?;
    Ok(())
}

impl From<&StoredLine<'_>> for LineItem {
    fn from(l: &StoredLine<'_>) -> Self {
        Self {
            line_no: l.line_no,
            description: l.description.to_owned(),
            amount_cents: l.amount_cents,
            quantity: l.quantity,
            unit_code: l.unit_code.to_owned(),
            discount_percent: l.discount_percent,
            discount_cents: l.discount_cents,
            line_total_cents: l.line_total_cents,
            net_cents: l.net_cents,
            taxes: Json(l.taxes.to_vec()),
            period_start: l.period_start,
            period_end: l.period_end,
        }
    }
}
