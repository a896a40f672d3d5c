//! Streamable HTTP sessions, kept in Postgres so that any replica can serve any session.

use std::sync::Arc;

use rand::RngCore;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::db::cache::{Cache, Caches, Changed};
use crate::domain::Principal;

use super::methods::ClientInfo;

/// How long an idle session stays valid.
const IDLE_TTL_SECS: f64 = 24.0 * 3600.0;

/// A cached session and the token that opened it (none for an anonymous caller).
type Cached = (Session, Option<Uuid>);

#[derive(Clone)]
pub struct SessionStore {
    pool: PgPool,
    /// Live sessions by id, with the token that opened them, while the access listener runs.
    cache: Option<Arc<Cache<String, Cached>>>,
}

/// A live session as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub tenant_id: String,
    pub protocol_version: String,
    /// Set by `logging/setLevel`: which log messages this session's calls receive.
    pub log_level: Option<String>,
}

impl SessionStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, cache: None }
    }

    /// Serves `find` from `caches` while their listener runs. A session ended (or its log level
    /// set) on any replica is dropped from every replica's cache by its change's notification,
    /// and at once from this one's. A hit skips refreshing `last_seen_at`; a miss, at most
    /// every [`db::cache::TTL`], refreshes it as before (it is kept to the minute).
    pub fn with_cache(mut self, caches: &Caches) -> Self {
        self.cache = Some(caches.cache(|changed, id: &String, (_, token): &Cached| match changed {
            Changed::Session(ended) => ended == id,
            Changed::Token(revoked) => *token == Some(*revoked),
            Changed::All => true,
        }));
        self
    }

    fn forget(&self, id: &str) {
        if let Some(cache) = &self.cache {
            cache.forget(&id.to_owned());
        }
    }

    /// Starts a session; its id is 256 bits from the OS's CSPRNG, hex-encoded (visible ASCII).
    /// Starts a session for `principal`: only the same token (or, for an anonymous caller, no
    /// token) finds it again.
    pub async fn create(
        &self,
        principal: &Principal,
        version: &str,
        client: Option<&ClientInfo>,
    ) -> sqlx::Result<Session> {
        let tenant_id = principal.tenant_id.as_str();
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut tx = db::begin_for(&self.pool, tenant_id).await?;
        sqlx::query(
            "insert into mcp_sessions (session_id, tenant_id, protocol_version, client_name, client_version, token_id)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(version)
        .bind(client.map(|c| c.name.as_str()))
        .bind(client.map(|c| c.version.as_str()))
        .bind(principal.token.as_ref().map(|t| t.id))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Session { id, tenant_id: tenant_id.to_owned(), protocol_version: version.to_owned(), log_level: None })
    }

    /// Finds a live session of `tenant` (another tenant's id finds nothing: row-level security).
    /// Refreshes `last_seen_at` at most once a minute, so that the common case is a read and
    /// writes no WAL.
    pub async fn find(&self, principal: &Principal, id: &str) -> sqlx::Result<Option<Session>> {
        let token = principal.token.as_ref().map(|t| t.id);
        let ticket = self.cache.as_ref().map(|cache| (cache, cache.ticket()));
        if let Some((cache, _)) = ticket
            && let Some((session, opened_by)) = cache.get(&id.to_owned())
            && opened_by == token
            && session.tenant_id == principal.tenant_id
        {
            return Ok(Some(session));
        }
        let mut tx = db::begin_for(&self.pool, &principal.tenant_id).await?;
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "with live as (
                 select session_id, tenant_id, protocol_version, log_level, last_seen_at from mcp_sessions
                  where session_id = $1 and ended_at is null and token_id is not distinct from $3
                    and last_seen_at > now() - make_interval(secs => $2)
             ), touched as (
                 update mcp_sessions s set last_seen_at = now() from live
                  where s.session_id = live.session_id and live.last_seen_at < now() - interval '1 minute'
             )
             select tenant_id, protocol_version, log_level from live",
        )
        .bind(id)
        .bind(IDLE_TTL_SECS)
        .bind(principal.token.as_ref().map(|t| t.id))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let session = row.map(|(tenant_id, protocol_version, log_level)| Session {
            id: id.to_owned(),
            tenant_id,
            protocol_version,
            log_level,
        });
        if let (Some((cache, ticket)), Some(session)) = (ticket, &session) {
            cache.keep(ticket, id.to_owned(), (session.clone(), token), None);
        }
        Ok(session)
    }

    /// How many sessions are live (not ended, not idle past the TTL), in every replica.
    pub async fn count_live(&self) -> sqlx::Result<i64> {
        // Across tenants, through the one function the migration grants for it.
        sqlx::query_scalar("select count_live_sessions($1)").bind(IDLE_TTL_SECS).fetch_one(&self.pool).await
    }

    /// `logging/setLevel` for a session of `principal`.
    pub async fn set_log_level(&self, principal: &Principal, id: &str, level: &str) -> sqlx::Result<()> {
        let mut tx = db::begin_for(&self.pool, &principal.tenant_id).await?;
        sqlx::query("update mcp_sessions set log_level = $2 where session_id = $1 and ended_at is null")
            .bind(id)
            .bind(level)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // After the commit: a lookup that read the old row meanwhile is not kept (its ticket
        // is older), and the trigger's notification clears the other replicas.
        self.forget(id);
        Ok(())
    }

    /// `NOTIFY channel, payload`, for the other replicas.
    pub async fn notify(&self, channel: &str, payload: &str) -> sqlx::Result<()> {
        sqlx::query("select pg_notify($1, $2)").bind(channel).bind(payload).execute(&self.pool).await.map(|_| ())
    }

    /// Ends a session; returns whether a live one was found.
    pub async fn end(&self, principal: &Principal, id: &str) -> sqlx::Result<bool> {
        let mut tx = db::begin_for(&self.pool, &principal.tenant_id).await?;
        let done = sqlx::query(
            "update mcp_sessions set ended_at = now()
              where session_id = $1 and ended_at is null and token_id is not distinct from $2",
        )
        .bind(id)
        .bind(principal.token.as_ref().map(|t| t.id))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.forget(id);
        Ok(done.rows_affected() == 1)
    }
}
