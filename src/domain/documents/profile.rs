//! The seller on a tenant's documents: its business profile, set by its admins.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::FromRow;

use super::super::audit::{AuditAction, Change};
use super::super::idempotency::{Keyed, Written};
use super::super::money::AmountStyle;
use super::super::write::{Begun, Write};
use super::super::{Actor, DomainError, Entity};
use super::super::{Patch, calendar};
use super::{DocumentService, sha256_hex};

/// The largest logo Tally keeps, in bytes.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Logo {
    /// `image/png` or `image/svg+xml`.
    pub media_type: &'static str,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl Logo {
    /// Recognises a PNG by its signature and an SVG by its root element; anything else is refused.
    pub fn sniff(bytes: Vec<u8>) -> Result<Self, DomainError> {
        let invalid = |message: String| DomainError::InvalidInput {
            field: "logo_base64",
            message,
            expected: format!("a PNG or SVG image of at most {MAX_LOGO_BYTES} bytes, base64-encoded"),
        };
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(invalid(format!("The logo is {} bytes; at most {MAX_LOGO_BYTES} are kept", bytes.len())));
        }
        let media_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if std::str::from_utf8(&bytes).is_ok_and(|text| text.contains("<svg")) {
            "image/svg+xml"
        } else {
            return Err(invalid("The logo is neither a PNG nor an SVG image".into()));
        };
        Ok(Self { media_type, bytes })
    }

    /// The path templates read it at.
    pub fn path(&self) -> &'static str {
        if self.media_type == "image/png" { "/logo.png" } else { "/logo.svg" }
    }
}

/// What `set_business_profile` changes: only the fields given (`Patch::Clear` clears one). The
/// legal name is the tenant's name until one is set; the time zone is UTC until one is set. The
/// logo is kept unless a new one is given or `remove_logo` is set.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileUpdate {
    pub legal_name: Option<String>,
    pub address: Patch<String>,
    pub tax_id: Patch<String>,
    pub email: Patch<String>,
    pub phone: Patch<String>,
    pub payment_instructions: Patch<String>,
    pub payment_link: Patch<String>,
    pub footer: Patch<String>,
    /// An IANA time zone name: the tenant's "today" is the date there.
    pub time_zone: Option<String>,
    /// How documents write amounts, by example: `1,234.56`, `1.234,56`, `1 234,56`, `1'234.56`.
    pub amount_format: Option<String>,
    /// A digest stands in for the bytes in the idempotency hash.
    #[serde(serialize_with = "logo_digest")]
    pub logo: Option<Logo>,
    pub remove_logo: bool,
}

fn logo_digest<S: serde::Serializer>(logo: &Option<Logo>, s: S) -> Result<S::Ok, S::Error> {
    logo.as_ref().map(|l| sha256_hex(&l.bytes)).serialize(s)
}

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct BusinessProfile {
    pub legal_name: String,
    pub address: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub payment_instructions: Option<String>,
    pub payment_link: Option<String>,
    pub footer: Option<String>,
    pub logo: Option<Vec<u8>>,
    pub logo_type: Option<String>,
    pub time_zone: String,
    pub amount_format: String,
    /// Null until an admin sets the profile (the tenant's name stands in).
    pub updated_at: Option<DateTime<Utc>>,
}

impl BusinessProfile {
    pub fn logo(&self) -> Option<Logo> {
        let bytes = self.logo.clone()?;
        Logo::sniff(bytes).ok()
    }
}

const COLUMNS: &str = "legal_name, address, tax_id, email, phone, payment_instructions, payment_link, footer, \
                       logo, logo_type, time_zone, amount_format, updated_at";

/// The tenant's profile, or one made of its name alone.
pub(crate) async fn load(conn: &mut sqlx::PgConnection, tenant: &str) -> Result<BusinessProfile, DomainError> {
    let stored: Option<BusinessProfile> =
        sqlx::query_as(&format!("select {COLUMNS} from business_profiles where tenant_id = $1"))
            .bind(tenant)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(profile) = stored {
        return Ok(profile);
    }
    let name: String = sqlx::query_scalar("select name from tenants where tenant_id = $1")
        .bind(tenant)
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or_else(|| tenant.to_owned());
    Ok(BusinessProfile {
        legal_name: name,
        address: None,
        tax_id: None,
        email: None,
        phone: None,
        payment_instructions: None,
        payment_link: None,
        footer: None,
        logo: None,
        logo_type: None,
        time_zone: "UTC".to_owned(),
        amount_format: AmountStyle::default().name().to_owned(),
        updated_at: None,
    })
}

impl DocumentService {
    pub async fn profile(&self, tenant: &str) -> Result<BusinessProfile, DomainError> {
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        load(&mut tx, tenant).await
    }

