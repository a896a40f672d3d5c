//! The Postgres pool and the embedded migrations.

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::config::DbArgs;

/// How often and how long to retry reaching the database at startup.
const CONNECT_ATTEMPTS: u32 = 5;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connects, retrying a few times with backoff (the database may be starting beside us).
pub async fn connect(args: &DbArgs) -> anyhow::Result<PgPool> {
    let options = PgPoolOptions::new()
        .max_connections(args.db_pool_size.max(1))
        .acquire_timeout(args.db_acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(300)));
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        match options.clone().connect(&args.database_url.0).await {
            Ok(pool) => return Ok(pool),
            Err(e @ sqlx::Error::Configuration(_)) => {
                return Err(e).context("DATABASE_URL is not a valid Postgres URL");
            }
            Err(e) if attempt >= CONNECT_ATTEMPTS => {
                return Err(e).with_context(|| {
                    format!("cannot reach the database at {:?} after {attempt} attempts", args.database_url)
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "database not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
        }
    }
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying migrations failed")
}
