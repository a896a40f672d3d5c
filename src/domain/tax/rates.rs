//! A tenant's tax rates: created and archived by its admin, never edited, and read by every draft
//! that names one.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use super::{AppliedRate, RateRule, TaxMode, VatCategory};
use crate::domain::audit::{AuditAction, Change};
use crate::domain::idempotency::{Keyed, Written};
use crate::domain::write::{Begun, Write};
use crate::domain::{Actor, DomainError, Entity, TaxRateId};

/// A rate as the tenant's admin asks for it.
#[derive(Debug, Clone, Serialize)]
pub struct NewTaxRate {
    pub name: String,
    /// `Vat` or `SalesTax`.
    pub kind: TaxMode,
    pub percent: Decimal,
    pub category: Option<VatCategory>,
    pub jurisdiction: Option<String>,
    pub exemption_reason_code: Option<String>,
    pub exemption_reason: Option<String>,
}

/// A stored rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TaxRate {
    #[serde(with = "uuid_id")]
    pub tax_rate_id: TaxRateId,
    pub name: String,
    pub kind: TaxMode,
    pub percent: Decimal,
    pub category: Option<VatCategory>,
    pub jurisdiction: Option<String>,
    pub exemption_reason_code: Option<String>,
    pub exemption_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// A rate's id as Postgres writes it (a bare UUID) when read, and as Tally shows it when kept.
mod uuid_id {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::domain::TaxRateId;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TaxRateId, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<TaxRateId>()
            .or_else(|()| uuid::Uuid::try_parse(&s).map(TaxRateId))
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a tax rate id")))
    }

    pub fn serialize<S: Serializer>(id: &TaxRateId, s: S) -> Result<S::Ok, S::Error> {
        id.serialize(s)
    }
}

impl TaxRate {
    /// The copy a line carries.
    pub fn applied(&self) -> AppliedRate {
        AppliedRate {
            tax_rate_id: self.tax_rate_id.to_string(),
            name: self.name.clone(),
            percent: self.percent,
            category: self.category,
            jurisdiction: self.jurisdiction.clone(),
            exemption_reason_code: self.exemption_reason_code.clone(),
            exemption_reason: self.exemption_reason.clone(),
        }
    }
}

/// How a tenant taxes: its mode, and whether its prices include tax.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TaxSettings {
    pub mode: TaxMode,
    pub prices_include_tax: bool,
}

/// What a draft's calculation reads: the customer's usual currency, the tenant's settings and
/// the rates the draft names.
#[derive(Debug, Clone, Default)]
pub struct TaxContext {
    pub currency: Option<String>,
    pub settings: TaxSettings,
    pub rates: Vec<TaxRate>,
}

/// One round trip (see `tax_context` in migrations/).
pub async fn context(
    conn: impl sqlx::PgExecutor<'_>,
    tenant: &str,
    customer_id: &str,
    rate_ids: &[Uuid],
) -> Result<TaxContext, DomainError> {
    let (currency, mode, inclusive, Json(rates)): (Option<String>, TaxMode, bool, Json<Vec<TaxRate>>) =
        sqlx::query_as("select currency, tax_mode, prices_include_tax, rates from tax_context($1, $2, $3)")
            .bind(tenant)
            .bind(customer_id)
            .bind(rate_ids)
            .fetch_one(conn)
            .await?;
    Ok(TaxContext { currency, settings: TaxSettings { mode, prices_include_tax: inclusive }, rates })
}

fn refused(field: &'static str, message: String, expected: &str) -> DomainError {
    DomainError::InvalidInput { field, message, expected: expected.to_owned() }
}

