//! Moving an invoice through the state machine: update a draft, send it (numbering it), void it.
//! Each move locks the invoice row, checks the machine, writes, audits and commits.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::create::{insert_lines, tax_context};
use super::credit_notes::figures::CreditRequest;
use super::credit_notes::{CreditReason, NewCreditNote, issue};
use super::moves::{Locked, check, lock};
use super::read::load;
use super::{Invoice, InvoiceService, InvoiceStatus, NewAdjustment, NewLine, Supply, pricing};
use crate::domain::audit::{AuditAction, Change};
use crate::domain::calendar;
use crate::domain::idempotency::{Keyed, Written};
use crate::domain::money::Currency;
use crate::domain::state::Action;
use crate::domain::tax::TaxMode;
use crate::domain::tax::rules::{self, RuleBroken};
use crate::domain::write::{Begun, Write};
use crate::domain::{Actor, DomainError, InvoiceId};

/// What `update_draft` replaces; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DraftChanges {
    pub line_items: Option<Vec<NewLine>>,
    pub adjustments: Option<Vec<NewAdjustment>>,
    pub prices_include_tax: Option<bool>,
    pub due_date: Option<NaiveDate>,
    pub memo: Option<String>,
    pub currency: Option<Currency>,
}

/// What `send` may be told about the invoice's dates; absent, the issue date is today.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct IssueDetails {
    pub issue_date: Option<NaiveDate>,
    pub supply: Supply,
}