    /// Stores the profile. A new logo is typeset once first, so one typst cannot read is refused
    /// here rather than breaking every document later.
    #[tracing::instrument(skip_all)]
    pub async fn set_profile(
        &self,
        actor: &Actor,
        update: ProfileUpdate,
        key: Option<Keyed<BusinessProfile>>,
    ) -> Result<Written<BusinessProfile>, DomainError> {
        if let Some(logo) = &update.logo {
            self.probe_logo(logo).await?;
        }
        let mut w = match Write::begin(&self.pool, actor, key, &update).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        if let Some(zone) = &update.time_zone {
            calendar::check_time_zone(w.conn(), zone).await?;
            calendar::check_zone_keeps_the_books_past(w.conn(), zone).await?;
        }
        if let Some(format) = update.amount_format.as_deref().filter(|f| AmountStyle::parse(f).is_none()) {
            return Err(DomainError::InvalidInput {
                field: "amount_format",
                message: format!("{format:?} is not one of the amount formats documents print"),
                expected: format!("one of {}", AmountStyle::CHOICES.map(|(name, _)| name).join(", ")),
            });
        }
        // The current profile under its row lock (or the tenant's name alone), then the fields
        // given applied to it: what is not given stays as it is.
        sqlx::query("select 1 from business_profiles where tenant_id = $1 for update")
            .bind(w.tenant())
            .execute(w.conn())
            .await?;
        let current = load(w.conn(), &actor.tenant_id).await?;
        let ProfileUpdate {
            legal_name,
            address,
            tax_id,
            email,
            phone,
            payment_instructions,
            payment_link,
            footer,
            time_zone,
            amount_format,
            logo,
            remove_logo,
        } = update;
        let (logo_sha256, logo_type, logo_bytes): (Option<String>, Option<String>, Option<Vec<u8>>) =
            match (&logo, remove_logo) {
                (Some(l), _) => {
                    let sha = sha256_hex(&l.bytes);
                    sqlx::query(
                        "insert into business_logos (tenant_id, sha256, media_type, bytes) values ($1, $2, $3, $4)
                     on conflict do nothing",
                    )
                    .bind(w.tenant())
                    .bind(&sha)
                    .bind(l.media_type)
                    .bind(&l.bytes)
                    .execute(w.conn())
                    .await?;
                    (Some(sha), Some(l.media_type.to_owned()), Some(l.bytes.clone()))
                }
                (None, true) => (None, None, None),
                (None, false) => {
                    (current.logo.as_deref().map(sha256_hex), current.logo_type.clone(), current.logo.clone())
                }
            };
        let profile: BusinessProfile = sqlx::query_as(&format!(
            "insert into business_profiles as b (tenant_id, legal_name, address, tax_id, email, phone,
                                                 payment_instructions, payment_link, footer, logo, logo_type,
                                                 logo_sha256, time_zone, amount_format)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             on conflict (tenant_id) do update
                set legal_name = excluded.legal_name, address = excluded.address, tax_id = excluded.tax_id,
                    email = excluded.email, phone = excluded.phone,
                    payment_instructions = excluded.payment_instructions, payment_link = excluded.payment_link,
                    footer = excluded.footer, logo = excluded.logo, logo_type = excluded.logo_type,
                    logo_sha256 = excluded.logo_sha256, time_zone = excluded.time_zone,
                    amount_format = excluded.amount_format, updated_at = now()
             returning {COLUMNS}"
        ))
        .bind(w.tenant())
        .bind(legal_name.unwrap_or(current.legal_name))
        .bind(address.apply(current.address))
        .bind(tax_id.apply(current.tax_id))
        .bind(email.apply(current.email))
        .bind(phone.apply(current.phone))
        .bind(payment_instructions.apply(current.payment_instructions))
        .bind(payment_link.apply(current.payment_link))
        .bind(footer.apply(current.footer))
        .bind(logo_bytes)
        .bind(logo_type)
        .bind(logo_sha256)
        .bind(time_zone.unwrap_or(current.time_zone))
        .bind(amount_format.unwrap_or(current.amount_format))
        .fetch_one(w.conn())
        .await?;
        // Which fields are printed now, not their text (bank details stay out of the audit trail).
        let printed: Vec<&str> = [
            ("address", &profile.address),
            ("tax_id", &profile.tax_id),
            ("email", &profile.email),
            ("phone", &profile.phone),
            ("payment_instructions", &profile.payment_instructions),
            ("payment_link", &profile.payment_link),
            ("footer", &profile.footer),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.is_some().then_some(name))
        .collect();
        let details = json!({ "legal_name": profile.legal_name, "logo": profile.logo_type, "printed": printed,
                              "time_zone": profile.time_zone });
        w.audit(Change {
            entity: Entity::BusinessProfile,
            entity_id: "business_profile",
            action: AuditAction::Updated,
            from_status: None,
            to_status: None,
            amount_cents: None,
            currency: None,
            details,
        })
        .await?;
        w.commit(profile).await
    }

    async fn probe_logo(&self, logo: &Logo) -> Result<(), DomainError> {
        let job = crate::render::Job {
            template: "#set page(width: 4cm, height: 4cm)\n#image(json(bytes(sys.inputs.data)).logo, width: 2cm)",
            modules: &[],
            data: json!({ "logo": logo.path() }),
            ident: "logo-probe".into(),
            date: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date"),
            files: vec![(logo.path().to_owned(), logo.bytes.clone())],
        };
        self.renderer.render(job).await.map(drop).map_err(|e| DomainError::InvalidInput {
            field: "logo_base64",
            message: format!("The logo cannot be printed: {e}"),
            expected: "a well-formed PNG or SVG image".into(),
        })
    }
}
