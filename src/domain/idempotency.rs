//! Idempotency keys with the semantics payment APIs use. A key is scoped to tenant + tool.
//! Claiming a key inserts it inside the caller's transaction, so a concurrent claim of the same
//! key waits on the unique index until the first commits (then replays its result) or rolls back
//! (then proceeds as the first). Keys live `RETENTION`, then are treated as new and pruned.

use serde::Serialize;
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
    /// The shape of the kept result (see [`Keyed::shape`]).
    pub shape: &'static str,
}

impl IdempotencyKey {
    /// Fingerprints the request (its typed command, serialized canonically by serde).
    pub fn new<T: Serialize>(tool: &'static str, key: String, request: &T, shape: &'static str) -> Self {
        let bytes = serde_json::to_vec(request).expect("commands serialize");
        let request_hash = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        Self { tool, key, request_hash, shape }
    }
}

/// A caller's idempotency key for a write whose result is `T`, and how to keep that result: the
/// JSON text a repeat replays. The layer above chooses the form (its own wire shape), so a repeat
/// gets the first reply's very bytes and the domain needs no wire format of its own.
pub struct Keyed<T> {
    pub key: String,
    pub keep: Keep<T>,
    /// Names the kept form's shape (the layer above fingerprints its output schema). A repeat
    /// finding a reply kept in another shape, by an older Tally, is told so instead.
    pub shape: &'static str,
}

/// Turns a write's result into the JSON text kept under its key.
pub type Keep<T> = fn(T) -> String;

/// What a write returns: its result, or, when it was made with a key, the kept form of its
/// result: the same text for the first call and every repeat.
#[derive(Debug)]
pub enum Written<T> {
    Value(T),
    /// Written now under a key: the kept form, exactly what a repeat will get.
    Kept(String),
    /// The key was used before: nothing was written; the first result, as kept.
    Replayed(String),
}

impl<T> Written<T> {
    /// Whether an earlier call with the same key made this result.
    pub fn replayed(&self) -> bool {
        matches!(self, Self::Replayed(_))
    }
}

/// The outcome of claiming a key.
pub enum Claim {
    /// First use (or the old use expired): do the write, then `complete`.
    Fresh,
    /// Seen before with the same request: the first result, as kept.
    Replay(String),
}

pub async fn claim(conn: &mut PgConnection, tenant: &str, key: &IdempotencyKey) -> Result<Claim, DomainError> {
    let fresh: Option<bool> = sqlx::query_scalar(
        "insert into idempotency_keys (tenant_id, tool, idempotency_key, request_hash)
         values ($1, $2, $3, $4)
         on conflict (tenant_id, tool, idempotency_key) do update
            set request_hash = excluded.request_hash, response = null, result_shape = null, created_at = now()
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
    let (hash, response, shape): (String, Option<String>, Option<String>) = sqlx::query_as(
        "select request_hash, response::text, result_shape
           from idempotency_keys where tenant_id = $1 and tool = $2 and idempotency_key = $3",
    )
    .bind(tenant)
    .bind(key.tool)
    .bind(&key.key)
    .fetch_one(&mut *conn)
    .await?;
    replay(key, &hash, response, shape.as_deref()).map(Claim::Replay)
}

/// What a repeat of `key` gets, from what its first use kept: the request's hash, the kept reply
/// and its shape.
pub fn replay(
    key: &IdempotencyKey,
    hash: &str,
    response: Option<String>,
    shape: Option<&str>,
) -> Result<String, DomainError> {
    if hash != key.request_hash {
        return Err(DomainError::IdempotencyConflict { key: key.key.clone() });
    }
    // Committed with the key claimed but no result: only a write interrupted between the two
    // statements of one transaction could leave that, and it cannot commit. Say the write
    // happened but its result is not at hand rather than fail as an outage.
    let Some(response) = response else {
        tracing::warn!(tool = key.tool, "idempotency key committed without a result");
        return Err(DomainError::StoredResultUnreadable { key: key.key.clone() });
    };
    // Kept by a Tally whose reply had another shape (keys written before shapes were kept have
    // none): the write happened, but replaying that text would answer in a shape no longer
    // published.
    if shape != Some(key.shape) {
        tracing::info!(tool = key.tool, "idempotent result kept in an older shape");
        return Err(DomainError::StoredResultUnreadable { key: key.key.clone() });
    }
    Ok(response)
}

/// Stores the kept result of the write that claimed the key, in the same transaction. The
/// column is `json`, which keeps the text as given: a repeat replays these bytes.
pub async fn complete(
    conn: &mut PgConnection,
    tenant: &str,
    key: &IdempotencyKey,
    kept: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "update idempotency_keys set response = $4::json, result_shape = $5
          where tenant_id = $1 and tool = $2 and idempotency_key = $3",
    )
    .bind(tenant)
    .bind(key.tool)
    .bind(&key.key)
    .bind(kept)
    .bind(key.shape)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes keys past their retention; returns how many. Safe to run on every replica.
pub async fn prune(pool: &PgPool) -> Result<u64, sqlx::Error> {
    // Across tenants, through the one function the migration grants for it: it visits each
    // tenant under that tenant's own setting.
    let done: i64 =
        sqlx::query_scalar("select prune_idempotency_keys($1)").bind(RETENTION_HOURS).fetch_one(pool).await?;
    Ok(done as u64)
}