impl InvoiceService {
    /// Replaces the given fields of a draft; new lines replace all lines and the total.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn update_draft(
        &self,
        actor: &Actor,
        id: InvoiceId,
        changes: DraftChanges,
        key: Option<Keyed<Invoice>>,
    ) -> Result<Written<Invoice>, DomainError> {
        let mut w = match Write::begin(&self.pool, actor, key, &(id, &changes)).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let locked = lock(w.conn(), &actor.tenant_id, id).await?;
        check(&locked, Action::UpdateDraft)?;
        let mut total = None;
        if changes.line_items.is_some() || changes.adjustments.is_some() || changes.prices_include_tax.is_some() {
            let current = load(w.conn(), &actor.tenant_id, id).await?;
            let (lines, adjustments, inclusive) = current.pricing_inputs();
            let lines = changes.line_items.clone().unwrap_or(lines);
            let adjustments = changes.adjustments.clone().unwrap_or(adjustments);
            let inclusive = changes.prices_include_tax.or(inclusive);
            let ctx = tax_context(w.conn(), &actor.tenant_id, &locked.customer_id, &lines).await?;
            let priced = pricing::price(&lines, &adjustments, inclusive, &ctx)?;
            sqlx::query("delete from invoice_lines where tenant_id = $1 and invoice_id = $2")
                .bind(&actor.tenant_id)
                .bind(id.0)
                .execute(w.conn())
                .await?;
            insert_lines(&mut w, id, &priced.stored_lines(&lines)).await?;
            let f = priced.figures();
            sqlx::query(
                "update invoices set tax_mode = $3, prices_include_tax = $4, allowance_cents = $5, charge_cents = $6,
                        tax_cents = $7, tax_breakdown = $8, adjustments = $9
                  where tenant_id = $1 and invoice_id = $2",
            )
            .bind(w.tenant())
            .bind(id.0)
            .bind(f.tax_mode)
            .bind(f.prices_include_tax)
            .bind(f.allowance_cents)
            .bind(f.charge_cents)
            .bind(f.tax_cents)
            .bind(&f.tax_breakdown)
            .bind(&f.adjustments)
            .execute(w.conn())
            .await?;
            total = Some(priced.calculation.total);
        }
        sqlx::query(
            "update invoices set total_cents = coalesce($3, total_cents), due_date = coalesce($4, due_date),
                    memo = coalesce($5, memo), currency = coalesce($6, currency), updated_at = now()
              where tenant_id = $1 and invoice_id = $2",
        )
        .bind(w.tenant())
        .bind(id.0)
        .bind(total)
        .bind(changes.due_date)
        .bind(&changes.memo)
        .bind(changes.currency.as_ref().map(Currency::code))
        .execute(w.conn())
        .await?;
        let changed: Vec<&str> = [
            changes.line_items.as_ref().map(|_| "line_items"),
            changes.adjustments.as_ref().map(|_| "adjustments"),
            changes.prices_include_tax.map(|_| "prices_include_tax"),
            changes.due_date.map(|_| "due_date"),
            changes.memo.as_ref().map(|_| "memo"),
            changes.currency.as_ref().map(|_| "currency"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let id_text = id.to_string();
        let currency = changes.currency.as_ref().map_or(locked.currency.as_str(), Currency::code);
        let new_total = total.unwrap_or(locked.total_cents);
        w.audit(
            Change::invoice(&id_text, AuditAction::Updated)
                .status(Some(InvoiceStatus::Draft), InvoiceStatus::Draft)
                .amount(new_total, currency)
                .details(json!({ "fields": changed, "previous_total_cents": locked.total_cents })),
        )
        .await?;
        let invoice = load(w.conn(), &actor.tenant_id, id).await?;
        w.commit(invoice).await
    }

    /// draft → sent. Assigns the next gapless number of the tenant and the issue date, freezes
    /// the seller and the buyer as they are now, and when the draft has no due date, sets it to
    /// the issue date plus the customer's payment terms.
    ///
    /// Refused, before a number is spent: a customer Tally has no record of (an invoice names its
    /// buyer); an issue date after today or before the series' latest; a due date before the issue
    /// date.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn send(
        &self,
        actor: &Actor,
        id: InvoiceId,
        issue: IssueDetails,
        key: Option<Keyed<Invoice>>,
    ) -> Result<Written<Invoice>, DomainError> {
        let mut w = match Write::begin(&self.pool, actor, key, &(id, &issue)).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let locked = lock(w.conn(), &actor.tenant_id, id).await?;
        check(&locked, Action::Send)?;
        if locked.total_cents == 0 {
            return Err(DomainError::ZeroTotal);
        }
        let today = locked.today;
        let terms: Option<i32> =
            sqlx::query_scalar("select payment_terms_days from customers where tenant_id = $1 and customer_id = $2")
                .bind(w.tenant())
                .bind(&locked.customer_id)
                .fetch_optional(w.conn())
                .await?;
        let Some(terms) = terms else {
            return Err(DomainError::InvalidInput {
                field: "invoice_id",
                message: format!(
                    "The invoice's customer {:?} has no customer record, so the invoice would name no buyer. \
                     Add the customer with upsert_customer (its name, and address and tax id if the invoice \
                     must show them), then send again.",
                    locked.customer_id
                ),
                expected: "an invoice whose customer_id names a customer added with upsert_customer".into(),
            });
        };
        self.check_tax_rules(&mut w, id, &locked, &issue).await?;
        let issue_date = issue.issue_date.unwrap_or(today);
        calendar::not_after_today("issue_date", issue_date, today, "an invoice cannot be dated in the future")?;
        let due_date = locked.due_date.unwrap_or(issue_date + chrono::Days::new(terms.max(0) as u64));
        if due_date < issue_date {
            return Err(DomainError::InvalidInput {
                field: "due_date",
                message: format!(
                    "The invoice is due {due_date}, before its issue date {issue_date}. Set a due date on or \
                     after the issue date with update_draft_invoice, or send with an earlier issue_date."
                ),
                expected: format!("a due date on or after {issue_date}"),
            });
        }
        // The counter row's lock serializes concurrent sends; a rollback gives the number back.
        let (prefix, n): (String, i64) = sqlx::query_as(
            "with next as (
                 insert into invoice_counters (tenant_id, last_number) values ($1, 1)
                 on conflict (tenant_id) do update set last_number = invoice_counters.last_number + 1
                 returning last_number
             )
             select t.invoice_prefix, next.last_number from next, tenants t where t.tenant_id = $1",
        )
        .bind(w.tenant())
        .fetch_one(w.conn())
        .await?;
        let number = format!("{prefix}{n:06}");
        // Under the counter's lock, this statement sees every earlier send committed: the issue
        // date must not go back before the series' latest, so numbers and dates rise together.
        let sent: Option<NaiveDate> = sqlx::query_scalar(
            "update invoices set status = 'sent', number = $3, issued_at = now(), issue_date = $4, due_date = $5,
                    supply_date = $6, period_start = $7, period_end = $8,
                    seller = seller_snapshot($1), buyer = buyer_snapshot($1, customer_id), updated_at = now()
              where tenant_id = $1 and invoice_id = $2
                and $4 >= coalesce((select max(l.issue_date) from invoices l
                                     where l.tenant_id = $1 and l.issue_date is not null), $4)
              returning due_date",
        )
        .bind(w.tenant())
        .bind(id.0)
        .bind(&number)
        .bind(issue_date)
        .bind(due_date)
        .bind(issue.supply.supply_date)
        .bind(issue.supply.period_start)
        .bind(issue.supply.period_end)
        .fetch_optional(w.conn())
        .await?;
        if sent.is_none() {
            let latest: Option<NaiveDate> = sqlx::query_scalar(
                "select max(issue_date) from invoices where tenant_id = $1 and issue_date is not null",
            )
            .bind(w.tenant())
            .fetch_one(w.conn())
            .await?;
            let latest = latest.unwrap_or(issue_date);
            return Err(DomainError::InvalidInput {
                field: "issue_date",
                message: format!(
                    "issue_date {issue_date} is before {latest}, the date of the latest invoice issued in this \
                     number series; invoice numbers and dates must rise together"
                ),
                expected: format!("a date from {latest} to {today}"),
            });
        }
        let id_text = id.to_string();
        w.audit(
            Change::invoice(&id_text, AuditAction::Sent)
                .status(Some(InvoiceStatus::Draft), InvoiceStatus::Sent)
                .amount(locked.total_cents, &locked.currency)
                .details(json!({ "number": number, "issue_date": issue_date, "due_date": due_date })),
        )
        .await?;
        let invoice = load(w.conn(), &actor.tenant_id, id).await?;
        w.commit(invoice).await
    }

    /// draft | sent (without payments) → void, with the reason on record.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn void(
        &self,
        actor: &Actor,
        id: InvoiceId,
        reason: String,
        key: Option<Keyed<Invoice>>,
    ) -> Result<Written<Invoice>, DomainError> {
        let mut w = match Write::begin(&self.pool, actor, key, &(id, &reason)).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let locked = lock(w.conn(), &actor.tenant_id, id).await?;
        check(&locked, Action::Void)?;
        // The customer's credit applied to it is money received too: a void would lose it. (Read
        // after the lock, so a credit applied a moment ago is seen.)
        let credit_applied: bool = sqlx::query_scalar(
            "select exists (select 1 from invoice_settlements
                             where tenant_id = $1 and invoice_id = $2 and kind = 'credit')",
        )
        .bind(w.tenant())
        .bind(id.0)
        .fetch_one(w.conn())
        .await?;
        if credit_applied {
            return Err(DomainError::InvalidInput {
                field: "invoice_id",
                message: "The customer's credit was applied to this invoice, so it cannot be voided: the credit must \
                          stay on record. Correct it with a credit note (create_credit_note, whole: true, excess_to: \
                          customer_credit), which gives the credit back."
                    .into(),
                expected: "an invoice without payments or customer credit applied".into(),
            });
        }
        if locked.tax_mode == TaxMode::Vat && locked.status != InvoiceStatus::Draft {
            // An issued VAT invoice is never cancelled by editing it: a credit note for all that
            // is left credits it, and having settled it alone, voids it (it keeps its number).
            let full = NewCreditNote {
                request: CreditRequest::Whole,
                reason: CreditReason::Void,
                memo: Some(reason.clone()),
                issue_date: None,
                excess_to: None,
                refund: None,
            };
            issue(&mut w, id, &locked, &full).await?;
            let invoice = load(w.conn(), &actor.tenant_id, id).await?;
            return w.commit(invoice).await;
        }
        sqlx::query(
            "update invoices set status = 'void', voided_at = now(), void_reason = $3, void_date = $4,
                    settled_on = $4, updated_at = now()
              where tenant_id = $1 and invoice_id = $2",
        )
        .bind(w.tenant())
        .bind(id.0)
        .bind(&reason)
        .bind(locked.today)
        .execute(w.conn())
        .await?;
        let id_text = id.to_string();
        w.audit(
            Change::invoice(&id_text, AuditAction::Voided)
                .status(Some(locked.status), InvoiceStatus::Void)
                .amount(locked.total_cents, &locked.currency)
                .details(json!({ "reason": reason })),
        )
        .await?;
        let invoice = load(w.conn(), &actor.tenant_id, id).await?;
        w.commit(invoice).await
    }
}

