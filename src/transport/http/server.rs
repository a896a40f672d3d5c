//! The accept loop: hyper HTTP/1.1 connections behind one tower stack built before the loop
//! and cloned per connection.
//!
//! What a misbehaving client can hold, and for how long (each a `serve` flag):
//! - a connection that sends no complete request head — silent, slow headers, or idle
//!   keep-alive — is closed after `header_read_timeout` (hyper's timer runs whenever it waits
//!   for a head);
//! - a body that trickles is answered 408 after `body_read_timeout`; the body is read before
//!   the call is admitted, so it never holds a concurrency slot;
//! - a client that stops reading its response: the call's concurrency slot is already free (a
//!   reply is complete before its first byte is written); the connection is closed once a
//!   write has stalled for `write_timeout`;
//! - at `max_connections` open connections a new one is accepted and closed at once, so a
//!   flood of sockets costs file descriptors only up to the cap and never fills the backlog.

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
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use super::{HttpState, route};

#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// How long in-flight calls may take to finish once shutdown begins.
    pub grace: Duration,
    /// How long a client may take to send its request headers (idle keep-alive included).
    pub header_read_timeout: Duration,
    /// How long a write may stall before the connection is closed.
    pub write_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
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
        // Outermost first: a panic becomes a 500, every request is traced, bodies are capped
        // (in time too: see `HttpState::body_read_timeout`).
        let service = ServiceBuilder::new()
            .layer(CatchPanicLayer::new())
            .layer(TraceLayer::new_for_http())
            .layer(RequestBodyLimitLayer::new(max_body))
            .service_fn(move |req| route(Arc::clone(&state), req));
        let connections = Arc::new(Semaphore::new(self.options.max_connections));
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
            let Ok(open) = Arc::clone(&connections).try_acquire_owned() else {
                metrics::counter!("tally_http_connections_refused_total").increment(1);
                tracing::debug!(%peer, "connection cap reached; closing the new connection");
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let mut stream = TimeoutStream::new(stream);
            stream.set_write_timeout(Some(self.options.write_timeout));
            let io = TokioIo::new(Box::pin(stream));
            let conn = builder.serve_connection(io, TowerToHyperService::new(service.clone()));
            let conn = graceful.watch(conn);
            metrics::gauge!("tally_http_connections").increment(1.0);
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                metrics::gauge!("tally_http_connections").decrement(1.0);
                drop(open);
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
