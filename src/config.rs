//! Settings: CLI flags with environment fallbacks. Secrets never reach `Debug` output.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::middleware::Limits;

#[derive(Debug, Parser)]
#[command(name = "tally", version, about = "An MCP server for invoices, customers and payments in Postgres")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log filter, e.g. `info` or `tally=debug,sqlx=warn`.
    #[arg(long, env = "TALLY_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log format on stderr.
    #[arg(long, env = "TALLY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over Streamable HTTP at /mcp (plus /healthz, /readyz, /metrics).
    Serve(Box<ServeArgs>),
    /// Serve MCP over stdin/stdout for one local client.
    Stdio(StdioArgs),
    /// Apply the embedded migrations and exit.
    Migrate(DbArgs),
    /// Replay recorded sessions against a server and report every answer that differs.
    Replay(ReplayArgs),
    /// Measure a running server against Postgres's own ceiling (see `make bench`).
    Bench(BenchArgs),
    /// Create and list tenants: the businesses whose books this deployment keeps (as the owner).
    Tenant(TenantArgs),
    /// Create, list and revoke access tokens (as the database owner).
    Token(TokenArgs),
    /// Render one tenant's invoice or statement PDF to a file (as the database owner).
    Render(RenderArgs),
}

/// Rendering documents: how many at once, and the signed download links.
#[derive(Debug, Clone, Args)]
pub struct DocumentArgs {
    /// Documents typeset at once (each takes a blocking thread); more wait their turn.
    #[arg(long, env = "TALLY_RENDER_CONCURRENCY", default_value_t = 2)]
    pub render_concurrency: usize,
    /// Key (at least 32 bytes, the same on every replica) that signs download links: with it and
    /// --public-url, render_invoice and get_statement return a link a person can open without a
    /// token, served at /documents/…. Without it, no links.
    #[arg(long, env = "TALLY_DOCUMENT_LINK_KEY", hide_env_values = true)]
    pub document_link_key: Option<String>,
    /// Where people reach this server, e.g. https://tally.example.com (download links).
    #[arg(long, env = "TALLY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long a download link works.
    #[arg(long, env = "TALLY_DOCUMENT_LINK_TTL", default_value = "1h", value_parser = humantime::parse_duration)]
    pub document_link_ttl: Duration,
}

impl DocumentArgs {
    /// The link signer, when both the key and the public URL are set.
    pub fn links(&self) -> Result<Option<crate::domain::documents::links::LinkSigner>, String> {
        match (&self.document_link_key, &self.public_url) {
            (Some(key), Some(url)) => {
                crate::domain::documents::links::LinkSigner::new(key.as_bytes(), url, self.document_link_ttl).map(Some)
            }
            (Some(_), None) => Err("TALLY_DOCUMENT_LINK_KEY needs TALLY_PUBLIC_URL: the links point there".into()),
            _ => Ok(None),
        }
    }
}

