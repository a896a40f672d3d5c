//! The Postgres pool and the embedded migrations.

use std::time::Duration;

use anyhow::Context;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};

/// How to reach the database: what `connect` needs, whoever configured it (the CLI, a test).
#[derive(Debug, Clone)]
pub struct DbSettings<'a> {
    /// The URL; shown only through `redacted` (it may hold a password).
    pub url: &'a str,
    /// The URL as logs and errors may show it.
    pub redacted: String,
    pub pool_size: u32,
    pub acquire_timeout: Duration,
}

/// How often to try reaching the database at startup, and how long one try may take.
const CONNECT_ATTEMPTS: u32 = 5;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A pooled connection idle this long is pinged before it is handed out.
const PING_WHEN_IDLE: Duration = Duration::from_secs(10);

pub mod cache;
pub mod call;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connects, retrying a few times with backoff (the database may be starting beside us). Each
/// attempt is one plain connection, so a refused one fails at once; the pool itself connects
/// lazily once the database has answered.
pub async fn connect(settings: &DbSettings<'_>) -> anyhow::Result<PgPool> {
    let url = settings.url;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        anyhow::bail!("DATABASE_URL must be a postgres:// or postgresql:// URL, got {:?}", settings.redacted);
    }
    let options = PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid Postgres URL")?;
    let mut delay = Duration::from_millis(250);
    for attempt in 1..=CONNECT_ATTEMPTS {
        let probe = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await;
        match probe
            .map_err(|_| anyhow::anyhow!("timed out after {CONNECT_TIMEOUT:?}"))
            .and_then(|r| r.map_err(Into::into))
        {
            Ok(conn) => {
                let _ = conn.close().await;
                break;
            }
            Err(e) if attempt == CONNECT_ATTEMPTS => {
                return Err(e.context(format!(
                    "cannot reach the database at {:?} after {attempt} attempts",
                    settings.redacted
                )));
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "database not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
    Ok(PgPoolOptions::new()
        .max_connections(settings.pool_size.max(1))
        // No ping before each acquire: it would be a round trip on every call. A connection
        // idle for a while is pinged (it may have died: a Postgres restart, a proxy's timeout);
        // one that was in use a moment ago is not. A dead one that slips through is found by
        // `begin_for`'s first statement, which then takes another.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .acquire_timeout(settings.acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        .connect_lazy_with(options))
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying migrations failed")
}

/// Readies the schema at start: migrates (the login owns the schema), or with `skip` (the login
/// is the server's own role, which may not) only checks that the owner has migrated.
pub async fn prepare(pool: &PgPool, skip: bool) -> anyhow::Result<()> {
    if !skip {
        return migrate(pool).await;
    }
    match migrations_current(pool).await {
        Ok(true) => Ok(()),
        Ok(false) => anyhow::bail!("the database schema is behind this binary: run `tally migrate` as its owner first"),
        Err(e) => {
            Err(anyhow::Error::new(e).context("cannot read the schema's migrations (run `tally migrate` as the owner)"))
        }
    }
}

/// True when the newest migration this binary embeds has been applied (readiness needs it: a
/// replica must not serve a schema older than its code).
pub async fn migrations_current(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let newest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success").fetch_one(pool).await?;
    Ok(applied.is_some_and(|v| v >= newest))
}

/// The role every tenant transaction runs as (created by the row-level-security migration): it
/// owns nothing and cannot bypass the policies.
pub const APP_ROLE: &str = "tally_app";

/// A tenant id as the `tenants` table allows it (`^[a-z0-9_-]{1,64}$`), so that it can be
/// written into the BEGIN statement as a literal.
pub fn is_tenant_id(tenant: &str) -> bool {
    (1..=64).contains(&tenant.len()) && tenant.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

/// Refuses what is not a tenant id before any statement is sent for it.
pub fn check_tenant_id(tenant: &str) -> Result<(), sqlx::Error> {
    if is_tenant_id(tenant) {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(format!("{tenant:?} is not a tenant id").into()))
    }
}

/// Begins a transaction scoped to `tenant`, in one round trip:
/// `begin; set local role tally_app; select set_config('app.tenant_id', …, true)`. Both settings
/// end with the transaction, so a pooled connection never carries them into another call, and
/// row-level security holds whatever the SQL inside forgets to filter.
///
/// Run to completion even if the caller is dropped meanwhile: sqlx-postgres 0.8.6 (and 0.9.0) is
/// not cancel-safe here (sqlx#4393): a call dropped at its deadline while BEGIN's reply is on its
/// way leaves the session inside a transaction that nothing rolls back, and the pool hands that
/// connection to the next caller, whose statements then run inside it. On a task of its own
/// BEGIN always completes; if the caller is gone by then, the `Transaction` is dropped there and
/// its ROLLBACK is queued as for any other abandoned one. Covered by tests/api/network_faults.rs
/// (a_write_cut_off_during_begin_leaves_no_transaction_open).
///
/// A read may simply drop its transaction: sqlx queues the ROLLBACK and flushes it with the ping
/// it sends when the connection goes back to the pool, off the caller's path.
pub async fn begin_for(pool: &PgPool, tenant: &str) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    check_tenant_id(tenant)?;
    let begin = format!("begin; set local role {APP_ROLE}; select set_config('app.tenant_id', '{tenant}', true)");
    let pool = pool.clone();
    let begun = async move {
        // A pooled connection that died while idle fails its first write with an I/O error,
        // before anything ran: take another, as many times as the pool could hold dead ones.
        let mut tries = pool.options().get_max_connections() + 1;
        loop {
            tries -= 1;
            match pool.begin_with(begin.clone()).await {
                Err(e) if tries > 0 && is_dead_connection(&e) => {
                    tracing::info!(error = %e, "a pooled connection was dead; taking another");
                }
                begun => return begun,
            }
        }
    };
    match tokio::spawn(begun).await {
        Ok(begun) => begun,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only when the runtime is shutting down.
        Err(_) => Err(sqlx::Error::PoolClosed),
    }
}

/// A pool of one connection of its own, with the same options as `pool`, for a task that holds
/// a connection for good (a LISTEN): taken from the calls' pool, it would cost them a slot.
pub fn own_connection(pool: &PgPool) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(pool.connect_options().as_ref().clone())
}

/// An error that says the connection itself is gone (closed by the server, reset, cut), as
/// opposed to an error of the statement.
pub fn is_dead_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c == "57P01"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_tenant_ids_reach_the_begin_statement() {
        for ok in ["default", "acme-1", "a_b", &"x".repeat(64)] {
            assert!(super::is_tenant_id(ok), "{ok}");
        }
        for bad in ["", "Acme", "a'b", "a;b", "a b", "é", &"x".repeat(65)] {
            assert!(!super::is_tenant_id(bad), "{bad}");
        }
    }
}
