//! Streamable HTTP: `/mcp`, plus `/healthz`, `/readyz` and `/metrics` for operators.

mod documents;
mod guard;
mod mcp_endpoint;
mod ops;
mod reply;
mod server;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

use crate::mcp::{ErrorCode, McpService};
use crate::pipeline::Pipeline;
use crate::pipeline::oauth::OAuthConfig;
use crate::recording::Recorder;

pub use guard::Guard;
pub use reply::Body;
pub use server::{HttpServer, ServerOptions};

/// What every HTTP request may need; built once and shared by all connections.
pub struct HttpState {
    /// Every POSTed message goes through it.
    pub pipeline: Pipeline,
    /// For DELETE, which ends a session outside any call.
    pub mcp: McpService,
    pub guard: Guard,
    pub pool: PgPool,
    pub metrics: Option<PrometheusHandle>,
    pub max_body_bytes: usize,
    /// The whole body must arrive within this, or the request is answered 408.
    pub body_read_timeout: Duration,
    /// Set when shutdown begins: readiness turns false at once.
    pub draining: Arc<AtomicBool>,
    /// Closes a recorded session on DELETE (`--record-dir`).
    pub recorder: Option<Recorder>,
    /// In OAuth resource-server mode: served as RFC 9728 metadata, and named in every challenge.
    pub protected_resource: Option<OAuthConfig>,
    /// Checks the signed links of `/documents/{token}` (none: the route answers 404).
    pub links: Option<crate::domain::documents::links::LinkSigner>,
}

impl HttpState {
    /// A `WWW-Authenticate` challenge as sent: pointing at the resource metadata when there is some.
    pub fn challenge(&self, challenge: String) -> Option<http::HeaderValue> {
        let challenge = match &self.protected_resource {
            Some(config) => format!(r#"{challenge}, resource_metadata="{}""#, config.metadata_url()),
            None => challenge,
        };
        http::HeaderValue::from_str(&challenge).ok()
    }
}

/// Routes one request. Infallible: every failure is an answer.
pub async fn route<B>(state: Arc<HttpState>, req: Request<B>) -> Result<Response<Body>, Infallible>
where
    B: http_body::Body,
    B::Error: Into<tower::BoxError>,
{
    let res = match (req.method(), req.uri().path()) {
        (_, "/mcp") => mcp_endpoint::handle(&state, req).await,
        (&Method::GET, "/healthz") => ops::health(),
        (&Method::GET, "/readyz") => ops::readiness(&state).await,
        (&Method::GET, "/metrics") => ops::metrics(&state).await,
        (&Method::GET, path) if path.starts_with("/documents/") => documents::download(&state, path).await,
        (&Method::GET, path) if path.starts_with("/.well-known/oauth-protected-resource") => {
            ops::protected_resource(&state, path)
        }
        _ => reply::rpc_error(StatusCode::NOT_FOUND, ErrorCode::INVALID_REQUEST, "Not found: the MCP endpoint is /mcp"),
    };
    Ok(res)
}
