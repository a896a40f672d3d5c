//! Tenants, roles and access tokens: who may act for which books.
//!
//! A token is `tally_` + 43 base62 characters (256 random bits) + 6 base62 characters of CRC32
//! over the rest, GitHub's scheme: the prefix lets secret scanners find a leaked one, and the
//! checksum lets them (and Tally, without a query) tell a real token from a typo. It is shown
//! once, when created; Postgres keeps only its SHA-256 and a hint (prefix and last four).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use crate::db::cache::{Cache, Caches, Changed};

/// What a caller may do, from least to most. Each tool names the least role that may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads the books.
    Viewer,
    /// Also drafts, sends and takes payments.
    Clerk,
    /// Also voids invoices and changes customers.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Clerk, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Clerk => "clerk",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do what `needed` may.
    pub fn covers(self, needed: Role) -> bool {
        self >= needed
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const TOKEN_PREFIX: &str = "tally_";
const BODY_LEN: usize = 43;
const CHECK_LEN: usize = 6;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62_u32(mut n: u32) -> String {
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

fn checksum(body: &str) -> String {
    base62_u32(crc32fast::hash(body.as_bytes()))
}

/// A new token's secret.
pub fn generate_token() -> String {
    let mut rng = rand::rngs::OsRng;
    let body: String = (0..BODY_LEN).map(|_| BASE62[rng.gen_range(0..62)] as char).collect();
    let check = checksum(&body);
    format!("{TOKEN_PREFIX}{body}{check}")
}

/// Whether `token` has a token's form and its checksum agrees: a cheap check before any query.
pub fn well_formed(token: &str) -> bool {
    let Some(rest) = token.strip_prefix(TOKEN_PREFIX) else { return false };
    if rest.len() != BODY_LEN + CHECK_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, check) = rest.split_at(BODY_LEN);
    checksum(body) == check
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn hint(token: &str) -> String {
    format!("{TOKEN_PREFIX}…{}", &token[token.len() - 4..])
}

/// Who a live token is.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TokenOwner {
    pub token_id: Uuid,
    pub tenant_id: String,
    pub name: String,
    pub role: Role,
    /// The tenant's own quotas, where the operator set them.
    pub rate_limit_per_second: Option<i32>,
    pub concurrency_limit: Option<i32>,
    /// When the token stops working, if ever: a cached owner is not served past it.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Tenant {
    pub tenant_id: String,
    pub name: String,
    pub invoice_prefix: String,
    pub credit_note_prefix: String,
    pub rate_limit_per_second: Option<i32>,
    pub concurrency_limit: Option<i32>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub tenant_id: String,
    pub name: String,
    pub invoice_prefix: Option<String>,
    /// The credit note series' prefix; `CN-` when not given.
    pub credit_note_prefix: Option<String>,
    pub rate_limit_per_second: Option<u32>,
    pub concurrency_limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct TokenInfo {
    pub token_id: Uuid,
    pub tenant_id: String,
    pub name: String,
    pub role: Role,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just made: the only time its secret exists outside the caller's hands.
#[derive(Debug)]
pub struct IssuedToken {
    pub info: TokenInfo,
    pub secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("no tenant {0:?}: create it first with `tally tenant create`")]
    UnknownTenant(String),
    #[error("tenant {0:?} exists already")]
    TenantExists(String),
    #[error("a tenant id is 1-64 characters of a-z, 0-9, _ and -; got {0:?}")]
    BadTenantId(String),
    #[error("the expiry {0} is not in the future")]
    ExpiryPast(DateTime<Utc>),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

const TOKEN_COLUMNS: &str = "token_id, tenant_id, name, role, hint, created_at, expires_at, revoked_at, last_used_at";

/// Administration of tenants and tokens (the `tally tenant` and `tally token` commands, run as
/// the database owner) and the lookup of a presented token (every call, as the application).
#[derive(Clone)]
pub struct AccessService {
    pool: PgPool,
    /// Live tokens' owners by the token's hash, while the access listener runs (see
    /// [`crate::db::cache`]).
    tokens: Option<Arc<Cache<Vec<u8>, TokenOwner>>>,
}

impl AccessService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, tokens: None }
    }

    /// Serves token lookups from `caches` while their listener runs: a token revoked, edited or
    /// deleted is dropped from every replica's cache by the notification its change sends.
    pub fn with_cache(mut self, caches: &Caches) -> Self {
        self.tokens = Some(caches.cache(|changed, _, owner: &TokenOwner| match changed {
            Changed::Token(id) => owner.token_id == *id,
            _ => false,
        }));
        self
    }

    pub async fn create_tenant(&self, t: &NewTenant) -> Result<Tenant, AccessError> {
        let valid = (1..=64).contains(&t.tenant_id.len())
            && t.tenant_id.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'));
        if !valid {
            return Err(AccessError::BadTenantId(t.tenant_id.clone()));
        }
        let row = sqlx::query_as(
            "insert into tenants (tenant_id, name, invoice_prefix, rate_limit_per_second, concurrency_limit,
                                  credit_note_prefix)
             values ($1, $2, coalesce($3, 'INV-'), $4, $5, coalesce($6, 'CN-'))
             on conflict (tenant_id) do nothing
             returning tenant_id, name, invoice_prefix, credit_note_prefix, rate_limit_per_second, concurrency_limit,
                       created_at",
        )
        .bind(&t.tenant_id)
        .bind(&t.name)
        .bind(&t.invoice_prefix)
        .bind(t.rate_limit_per_second.map(|n| n as i32))
        .bind(t.concurrency_limit.map(|n| n as i32))
        .bind(&t.credit_note_prefix)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| AccessError::TenantExists(t.tenant_id.clone()))
    }

    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, AccessError> {
        Ok(sqlx::query_as(
            "select tenant_id, name, invoice_prefix, credit_note_prefix, rate_limit_per_second, concurrency_limit,
                    created_at
               from tenants order by tenant_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn create_token(
        &self,
        tenant: &str,
        name: &str,
        role: Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<IssuedToken, AccessError> {
        if let Some(at) = expires_at
            && at <= Utc::now()
        {
            return Err(AccessError::ExpiryPast(at));
        }
        let known: Option<bool> = sqlx::query_scalar("select true from tenants where tenant_id = $1")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        if known.is_none() {
            return Err(AccessError::UnknownTenant(tenant.to_owned()));
        }
        let secret = generate_token();
        let info = sqlx::query_as(&format!(
            "insert into api_tokens (token_id, tenant_id, name, role, token_hash, hint, expires_at)
             values ($1, $2, $3, $4, $5, $6, $7) returning {TOKEN_COLUMNS}"
        ))
        .bind(Uuid::now_v7())
        .bind(tenant)
        .bind(name)
        .bind(role)
        .bind(token_hash(&secret))
        .bind(hint(&secret))
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(IssuedToken { info, secret })
    }

    pub async fn list_tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenInfo>, AccessError> {
        Ok(sqlx::query_as(&format!(
            "select {TOKEN_COLUMNS} from api_tokens where $1::text is null or tenant_id = $1 order by tenant_id, created_at"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Revokes a token; false when there is no live token with that id.
    pub async fn revoke_token(&self, token_id: Uuid) -> Result<bool, AccessError> {
        let done = sqlx::query("update api_tokens set revoked_at = now() where token_id = $1 and revoked_at is null")
            .bind(token_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Who a presented token is, if it is live. A malformed one costs no query.
    pub async fn authenticate(&self, token: &str) -> Result<Option<TokenOwner>, sqlx::Error> {
        if !well_formed(token) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let ticket = self.tokens.as_ref().map(|cache| (cache, cache.ticket()));
        if let Some((cache, _)) = ticket
            && let Some(owner) = cache.get(&hash)
        {
            return Ok(Some(owner));
        }
        let owner: Option<TokenOwner> = sqlx::query_as(
            "select token_id, tenant_id, name, role, rate_limit_per_second, concurrency_limit, expires_at
               from authenticate_token($1)",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        if let (Some((cache, ticket)), Some(owner)) = (ticket, &owner) {
            match owner.expires_at.map(|at| (at - Utc::now()).to_std()) {
                None => cache.keep(ticket, hash, owner.clone(), None),
                Some(Ok(left)) => cache.keep(ticket, hash, owner.clone(), Some(Instant::now() + left)),
                // Expiring as we speak: not kept.
                Some(Err(_)) => {}
            }
        }
        Ok(owner)
    }
}

/// A tenant's own quotas, as the principal stage needs them.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TenantQuota {
    pub tenant_id: String,
    pub rate_limit_per_second: Option<i32>,
    pub concurrency_limit: Option<i32>,
}

impl AccessService {
    /// The tenant's quotas, if the tenant exists (for a principal named by an OAuth token's claim).
    pub async fn tenant_quota(&self, tenant: &str) -> Result<Option<TenantQuota>, sqlx::Error> {
        sqlx::query_as("select tenant_id, rate_limit_per_second, concurrency_limit from tenant_quota($1)")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_well_formed_and_a_typo_is_caught() {
        let t = generate_token();
        assert!(t.starts_with(TOKEN_PREFIX) && t.len() == TOKEN_PREFIX.len() + BODY_LEN + CHECK_LEN, "{t}");
        assert!(well_formed(&t));
        assert_ne!(generate_token(), t);
        // One character changed anywhere in the body fails the checksum.
        for i in TOKEN_PREFIX.len()..TOKEN_PREFIX.len() + BODY_LEN {
            let mut bytes = t.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            assert!(!well_formed(std::str::from_utf8(&bytes).unwrap()), "changed at {i}");
        }
        for bad in ["", "tally_", "ghp_abc", &t[..t.len() - 1], &format!("{t}x"), &t.replace("tally_", "tallx_")] {
            assert!(!well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn roles_are_ordered() {
        assert!(
            Role::Admin.covers(Role::Clerk) && Role::Clerk.covers(Role::Viewer) && Role::Viewer.covers(Role::Viewer)
        );
        assert!(!Role::Viewer.covers(Role::Clerk) && !Role::Clerk.covers(Role::Admin));
        assert_eq!(Role::parse("clerk"), Some(Role::Clerk));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn the_hint_is_not_the_secret() {
        let t = generate_token();
        let h = hint(&t);
        assert!(h.len() < 16 && t.ends_with(&h[h.len() - 4..]));
    }
}
