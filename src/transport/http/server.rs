//! The accept loop: hyper HTTP/1.1 connections behind one tower stack built before the loop
//! and cloned per connection.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use super::{HttpState, route};

#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// How long in-flight calls may take to finish once shutdown begins.
    pub grace: Duration,
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
}

pub struct HttpServer {
    listener: TcpListener,
    state: Arc<HttpState>,
    options: ServerOptions,
}

impl HttpServer {
    pub fn new(listener: TcpListener, state: HttpState, options: ServerOptions) -> Self {
        Self { listener, state: Arc::new(state), options }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish
    /// within the grace period and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let state = Arc::clone(&self.state);
        let max_body = state.max_body_bytes;
        // Outermost first: a panic becomes a 500, every request is traced, bodies are capped.
        let service = ServiceBuilder::new()
            .layer(CatchPanicLayer::new())
            .layer(TraceLayer::new_for_http())
            .layer(RequestBodyLimitLayer::new(max_body))
            .service_fn(move |req| route(Arc::clone(&state), req));
        let graceful = GracefulShutdown::new();
        let mut builder = http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(self.options.header_read_timeout);
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service.clone()));
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
        self.state.draining.store(true, Ordering::Release);
        drop(self.listener);
        tracing::info!(grace = ?self.options.grace, "draining in-flight requests");
        if tokio::time::timeout(self.options.grace, graceful.shutdown()).await.is_err() {
            tracing::warn!("grace period over with requests still in flight");
        }
    }
}
