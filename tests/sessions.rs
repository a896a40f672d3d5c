//! Every recorded session in tests/sessions/ replays green: one test per file, each against a
//! fresh database, on a server with the limits the session was recorded with.

use std::path::Path;

#[path = "support/fresh_db.rs"]
mod fresh_db;

use fresh_db::FreshDatabase;
use tally::app::App;
use tally::config::ServeArgs;
use tally::replay::{self, Target};

datatest_stable::harness! {
    { test = replay_session, root = "tests/sessions", pattern = r"\.jsonl$" },
}

fn replay_session(path: &Path) -> datatest_stable::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(replay_fresh(path))
}

async fn replay_fresh(path: &Path) -> datatest_stable::Result<()> {
    let recording = replay::load(path)?;
    let admin_url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL must be set (make test sets it)")?;
    let db = FreshDatabase::create(&admin_url).await?;
    let limits = &recording.header.server;
    let result = if recording.header.transport == "stdio" {
        let target =
            Target::Stdio { tally: env!("CARGO_BIN_EXE_tally").into(), database_url: db.url.clone(), token: None };
        replay::replay_one(&recording, &target).await
    } else {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(8).connect(&db.url).await?;
        let flags = [
            "--bind".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--database-url".to_owned(),
            db.url.clone(),
            "--concurrency-limit".to_owned(),
            limits.concurrency_limit.to_string(),
            "--queue-limit".to_owned(),
            limits.queue_limit.to_string(),
            "--rate-limit".to_owned(),
            limits.rate_limit.to_string(),
            "--timeout".to_owned(),
            format!("{}ms", limits.timeout_ms),
            // Recorded against `make run`, whose callers present no token.
            "--anonymous-role".to_owned(),
            "admin".to_owned(),
        ];
        let app = App::build(&ServeArgs::parse_from(flags)?, Some(pool.clone())).await?;
        let url = format!("http://{}/mcp", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let result = replay::replay_one(&recording, &Target::Url { url, token: None }).await;
        let _ = stop.send(());
        server.await?;
        result
    };
    db.drop().await?;
    match result {
        Ok(_) => Ok(()),
        Err(failure) => Err(failure.to_string().into()),
    }
}
