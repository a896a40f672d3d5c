//! Streamable HTTP sessions, kept in Postgres so that any replica can serve any session.

use rand::RngCore;
use sqlx::PgPool;

use crate::db;

use super::methods::ClientInfo;

/// How long an idle session stays valid.
const IDLE_TTL_SECS: f64 = 24.0 * 3600.0;

#[derive(Clone)]
pub struct SessionStore {
    pool: PgPool,
}

/// A live session as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub tenant_id: String,
    pub protocol_version: String,
}

impl SessionStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Starts a session; its id is 256 bits from the OS's CSPRNG, hex-encoded (visible ASCII).
    pub async fn create(&self, tenant_id: &str, version: &str, client: Option<&ClientInfo>) -> sqlx::Result<Session> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut tx = db::begin_for(&self.pool, tenant_id).await?;
        sqlx::query(
            "insert into mcp_sessions (session_id, tenant_id, protocol_version, client_name, client_version)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(version)
        .bind(client.map(|c| c.name.as_str()))
        .bind(client.map(|c| c.version.as_str()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Session { id, tenant_id: tenant_id.to_owned(), protocol_version: version.to_owned() })
    }

    /// Finds a live session of `tenant` (another tenant's id finds nothing: row-level security).
    /// Refreshes `last_seen_at` at most once a minute, so that the common case is a read and
    /// writes no WAL.
    pub async fn find(&self, tenant: &str, id: &str) -> sqlx::Result<Option<Session>> {
        let mut tx = db::begin_for(&self.pool, tenant).await?;
        let row: Option<(String, String)> = sqlx::query_as(
            "with live as (
                 select session_id, tenant_id, protocol_version, last_seen_at from mcp_sessions
                  where session_id = $1 and ended_at is null
                    and last_seen_at > now() - make_interval(secs => $2)
             ), touched as (
                 update mcp_sessions s set last_seen_at = now() from live
                  where s.session_id = live.session_id and live.last_seen_at < now() - interval '1 minute'
             )
             select tenant_id, protocol_version from live",
        )
        .bind(id)
        .bind(IDLE_TTL_SECS)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(|(tenant_id, protocol_version)| Session { id: id.to_owned(), tenant_id, protocol_version }))
    }

    /// How many sessions are live (not ended, not idle past the TTL), in every replica.
    pub async fn count_live(&self) -> sqlx::Result<i64> {
        // Across tenants, through the one function the migration grants for it.
        sqlx::query_scalar("select count_live_sessions($1)").bind(IDLE_TTL_SECS).fetch_one(&self.pool).await
    }

    /// Ends a session; returns whether a live one was found.
    pub async fn end(&self, tenant: &str, id: &str) -> sqlx::Result<bool> {
        let mut tx = db::begin_for(&self.pool, tenant).await?;
        let done = sqlx::query("update mcp_sessions set ended_at = now() where session_id = $1 and ended_at is null")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