impl NewTaxRate {
    /// The rules a rate must keep: a kind that taxes; VAT with a category whose rate and reason
    /// rules it keeps; sales tax with a jurisdiction and no category. Fills the usual exemption
    /// reason of AE, K, G and O when none is given.
    pub fn checked(mut self) -> Result<Self, DomainError> {
        match self.kind {
            TaxMode::None => {
                return Err(refused(
                    "kind",
                    "a tax rate is either VAT or sales tax".into(),
                    "\"vat\" or \"sales_tax\"",
                ));
            }
            TaxMode::SalesTax => {
                if self.category.is_some() || self.exemption_reason.is_some() || self.exemption_reason_code.is_some() {
                    return Err(refused(
                        "category",
                        "a sales-tax rate has a jurisdiction, not a VAT category or exemption reason".into(),
                        "no category, exemption_reason or exemption_reason_code for kind sales_tax",
                    ));
                }
                if self.jurisdiction.is_none() {
                    return Err(refused(
                        "jurisdiction",
                        "a sales-tax rate names its jurisdiction, e.g. \"CA\" or \"Los Angeles County\"".into(),
                        "the jurisdiction that levies this component",
                    ));
                }
            }
            TaxMode::Vat => {
                if self.jurisdiction.is_some() {
                    return Err(refused(
                        "jurisdiction",
                        "a VAT rate has a category, not a jurisdiction".into(),
                        "no jurisdiction for kind vat",
                    ));
                }
                let Some(category) = self.category else {
                    return Err(refused(
                        "category",
                        "a VAT rate needs its category: S (standard or reduced), Z (zero-rated), E (exempt), AE (reverse charge), K (intra-community supply), G (export), O (outside the scope), L or M".into(),
                        "one of S, Z, E, AE, K, G, O, L, M",
                    ));
                };
                let fits = match category.rate_rule() {
                    RateRule::AboveZero => self.percent > Decimal::ZERO,
                    RateRule::Zero => self.percent.is_zero(),
                    RateRule::Any => true,
                };
                if !fits {
                    let (rule, expected) = match category.rate_rule() {
                        RateRule::AboveZero => ("BR-S-05", "a percent above 0"),
                        _ => ("BR-x-05", "percent 0"),
                    };
                    return Err(refused(
                        "percent",
                        format!(
                            "a category {} VAT rate cannot be {} % (EN 16931 {rule}); {}",
                            category.code(),
                            self.percent,
                            if category == VatCategory::S {
                                "a 0 % rate is category Z (zero-rated) or E (exempt)"
                            } else {
                                "its rate is 0 %"
                            }
                        ),
                        expected,
                    ));
                }
                let has_reason = self.exemption_reason.is_some() || self.exemption_reason_code.is_some();
                if category.needs_exemption_reason() && !has_reason {
                    match category.default_exemption() {
                        Some((code, text)) => {
                            self.exemption_reason_code = Some(code.to_owned());
                            self.exemption_reason = Some(text.to_owned());
                        }
                        None => {
                            return Err(refused(
                                "exemption_reason",
                                "an exempt (E) VAT rate must say why: the exempting article, e.g. \"Exempt under Article 132(1)(i) of Directive 2006/112/EC\" (EN 16931 BR-E-10)".into(),
                                "exemption_reason, exemption_reason_code (e.g. VATEX-EU-132-1I), or both",
                            ));
                        }
                    }
                }
                if !category.needs_exemption_reason() && has_reason {
                    return Err(refused(
                        "exemption_reason",
                        format!(
                            "a category {} VAT rate carries no exemption reason (EN 16931 BR-{}-10); only E, AE, K, G and O do",
                            category.code(),
                            category.rule_prefix()
                        ),
                        "no exemption_reason or exemption_reason_code",
                    ));
                }
            }
        }
        Ok(self)
    }
}

const COLUMNS: &str = "tax_rate_id, name, kind, percent, category, jurisdiction, exemption_reason_code, \
     exemption_reason, created_at, archived_at";

#[derive(Clone)]
pub struct TaxRateService {
    pool: PgPool,
}

