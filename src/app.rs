//! Wiring: pool → domain services → tool registry → MCP service → limit stack → transport.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;

use std::path::PathBuf;

use crate::config::{DocumentArgs, LimitArgs, ServeArgs, StdioArgs};
use crate::db::cache::Caches;
use crate::domain::access::{AccessService, Role};
use crate::domain::customers::CustomerService;
use crate::domain::documents::DocumentService;
use crate::domain::receivables::ReceivablesService;
use crate::domain::{InvoiceService, Principal, idempotency};
use crate::mcp::McpService;
use crate::mcp::session::SessionStore;
use crate::middleware::{ClusterSettings, Heartbeat, Limits, McpStack, RateShares, mcp_stack};
use crate::pipeline::Pipeline;
use crate::pipeline::auth::Authenticator;
use crate::pipeline::oauth::OAuth;
use crate::recording::{Recorder, RecorderTask};
use crate::render::Renderer;
use crate::tools::Registry;
use crate::tools::catalogue::{Services, catalogue};
use crate::tools::documents::Documents;
use crate::transport::http::{Guard, HttpServer, HttpState, ServerOptions};
use crate::transport::stdio::{self, StdioOptions};
use crate::{db, telemetry};

/// How often expired idempotency keys are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Every tool Tally serves (the catalogue), over the services of one pool, with documents rendered
/// as the defaults say (no download links).
pub fn registry(pool: &PgPool) -> Registry {
    registry_with(pool, &DocumentArgs::default()).expect("the default document settings are valid")
}

pub fn registry_with(pool: &PgPool, docs: &DocumentArgs) -> anyhow::Result<Registry> {
    let documents = DocumentService::new(pool.clone(), Renderer::new(docs.render_concurrency));
    let services = Services {
        invoices: InvoiceService::new(pool.clone()),
        customers: CustomerService::new(pool.clone()),
        receivables: ReceivablesService::new(pool.clone()),
        taxes: crate::domain::tax::TaxRateService::new(pool.clone()),
        documents: Documents { service: documents, links: docs.links().map_err(anyhow::Error::msg)? },
    };
    Ok(catalogue(&services))
}

fn stack(
    pool: &PgPool,
    caches: &Caches,
    limits: Limits,
    shares: &RateShares,
    docs: &DocumentArgs,
) -> anyhow::Result<(McpStack, McpService)> {
    let sessions = SessionStore::new(pool.clone()).with_cache(caches);
    let service = McpService::new(registry_with(pool, docs)?, sessions);
    Ok((mcp_stack(limits, shares, service.clone()), service))
}

/// What every HTTP request shares, as `serve` builds it over `pool` (the fuzz targets in
/// tests/fuzz/ build theirs with it too, over a pool that points nowhere).
///
/// Sessions and tokens are served from `caches` while their listener runs (`App` starts it).
/// The rate limits are this process's own; `App` shares them with the other replicas.
pub fn http_state(
    args: &ServeArgs,
    pool: &PgPool,
    caches: &Caches,
    recorder: Option<Recorder>,
) -> anyhow::Result<HttpState> {
    let shares = RateShares::new(args.limits.rate_limit);
    http_state_sharing(args, pool, caches, &shares, recorder)
}

