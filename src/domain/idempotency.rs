//! Idempotency keys with the semantics payment APIs use. A key is scoped to tenant + tool.
//! Claiming a key inserts it inside the caller's transaction, so a concurrent claim of the same
//! key waits on the unique index until the first commits (then replays its result) or rolls back
//! (then proceeds as the first). Keys live `RETENTION`, then are treated as new and pruned.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use super::DomainError;

/// How long a key is kept; a repeat within it returns the first result.
pub const RETENTION_HOURS: i32 = 24;

/// A key as a write sees it: the tool it belongs to and the fingerprint of the request.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub tool: &'static str,
    pub key: String,
    pub request_hash: String,
}

impl IdempotencyKey {
    /// Fingerprints the request (its typed command, serialized canonically by serde).
    pub fn new<T: Serialize>(tool: &'static str, key: String, request: &T) -> Self {
        let bytes = serde_json::to_vec(request).expect("commands serialize");
        let request_hash = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        Self { tool, key, request_hash }
    }
}

/// The outcome of claiming a key.
pub enum Claim<T> {
    /// First use (or the old use expired): do the write, then `complete`.
    Fresh,
    /// Seen before with the same request: here is the first result.
    Replay(T),
}

pub async fn claim<T: DeserializeOwned>(
    conn: &mut PgConnection,
    tenant: &str,
    key: &IdempotencyKey,
) -> Result<Claim<T>, DomainError> {
    let fresh: Option<bool> = sqlx::query_scalar(
        "insert into idempotency_keys (tenant_id, tool, idempotency_key, request_hash)
         values ($1, $2, $3, $4)
         on conflict (tenant_id, tool, idempotency_key) do update
            set request_hash = excluded.request_hash, response = null, created_at = now()
          where idempotency_keys.created_at < now() - make_interval(hours => $5)
         returning true",
    )
    .bind(tenant)
    .bind(key.tool)
    .bind(&key.key)
    .bind(&key.request_hash)
    .bind(RETENTION_HOURS)
    .fetch_optional(&mut *conn)
    .await?;
    if fresh.is_some() {
        return Ok(Claim::Fresh);
    }
    let (hash, response): (String, Option<Value>) = sqlx::query_as(
        "select request_hash, response from idempotency_keys where tenant_id = $1 and tool = $2 and idempotency_key = $3",
    )
    .bind(tenant)
    .bind(key.tool)
    .bind(&key.key)
    .fetch_one(&mut *conn)
    .await?;
    if hash != key.request_hash {
        return Err(DomainError::IdempotencyConflict { key: key.key.clone() });
    }
    let response = response
        .ok_or_else(|| DomainError::Db(sqlx::Error::Protocol("idempotency key committed without a result".into())))?;
    // A result stored by an older Tally may not fit today's shape. The write happened; say so
    // instead of failing the call.
    serde_json::from_value(response).map(Claim::Replay).map_err(|e| {
        tracing::warn!(error = %e, tool = key.tool, "stored idempotent result no longer decodes");
        DomainError::StoredResultUnreadable { key: key.key.clone() }
    })
}

/// Stores the result of the write that claimed the key, in the same transaction.
pub async fn complete<T: Serialize>(
    conn: &mut PgConnection,
    tenant: &str,
    key: &IdempotencyKey,
    result: &T,
) -> Result<(), DomainError> {
    let response = serde_json::to_value(result).map_err(|e| DomainError::Db(sqlx::Error::Encode(Box::new(e))))?;
    sqlx::query(
        "update idempotency_keys set response = $4 where tenant_id = $1 and tool = $2 and idempotency_key = $3",
    )
    .bind(tenant)
    .bind(key.tool)
    .bind(&key.key)
    .bind(response)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes keys past their retention; returns how many. Safe to run on every replica.
pub async fn prune(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from idempotency_keys where created_at < now() - make_interval(hours => $1)")
        .bind(RETENTION_HOURS)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