impl TaxRateService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    #[tracing::instrument(skip_all)]
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewTaxRate,
        key: Option<Keyed<TaxRate>>,
    ) -> Result<Written<TaxRate>, DomainError> {
        let new = new.checked()?;
        let mut w = match Write::begin(&self.pool, actor, key, &new).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let id = TaxRateId::generate();
        let Json(rate): Json<TaxRate> = sqlx::query_scalar(&format!(
            "insert into tax_rates as r (tax_rate_id, tenant_id, name, kind, percent, category, jurisdiction,
                                         exemption_reason_code, exemption_reason)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             returning jsonb_build_object({})",
            json_pairs()
        ))
        .bind(id.0)
        .bind(w.tenant())
        .bind(&new.name)
        .bind(new.kind)
        .bind(new.percent)
        .bind(new.category.map(VatCategory::code))
        .bind(&new.jurisdiction)
        .bind(&new.exemption_reason_code)
        .bind(&new.exemption_reason)
        .fetch_one(w.conn())
        .await?;
        let id_text = id.to_string();
        w.audit(Change {
            entity: Entity::TaxRate,
            entity_id: &id_text,
            action: AuditAction::Created,
            from_status: None,
            to_status: None,
            amount_cents: None,
            currency: None,
            details: json!({ "name": new.name, "kind": new.kind, "percent": new.percent.to_string(),
                             "category": new.category.map(VatCategory::code), "jurisdiction": new.jurisdiction }),
        })
        .await?;
        w.commit(rate).await
    }

    /// Archives a rate: no new line may name it; invoices that carry it keep it.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn archive(
        &self,
        actor: &Actor,
        id: TaxRateId,
        key: Option<Keyed<TaxRate>>,
    ) -> Result<Written<TaxRate>, DomainError> {
        let mut w = match Write::begin(&self.pool, actor, key, &id.to_string()).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let row: Option<Json<TaxRate>> = sqlx::query_scalar(&format!(
            "update tax_rates r set archived_at = coalesce(r.archived_at, now())
              where r.tenant_id = $1 and r.tax_rate_id = $2
              returning jsonb_build_object({})",
            json_pairs()
        ))
        .bind(w.tenant())
        .bind(id.0)
        .fetch_optional(w.conn())
        .await?;
        let Some(Json(rate)) = row else {
            return Err(DomainError::NotFound { entity: Entity::TaxRate, id: id.to_string() });
        };
        let id_text = id.to_string();
        w.audit(Change {
            entity: Entity::TaxRate,
            entity_id: &id_text,
            action: AuditAction::Updated,
            from_status: None,
            to_status: None,
            amount_cents: None,
            currency: None,
            details: json!({ "archived": true }),
        })
        .await?;
        w.commit(rate).await
    }

    /// The tenant's rates, oldest first; archived ones only when asked.
    pub async fn list(&self, tenant: &str, include_archived: bool) -> Result<Vec<TaxRate>, DomainError> {
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        let rows: Vec<Json<TaxRate>> = sqlx::query_scalar(&format!(
            "select jsonb_build_object({}) from tax_rates r
              where r.tenant_id = $1 and ($2 or r.archived_at is null)
              order by r.created_at, r.tax_rate_id",
            json_pairs()
        ))
        .bind(tenant)
        .bind(include_archived)
        .fetch_all(&mut *tx)
        .await?;
        Ok(rows.into_iter().map(|Json(r)| r).collect())
    }

    /// The tenant's tax mode and price basis.
    pub async fn settings(&self, tenant: &str) -> Result<TaxSettings, DomainError> {
        let ctx = context(&self.pool, tenant, "", &[]).await?;
        Ok(ctx.settings)
    }

    /// Sets the tenant's tax mode and price basis (kept on the business profile, which is made
    /// with the tenant's name when there is none yet). Drafts made under other settings are
    /// refused at send until they are updated: an invoice is issued with the figures it shows.
    #[tracing::instrument(skip_all)]
    pub async fn set_settings(
        &self,
        actor: &Actor,
        settings: TaxSettings,
        key: Option<Keyed<TaxSettings>>,
    ) -> Result<Written<TaxSettings>, DomainError> {
        if settings.prices_include_tax && settings.mode != TaxMode::Vat {
            return Err(refused(
                "prices_include_tax",
                format!("prices that include tax are for VAT only, and tax_mode is {}", settings.mode.as_str()),
                "false, or tax_mode vat",
            ));
        }
        let mut w = match Write::begin(&self.pool, actor, key, &(settings.mode, settings.prices_include_tax)).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        sqlx::query(
            "insert into business_profiles (tenant_id, legal_name, tax_mode, prices_include_tax)
             select t.tenant_id, t.name, $2, $3 from tenants t where t.tenant_id = $1
             on conflict (tenant_id) do update set tax_mode = excluded.tax_mode,
                    prices_include_tax = excluded.prices_include_tax, updated_at = now()",
        )
        .bind(w.tenant())
        .bind(settings.mode)
        .bind(settings.prices_include_tax)
        .execute(w.conn())
        .await?;
        let tenant = w.tenant().to_owned();
        w.audit(Change {
            entity: Entity::BusinessProfile,
            entity_id: &tenant,
            action: AuditAction::Updated,
            from_status: None,
            to_status: None,
            amount_cents: None,
            currency: None,
            details: json!({ "tax_mode": settings.mode, "prices_include_tax": settings.prices_include_tax }),
        })
        .await?;
        w.commit(settings).await
    }
}

/// A rate row as JSON, the one shape `TaxRate` reads (the percent as text, exactly).
fn json_pairs() -> String {
    COLUMNS
        .split(", ")
        .map(|c| match c.trim() {
            "percent" => "'percent', r.percent::text".to_owned(),
            c => format!("'{c}', r.{c}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