/// `http_state`, its rates enforced as this replica's part of `shares`.
fn http_state_sharing(
    args: &ServeArgs,
    pool: &PgPool,
    caches: &Caches,
    shares: &RateShares,
    recorder: Option<Recorder>,
) -> anyhow::Result<HttpState> {
    let limits = args.limits.limits();
    let (stack, mcp) = stack(pool, caches, limits, shares, &args.documents)?;
    let anonymous = args.anonymous_role().map(|role| Principal::operator(&args.tenant, role));
    let protected_resource = args.oauth.config();
    let oauth = protected_resource.clone().map(|config| Arc::new(OAuth::new(config)));
    let auth = Authenticator::new(AccessService::new(pool.clone()).with_cache(caches), anonymous).with_oauth(oauth);
    Ok(HttpState {
        pipeline: Pipeline::new(stack, limits.timeout, recorder.clone(), auth),
        mcp,
        guard: Guard::new(args.bind.ip().is_loopback(), args.allowed_hosts.clone(), args.allowed_origins.clone()),
        pool: pool.clone(),
        metrics: Some(telemetry::metrics()),
        max_body_bytes: args.max_body_bytes,
        body_read_timeout: args.body_read_timeout,
        draining: Arc::new(AtomicBool::new(false)),
        recorder,
        protected_resource,
        links: args.documents.links().map_err(anyhow::Error::msg)?,
    })
}

/// The HTTP server, bound and ready to run.
pub struct App {
    server: HttpServer,
    pool: PgPool,
    mcp: McpService,
    caches: Caches,
    recorder_task: Option<RecorderTask>,
    shares: RateShares,
    cluster: ClusterSettings,
}

