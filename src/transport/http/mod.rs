//! Streamable HTTP: `/mcp`, plus `/healthz`, `/readyz` and `/metrics` for operators.

mod guard;
mod mcp_endpoint;
mod reply;
mod server;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use sqlx::PgPool;

use crate::mcp::{ErrorCode, McpService};
use crate::middleware::McpStack;
use crate::recording::Recorder;

pub use guard::Guard;
pub use reply::Body;
pub use server::{HttpServer, ServerOptions};

/// What every HTTP request may need; built once and shared by all connections.
pub struct HttpState {
    pub stack: McpStack,
    pub mcp: McpService,
    pub guard: Guard,
    pub pool: PgPool,
    pub metrics: Option<PrometheusHandle>,
    pub max_body_bytes: usize,
    pub timeout: Duration,
    /// Set when shutdown begins: readiness turns false at once.
    pub draining: Arc<AtomicBool>,
    /// Records sessions when `--record-dir` is set.
    pub recorder: Option<Recorder>,
}

/// Routes one request. Infallible: every failure is an answer.
pub async fn route<B>(state: Arc<HttpState>, req: Request<B>) -> Result<Response<Body>, Infallible>
where
    B: http_body::Body,
    B::Error: Into<tower::BoxError>,
{
    let res = match (req.method(), req.uri().path()) {
        (_, "/mcp") => mcp_endpoint::handle(&state, req).await,
        (&Method::GET, "/healthz") => reply::json(StatusCode::OK, &json!({ "status": "ok" })),
        (&Method::GET, "/readyz") => readiness(&state).await,
        (&Method::GET, "/metrics") => match &state.metrics {
            Some(handle) => reply::text(StatusCode::OK, "text/plain; version=0.0.4", handle.render()),
            None => reply::empty(StatusCode::NOT_FOUND),
        },
        _ => reply::rpc_error(StatusCode::NOT_FOUND, ErrorCode::INVALID_REQUEST, "Not found: the MCP endpoint is /mcp"),
    };
    Ok(res)
}

/// Ready means: not draining, and the database answers within a second.
async fn readiness(state: &HttpState) -> Response<Body> {
    if state.draining.load(Ordering::Acquire) {
        return reply::json(StatusCode::SERVICE_UNAVAILABLE, &json!({ "status": "draining" }));
    }
    let probe = sqlx::query_scalar::<_, i32>("select 1").fetch_one(&state.pool);
    match tokio::time::timeout(Duration::from_secs(1), probe).await {
        Ok(Ok(_)) => reply::json(StatusCode::OK, &json!({ "status": "ready" })),
        _ => reply::json(StatusCode::SERVICE_UNAVAILABLE, &json!({ "status": "database unreachable" })),
    }
}
