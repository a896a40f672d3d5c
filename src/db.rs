//! The Postgres pool and the embedded migrations.

use std::time::Duration;

use anyhow::Context;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

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
        .acquire_timeout(settings.acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        .connect_lazy_with(options))
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying migrations failed")
}

/// True when the newest migration this binary embeds has been applied (readiness needs it: a
/// replica must not serve a schema older than its code).
pub async fn migrations_current(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let newest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success").fetch_one(pool).await?;
    Ok(applied.is_some_and(|v| v >= newest))
}
