//! What operators poll: `/healthz` (alive), `/readyz` (ready for traffic), `/metrics`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use http::{Response, StatusCode};
use serde_json::json;

use super::HttpState;
use super::reply::{self, Body};
use crate::db;
use crate::mcp::session::SessionStore;

/// How long a readiness probe may wait for the database.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// RFC 9728 protected resource metadata, at the bare well-known path and at the one for the
/// resource's own path (`/.well-known/oauth-protected-resource/mcp`); 404 without OAuth.
pub fn protected_resource(state: &HttpState, path: &str) -> Response<Body> {
    match &state.protected_resource {
        Some(config) if path == "/.well-known/oauth-protected-resource" || path == config.metadata_path() => {
            let mut res = reply::json(StatusCode::OK, &config.metadata());
            res.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("max-age=3600"));
            res
        }
        _ => reply::json(StatusCode::NOT_FOUND, &json!({ "error": "no protected resource metadata here" })),
    }
}

pub fn health() -> Response<Body> {
    reply::json(StatusCode::OK, &json!({ "status": "ok" }))
}

/// Ready means: not draining, the database answers, and its schema is this binary's. Else why
/// not. `tally_ready` says the same to Prometheus (set at each probe and each scrape), so that a
/// replica going in and out of readiness shows even while its /metrics answers throughout.
async fn ready(state: &HttpState) -> Result<(), &'static str> {
    let ready = if state.draining.load(Ordering::Acquire) {
        Err("draining")
    } else {
        match tokio::time::timeout(PROBE_TIMEOUT, db::migrations_current(&state.pool)).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err("migrations pending"),
            _ => Err("database unreachable"),
        }
    };
    metrics::gauge!("tally_ready").set(if ready.is_ok() { 1.0 } else { 0.0 });
    ready
}

pub async fn readiness(state: &HttpState) -> Response<Body> {
    match ready(state).await {
        Ok(()) => reply::json(StatusCode::OK, &json!({ "status": "ready" })),
        Err(why) => reply::json(StatusCode::SERVICE_UNAVAILABLE, &json!({ "status": why })),
    }
}

/// Prometheus text. Gauges read from their sources at scrape time: the pool, and the sessions
/// table (shared by every replica, so aggregate it with max(), not sum()).
pub async fn metrics(state: &HttpState) -> Response<Body> {
    let Some(handle) = &state.metrics else { return reply::empty(StatusCode::NOT_FOUND) };
    let size = f64::from(state.pool.size());
    let idle = state.pool.num_idle() as f64;
    metrics::gauge!("tally_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("tally_db_pool_connections", "state" => "in_use").set(size - idle);
    metrics::gauge!("tally_db_pool_connections", "state" => "max")
        .set(f64::from(state.pool.options().get_max_connections()));
    let _ = ready(state).await;
    let sessions = SessionStore::new(state.pool.clone());
    if let Ok(Ok(n)) = tokio::time::timeout(PROBE_TIMEOUT, sessions.count_live()).await {
        metrics::gauge!("tally_sessions_active").set(n as f64);
    }
    reply::text(StatusCode::OK, "text/plain; version=0.0.4", handle.render())
}