impl Default for DocumentArgs {
    fn default() -> Self {
        Self {
            render_concurrency: 2,
            document_link_key: None,
            public_url: None,
            document_link_ttl: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The tenant whose document it is.
    #[arg(long, default_value = "default")]
    pub tenant: String,
    /// A resource URI: invoice://{invoice_id}/pdf, credit_note://{credit_note_id}/pdf, or
    /// statement://{customer_id}/activity/{from}/{to}
    /// or statement://{customer_id}/open-items/{as_of}.
    pub uri: String,
    /// Where to write the PDF.
    #[arg(long, short)]
    pub output: std::path::PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct TenantArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: TenantCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TenantCommand {
    /// Add a tenant.
    Create {
        /// Its id: 1-64 characters of a-z, 0-9, _ and -.
        id: String,
        /// The business's name.
        #[arg(long)]
        name: String,
        /// Prefix of its invoice numbers.
        #[arg(long, default_value = "INV-")]
        invoice_prefix: String,
        /// Prefix of its credit note numbers (0-20 of A-Z a-z 0-9 / _ . -).
        #[arg(long, default_value = "CN-")]
        credit_note_prefix: String,
        /// Its own calls-per-second quota (beside the global limit).
        #[arg(long)]
        rate_limit: Option<NonZeroU32>,
        /// Its own limit on calls running at once.
        #[arg(long)]
        concurrency_limit: Option<NonZeroU32>,
    },
    /// List tenants.
    List,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Make a token; its secret is printed once, on stdout, and never stored.
    Create {
        /// The tenant it acts for.
        #[arg(long)]
        tenant: String,
        /// What it may do: viewer (reads), clerk (also drafts, sends, payments), admin (also voids
        /// and customer changes).
        #[arg(long)]
        role: String,
        /// Who or what holds it, e.g. "billing agent".
        #[arg(long)]
        name: String,
        /// Expires this long from now (e.g. 30d, 12h); never when omitted.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<Duration>,
    },
    /// List tokens (hints only, never secrets).
    List {
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a token: refused from its next call on, on every replica.
    Revoke {
        /// The token's id, as `token list` shows it.
        token_id: uuid::Uuid,
    },
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The server's MCP endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8080/mcp")]
    pub url: String,
    /// The server's database (seeded for the read scenarios; pgbench runs against it).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: DatabaseUrl,
    /// The server's process id, for its CPU time and peak RSS.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// pgbench, for the ceiling.
    #[arg(long)]
    pub pgbench: Option<std::path::PathBuf>,
    /// The peer's MCP endpoint (benches/peer: a plain rmcp server), driven the same way right
    /// after Tally in each create and list scenario, for the Tally / peer ratio.
    #[arg(long)]
    pub peer_url: Option<String>,
    /// The peer's process id, for its CPU time per call.
    #[arg(long)]
    pub peer_pid: Option<u32>,
    /// How long each scenario runs.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// A few hundred calls in all, to check the harness works.
    #[arg(long)]
    pub smoke: bool,
    /// Run only the scenarios whose names start so (for profiling one): create, list, get, mixed,
    /// render, get_statement.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Callers for every scenario run (instead of 1/8/32/128 creators and 32 readers).
    #[arg(long)]
    pub callers: Option<usize>,
    /// The growth run instead: seed each size in turn (e.g. 10000,100000,1000000) and measure
    /// list_invoices, get_invoice, list_outstanding and a statement at each.
    #[arg(long, value_delimiter = ',')]
    pub growth: Vec<u64>,
    /// Write the figures as JSON here.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["url", "stdio"])))]
pub struct ReplayArgs {
    /// Recording files, or directories of `*.jsonl` recordings.
    #[arg(required = true)]
    pub paths: Vec<std::path::PathBuf>,
    /// Replay over Streamable HTTP against this MCP endpoint, e.g. http://127.0.0.1:8080/mcp.
    #[arg(long)]
    pub url: Option<String>,
    /// Replay over stdio: start `tally stdio` (this binary) for each session, on DATABASE_URL.
    #[arg(long)]
    pub stdio: bool,
    /// The database the stdio server uses.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<DatabaseUrl>,
    /// The access token to present (recordings never hold one): `Authorization: Bearer` over
    /// HTTP, `TALLY_TOKEN` for the stdio server.
    #[arg(long, env = "TALLY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// A database URL whose password is never printed.
#[derive(Clone)]
pub struct DatabaseUrl(pub String);

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = match (self.0.split_once("://"), self.0.rfind('@')) {
            (Some((scheme, rest)), Some(at)) if rest.contains(':') && at > scheme.len() + 3 => {
                let user = rest.split(':').next().unwrap_or("");
                format!("{scheme}://{user}:***{}", &self.0[at..])
            }
            _ => self.0.clone(),
        };
        f.write_str(&redacted)
    }
}

/// Checked when connecting (`db::connect`), so that a bad URL is one line of error, not clap's
/// usage text.
impl FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Postgres connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: DatabaseUrl,
    /// Maximum connections in the pool.
    #[arg(long, env = "TALLY_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: u32,
    /// How long a call may wait for a pooled connection before a retryable error.
    #[arg(long, env = "TALLY_DB_ACQUIRE_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_acquire_timeout: Duration,
}

impl DbArgs {
    /// What `db::connect` needs.
    pub fn settings(&self) -> crate::db::DbSettings<'_> {
        crate::db::DbSettings {
            url: &self.database_url.0,
            redacted: format!("{:?}", self.database_url),
            pool_size: self.db_pool_size,
            acquire_timeout: self.db_acquire_timeout,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Calls served at once, across all connections.
    #[arg(long, env = "TALLY_CONCURRENCY_LIMIT", default_value_t = 64)]
    pub concurrency_limit: usize,
    /// Calls that may wait for a slot; beyond it calls are refused (503).
    #[arg(long, env = "TALLY_QUEUE_LIMIT", default_value_t = 512)]
    pub queue_limit: usize,
    /// Calls per second for the whole deployment, however many replicas serve it (each takes a
    /// share, agreed through Postgres); beyond it calls are refused (429).
    #[arg(long, env = "TALLY_RATE_LIMIT", default_value = "1000")]
    pub rate_limit: NonZeroU32,
    /// Deadline of a call from its arrival, queueing included.
    #[arg(long, env = "TALLY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Each tenant's calls per second across the deployment, unless its own is set (`tally
    /// tenant create --rate-limit`); none: only the global limit.
    #[arg(long, env = "TALLY_TENANT_RATE_LIMIT")]
    pub tenant_rate_limit: Option<NonZeroU32>,
    /// Each tenant's calls at once on each replica, unless its own is set; none: only the global
    /// limit.
    #[arg(long, env = "TALLY_TENANT_CONCURRENCY_LIMIT")]
    pub tenant_concurrency_limit: Option<std::num::NonZeroUsize>,
}

impl LimitArgs {
    /// An exhausted pool must answer with a retryable error well before the call's own
    /// deadline, or every call would end as a timeout instead.
    pub fn check(&self, db: &DbArgs) -> Result<(), String> {
        if db.db_acquire_timeout >= self.timeout {
            return Err(format!(
                "TALLY_DB_ACQUIRE_TIMEOUT ({:?}) must be below TALLY_TIMEOUT ({:?})",
                db.db_acquire_timeout, self.timeout
            ));
        }
        Ok(())
    }

    /// The limits as a recording's header states them.
    pub fn recorded(&self) -> crate::recording::ServerLimits {
        crate::recording::ServerLimits {
            concurrency_limit: self.concurrency_limit,
            queue_limit: self.queue_limit,
            rate_limit: self.rate_limit.get(),
            timeout_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            concurrency: self.concurrency_limit.max(1),
            queue: self.queue_limit,
            rate_per_second: self.rate_limit,
            timeout: self.timeout,
            tenant: crate::middleware::tenant_quota::TenantDefaults {
                rate_per_second: self.tenant_rate_limit,
                concurrency: self.tenant_concurrency_limit.map(std::num::NonZeroUsize::get),
            },
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Address to listen on.
    #[arg(long, env = "TALLY_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Extra Host names accepted (comma-separated); loopback names are accepted while bound to loopback.
    #[arg(long, env = "TALLY_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Browser Origins accepted (comma-separated), besides loopback ones while bound to loopback.
    #[arg(long, env = "TALLY_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Largest request body accepted.
    #[arg(long, env = "TALLY_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// How long in-flight calls may take to finish on shutdown.
    #[arg(long, env = "TALLY_SHUTDOWN_GRACE", default_value = "20s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
    /// How long a connection may take to send a request's headers; also how long an idle
    /// keep-alive connection is kept. A slow or silent client is then closed.
    #[arg(long, env = "TALLY_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: Duration,
    /// How long a request's body may take to arrive once its headers have (408 after).
    #[arg(long, env = "TALLY_BODY_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub body_read_timeout: Duration,
    /// How long a write may stall because the client stopped reading; the connection is then closed.
    #[arg(long, env = "TALLY_WRITE_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub write_timeout: Duration,
    /// Open connections at most; past it a new connection is closed at once.
    #[arg(long, env = "TALLY_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// The tenant an anonymous caller acts for (see `--anonymous-role`).
    #[arg(long, env = "TALLY_TENANT", default_value = "default")]
    pub tenant: String,
    /// Let callers that present no token act for `--tenant` with this role (viewer, clerk or
    /// admin). Only on a loopback address: a laptop's `make run`. A token that is presented is
    /// checked all the same. Without it, every call needs `Authorization: Bearer <token>`.
    /// Empty means none.
    #[arg(long, env = "TALLY_ANONYMOUS_ROLE", value_parser = parse_role)]
    pub anonymous_role: Option<AnonymousRole>,
    /// Do not migrate at start: the login is the server's own role, which owns nothing (migrations
    /// run as the owner with `tally migrate`); start fails if the schema is behind.
    #[arg(long, env = "TALLY_SKIP_MIGRATIONS")]
    pub skip_migrations: bool,
    /// Record every MCP session to its own JSON Lines file in this directory (for `tally replay`).
    #[arg(long, env = "TALLY_RECORD_DIR")]
    pub record_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub oauth: OAuthArgs,
    #[command(flatten)]
    pub documents: DocumentArgs,
}

/// How replicas agree on their shares of the rate limits (the same on every replica).
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// How often this replica reports its demand to Postgres and recomputes its shares.
    #[arg(long, env = "TALLY_LIMIT_HEARTBEAT", default_value = "500ms", value_parser = humantime::parse_duration)]
    pub limit_heartbeat: Duration,
    /// A replica not heard from for this long no longer holds a share: how soon a killed
    /// replica's share goes to the others. At least twice the heartbeat.
    #[arg(long, env = "TALLY_LIMIT_LIVENESS", default_value = "2s", value_parser = humantime::parse_duration)]
    pub limit_liveness: Duration,
}

impl ClusterArgs {
    pub fn settings(&self) -> Result<crate::middleware::ClusterSettings, String> {
        if self.limit_heartbeat < Duration::from_millis(50) {
            return Err(format!("TALLY_LIMIT_HEARTBEAT ({:?}) must be at least 50ms", self.limit_heartbeat));
        }
        if self.limit_liveness < 2 * self.limit_heartbeat {
            return Err(format!(
                "TALLY_LIMIT_LIVENESS ({:?}) must be at least twice TALLY_LIMIT_HEARTBEAT ({:?})",
                self.limit_liveness, self.limit_heartbeat
            ));
        }
        Ok(crate::middleware::ClusterSettings { heartbeat: self.limit_heartbeat, liveness: self.limit_liveness })
    }
}

/// OAuth resource-server mode: also accept JWT access tokens from one issuer.
#[derive(Debug, Clone, Args)]
pub struct OAuthArgs {
    /// The authorization server whose JWT access tokens are accepted (its `iss`). Off when unset.
    #[arg(long, env = "TALLY_OAUTH_ISSUER", requires = "resource_uri")]
    pub oauth_issuer: Option<String>,
    /// The issuer's key set; found from its metadata (RFC 8414, then OpenID Connect) when unset.
    #[arg(long, env = "TALLY_OAUTH_JWKS_URL")]
    pub oauth_jwks_url: Option<String>,
    /// This server's canonical URI, e.g. https://tally.example.com/mcp: the audience a token must
    /// name (RFC 8707) and the `resource` of /.well-known/oauth-protected-resource.
    #[arg(long, env = "TALLY_RESOURCE_URI")]
    pub resource_uri: Option<String>,
    /// The claim that names the caller's tenant.
    #[arg(long, env = "TALLY_OAUTH_TENANT_CLAIM", default_value = "tenant_id")]
    pub oauth_tenant_claim: String,
    /// The claim that names the caller's role: viewer, clerk or admin, as a space-separated
    /// string (like `scope`) or an array; the highest one named counts.
    #[arg(long, env = "TALLY_OAUTH_ROLE_CLAIM", default_value = "scope")]
    pub oauth_role_claim: String,
}

impl OAuthArgs {
    pub fn config(&self) -> Option<crate::pipeline::oauth::OAuthConfig> {
        Some(crate::pipeline::oauth::OAuthConfig {
            issuer: self.oauth_issuer.clone()?,
            jwks_url: self.oauth_jwks_url.clone(),
            resource: self.resource_uri.clone()?,
            tenant_claim: self.oauth_tenant_claim.clone(),
            role_claim: self.oauth_role_claim.clone(),
        })
    }
}

#[derive(Debug, Clone, Args)]
pub struct StdioArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The tenant this process serves when no token is given (as its admin: whoever runs it holds
    /// the database URL already).
    #[arg(long, env = "TALLY_TENANT", default_value = "default")]
    pub tenant: String,
    /// An access token: the process then acts for its tenant with its role, checked on every call.
    #[arg(long, env = "TALLY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Largest message (one line) accepted.
    #[arg(long, env = "TALLY_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Do not migrate at start: the login is the server's own role, which owns nothing (migrations
    /// run as the owner with `tally migrate`); start fails if the schema is behind.
    #[arg(long, env = "TALLY_SKIP_MIGRATIONS")]
    pub skip_migrations: bool,
    /// Record the session to a JSON Lines file in this directory (for `tally replay`).
    #[arg(long, env = "TALLY_RECORD_DIR")]
    pub record_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub documents: DocumentArgs,
}

impl ServeArgs {
    /// Parses `serve` flags as the command line would (environment fallbacks included).
    pub fn parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let argv = ["tally".into(), "serve".into()].into_iter().chain(args.into_iter().map(Into::into));
        match Cli::try_parse_from(argv)?.command {
            Command::Serve(args) => Ok(*args),
            _ => unreachable!("parsed as serve"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_debug_output() {
        let url: DatabaseUrl = "postgres://app:s3cret@db:5432/tally".parse().unwrap();
        let shown = format!("{url:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("app:***@db:5432/tally"), "{shown}");
    }
}

/// `--anonymous-role`: a role, or empty for none (so `TALLY_ANONYMOUS_ROLE=` turns it off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnonymousRole(pub Option<crate::domain::access::Role>);

impl ServeArgs {
    /// The role of callers that present no token, if they are served at all.
    pub fn anonymous_role(&self) -> Option<crate::domain::access::Role> {
        self.anonymous_role.and_then(|r| r.0)
    }
}

fn parse_role(s: &str) -> Result<AnonymousRole, String> {
    if s.is_empty() {
        return Ok(AnonymousRole(None));
    }
    crate::domain::access::Role::parse(s)
        .map(|r| AnonymousRole(Some(r)))
        .ok_or_else(|| format!("no role {s:?}: one of viewer, clerk, admin (or empty for none)"))
}