impl InvoiceService {
    /// Before a draft takes a number: its figures are recalculated from its lines with the
    /// tenant's rates and mode as they are now, must equal what the draft shows (else the draft is
    /// out of date and is updated first), and must keep the EN 16931 rules Tally checks itself
    /// ([`rules`]).
    async fn check_tax_rules(
        &self,
        w: &mut Write<'_, Invoice>,
        id: InvoiceId,
        locked: &Locked,
        issue: &IssueDetails,
    ) -> Result<(), DomainError> {
        let tenant = w.tenant();
        let draft = load(w.conn(), tenant, id).await?;
        let (lines, adjustments, inclusive) = draft.pricing_inputs();
        let ctx = tax_context(w.conn(), tenant, &locked.customer_id, &lines).await?;
        let priced = pricing::price(&lines, &adjustments, inclusive, &ctx).map_err(|e| match e {
            DomainError::Refused { path, message, expected } => DomainError::Refused {
                path,
                message: format!(
                    "{message} The draft was made before this changed: update it with update_draft_invoice, then send."
                ),
                expected,
            },
            other => other,
        })?;
        if priced.figures() != draft.taxes || priced.calculation.total != draft.summary.total_cents {
            return Err(DomainError::Refused {
                path: "invoice_id".into(),
                message: "The draft's figures were calculated under tax settings that have changed since. Update the draft (update_draft_invoice with its line_items) so it shows what it will carry, then send.".into(),
                expected: "a draft calculated under the business's current tax mode and rates".into(),
            });
        }
        let parties = crate::domain::parties::live(w.conn(), tenant, &locked.customer_id).await?;
        let exponent = Currency::parse(&locked.currency).map_or(2, |c| c.exponent());
        let facts = rules::Facts {
            mode: priced.settings.mode,
            calculation: &priced.calculation,
            line_rates: priced.lines.iter().map(Vec::as_slice).collect(),
            exponent,
            seller_vat_id: parties.seller.tax_id.as_deref(),
            buyer_vat_id: parties.buyer.tax_id.as_deref(),
            has_supply_date: issue.supply.supply_date.is_some()
                || (issue.supply.period_start.is_some() && issue.supply.period_end.is_some()),
        };
        rules::check(&facts).map_err(|RuleBroken { rule, path, message, expected }| DomainError::RuleBroken {
            rule,
            path,
            message,
            expected,
        })
    }
}