impl App {
    /// Connects (unless given a pool), migrates and binds. Port 0 binds a free port.
    pub async fn build(args: &ServeArgs, pool: Option<PgPool>) -> anyhow::Result<Self> {
        args.limits.check(&args.db).map_err(anyhow::Error::msg)?;
        let cluster = args.cluster.settings().map_err(anyhow::Error::msg)?;
        if args.anonymous_role().is_some() && !args.bind.ip().is_loopback() {
            anyhow::bail!(
                "--anonymous-role (TALLY_ANONYMOUS_ROLE) serves callers without a token, so it is allowed on a \
                 loopback address only, not {}; drop it and give agents tokens (`tally token create`)",
                args.bind
            );
        }
        if let Some(config) = args.oauth.config() {
            config.check().map_err(anyhow::Error::msg)?;
        }
        let pool = match pool {
            Some(pool) => pool,
            None => db::connect(&args.db.settings()).await?,
        };
        db::prepare(&pool, args.skip_migrations).await?;
        let listener = TcpListener::bind(args.bind).await.with_context(|| format!("cannot listen on {}", args.bind))?;
        let (recorder, recorder_task) = start_recorder(args.record_dir.as_ref(), &args.limits)?.unzip();
        let caches = Caches::default();
        let shares = RateShares::new(args.limits.rate_limit);
        let state = http_state_sharing(args, &pool, &caches, &shares, recorder)?;
        let mcp = state.mcp.clone();
        let options = ServerOptions {
            grace: args.shutdown_grace,
            header_read_timeout: args.header_read_timeout,
            write_timeout: args.write_timeout,
            max_connections: args.max_connections,
        };
        Ok(Self {
            server: HttpServer::new(listener, state, options),
            pool,
            mcp,
            caches,
            recorder_task,
            shares,
            cluster,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, drains, and closes the pool.
    ///
    /// The rate limits' heartbeat runs from before the first call until `shutdown`, when this
    /// replica leaves the cluster (its share goes to the others at once). Dropped instead (a
    /// crash, as tests stage one), it stops without leaving, and the others take the share when
    /// the liveness window has passed.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) {
        let pruner = tokio::spawn(prune_idempotency_keys(self.pool.clone()));
        let cancels = tokio::spawn(self.mcp.clone().listen_for_cancels(self.pool.clone()));
        let access_changes = tokio::spawn(self.caches.clone().listen(self.pool.clone()));
        let mut heartbeat =
            Heartbeat::new(self.shares.clone(), self.pool.connect_options().as_ref().clone(), self.cluster);
        // The first before serving, so that a replica joining a busy cluster starts at its share.
        heartbeat.beat().await;
        let leave = tokio_util::sync::CancellationToken::new();
        let heartbeat = AbortOnDrop(tokio::spawn(heartbeat.run(leave.clone())));
        tracing::info!(addr = %self.local_addr(), replicas = self.shares.replicas(), "serving MCP at /mcp");
        self.server
            .run(async {
                shutdown.await;
                leave.cancel();
            })
            .await;
        if let Some(recorder) = self.recorder_task {
            recorder.finish().await;
        }
        heartbeat.finish().await;
        pruner.abort();
        cancels.abort();
        access_changes.abort();
        self.pool.close().await;
        tracing::info!("stopped");
    }
}

/// Serves one stdio client until stdin closes.
pub async fn run_stdio(args: &StdioArgs) -> anyhow::Result<()> {
    args.limits.check(&args.db).map_err(anyhow::Error::msg)?;
    let pool = db::connect(&args.db.settings()).await?;
    db::prepare(&pool, args.skip_migrations).await?;
    let limits = args.limits.limits();
    // stdio serves one client: its session and token are looked up each call (no listener), and
    // its rate limits are its own (no heartbeat).
    let shares = RateShares::new(args.limits.rate_limit);
    let (stack, _) = stack(&pool, &Caches::default(), limits, &shares, &args.documents)?;
    let access = AccessService::new(pool.clone());
    // A token is checked before the first message too, so a wrong one fails at once, plainly.
    if let Some(token) = &args.token
        && access.authenticate(token).await.context("checking TALLY_TOKEN")?.is_none()
    {
        anyhow::bail!("TALLY_TOKEN is not a live access token (unknown, revoked or expired)");
    }
    let auth = Authenticator::new(access, Some(Principal::operator(&args.tenant, Role::Admin)));
    let (recorder, recorder_task) = start_recorder(args.record_dir.as_ref(), &args.limits)?.unzip();
    let options = StdioOptions { token: args.token.clone(), max_line_bytes: args.max_body_bytes };
    let pipeline = Pipeline::new(stack, limits.timeout, recorder, auth);
    let served = stdio::serve(pipeline, options, tokio::io::stdin(), tokio::io::stdout()).await;
    if let Some(recorder) = recorder_task {
        recorder.finish().await;
    }
    served.context("stdio transport failed")?;
    pool.close().await;
    Ok(())
}

fn start_recorder(dir: Option<&PathBuf>, limits: &LimitArgs) -> anyhow::Result<Option<(Recorder, RecorderTask)>> {
    let Some(dir) = dir else { return Ok(None) };
    let started = Recorder::start(dir.clone(), limits.recorded())
        .with_context(|| format!("cannot record sessions into {}", dir.display()))?;
    tracing::info!(dir = %dir.display(), "recording sessions");
    Ok(Some(started))
}

/// A task that ends with its owner: dropped, it is aborted.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    /// Waits for the task to end by itself (briefly: it has been told to).
    async fn finish(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.0).await;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn prune_idempotency_keys(pool: PgPool) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    loop {
        every.tick().await;
        match idempotency::prune(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "pruned expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "pruning idempotency keys failed"),
        }
    }
}

/// `tally render URI -o FILE`: the document exactly as `resources/read` serves it to the tenant's
/// admin. Golden tests render with it in separate processes to show the bytes are the same.
pub async fn render(args: &crate::config::RenderArgs) -> anyhow::Result<()> {
    let pool = db::connect(&args.db.settings()).await?;
    db::migrate(&pool).await?;
    let registry = registry(&pool);
    let ctx = crate::tools::ToolContext::new(crate::domain::Principal::operator(&args.tenant, Role::Admin), None);
    match registry.read_resource(&args.uri, ctx).await {
        Ok(crate::tools::resources::Contents::Blob { bytes, .. }) => {
            std::fs::write(&args.output, &bytes)?;
            eprintln!("wrote {} ({} bytes)", args.output.display(), bytes.len());
            Ok(())
        }
        Ok(crate::tools::resources::Contents::Text(_)) => anyhow::bail!("{} is not a document", args.uri),
        Err(e) => anyhow::bail!("cannot render {}: {e:?}", args.uri),
    }
}
