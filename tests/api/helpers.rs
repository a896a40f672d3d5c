//! `spawn_app` and a small typed MCP client over real HTTP.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tally::app::App;
use tally::config::ServeArgs;
use tokio::sync::oneshot;

pub const PROTOCOL: &str = "2025-11-25";

pub struct TestApp {
    pub addr: SocketAddr,
    pub url: String,
    pub pool: PgPool,
    pub client: reqwest::Client,
    /// Each tool's published outputSchema, read once from tools/list.
    output_schemas: tokio::sync::OnceCell<std::collections::HashMap<String, jsonschema::Validator>>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// A pool on the test's own database, sized like production rather than sqlx::test's default.
pub async fn pool(opts: PgPoolOptions, connect: PgConnectOptions) -> PgPool {
    opts.max_connections(16).connect_with(connect).await.expect("test database")
}

/// A pool logged in as the server's own role, as the private cluster and the Nomad job set it
/// up: it owns nothing and is a member of tally_app (made here too, so a test stands on any
/// cluster), so tests show that the migrations' grants are enough.
pub async fn server_login(owner: &PgPool, c: &PgConnectOptions) -> PgPool {
    sqlx::raw_sql(
        "do $$ begin
             if not exists (select 1 from pg_roles where rolname = 'tally_server') then
                 create role tally_server login in role tally_app;
             end if;
         exception when duplicate_object or unique_violation then null;
         end $$",
    )
    .execute(owner)
    .await
    .unwrap();
    PgPoolOptions::new().max_connections(16).connect_with(c.clone().username("tally_server")).await.unwrap()
}

/// A Postgres URL for the test's own database, for spawning the binary.
pub fn database_url(connect: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        connect.get_username(),
        connect.get_host(),
        connect.get_port(),
        connect.get_database().expect("sqlx::test names the database")
    )
}

/// The catalogue of tools, as the server builds it (over a pool that never connects).
pub fn catalogue() -> tally::tools::Registry {
    tally::app::registry(&sqlx::postgres::PgPoolOptions::new().connect_lazy("postgres://unused/").expect("a lazy pool"))
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, &[]).await
}

/// Starts Tally on a free port with extra `serve` flags (limits, say) over the given pool.
pub async fn spawn_app_with(pool: PgPool, flags: &[&str]) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        tally::telemetry::init_logs("debug", tally::config::LogFormat::Text);
    }
    // Anonymous admins of the default tenant, as `make run` serves, unless the test says otherwise.
    let mut argv = vec!["--bind", "127.0.0.1:0", "--database-url", "postgres://unused/"];
    if !flags.contains(&"--anonymous-role") && !flags.contains(&"--tokens-only") {
        argv.extend(["--anonymous-role", "admin"]);
    }
    let flags: Vec<&str> = flags.iter().copied().filter(|f| *f != "--tokens-only").collect();
    argv.extend_from_slice(&flags);
    let args = ServeArgs::parse_from(argv).expect("valid serve flags");
    let app = App::build(&args, Some(pool.clone())).await.expect("app builds");
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        url: format!("http://{addr}/mcp"),
        pool,
        client: reqwest::Client::new(),
        output_schemas: tokio::sync::OnceCell::new(),
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    /// Stops the server and waits for it to drain.
    /// `http://host:port`, without the `/mcp` path.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task");
        }
    }

    /// POSTs one message the way MCP clients do.
    pub async fn post(&self, session: Option<&str>, body: &Value) -> reqwest::Response {
        self.post_with(&self.client, session, body).await
    }

    pub async fn post_with(&self, client: &reqwest::Client, session: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL)
            .json(body);
        if let Some(s) = session {
            req = req.header("mcp-session-id", s);
        }
        req.send().await.expect("request sent")
    }

    /// initialize + notifications/initialized; returns the session id.
    pub async fn session(&self) -> String {
        let res = self
            .post(
                None,
                &json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
                    "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name":"tests","version":"1"}}}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let session = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
        let ack = self.post(Some(&session), &json!({"jsonrpc":"2.0","method":"notifications/initialized"})).await;
        assert_eq!(ack.status(), StatusCode::ACCEPTED);
        session
    }

    /// A request in a session; returns the whole JSON-RPC response.
    pub async fn rpc(&self, session: &str, method: &str, params: Value) -> Value {
        let res = self.post(Some(session), &json!({"jsonrpc":"2.0","id":1,"method":method,"params":params})).await;
        assert_eq!(res.status(), StatusCode::OK, "{method} answered {}", res.status());
        res.json().await.unwrap()
    }

    /// tools/call; returns the CallToolResult.
    pub async fn call(&self, session: &str, tool: &str, args: Value) -> Value {
        let res = self.rpc(session, "tools/call", json!({"name": tool, "arguments": args})).await;
        assert!(res.get("error").is_none(), "{tool} gave a protocol error: {res}");
        res["result"].clone()
    }

    /// tools/call that must succeed; returns structuredContent, checked against the tool's
    /// published outputSchema.
    pub async fn ok(&self, session: &str, tool: &str, args: Value) -> Value {
        let result = self.call(session, tool, args).await;
        assert_eq!(result["isError"], false, "{tool} failed: {result}");
        let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(text, result["structuredContent"], "the text block repeats the structured content");
        // Read from the registry in-process, so the check adds no traffic to what a test records.
        let schemas = self
            .output_schemas
            .get_or_init(async || {
                let registry = tally::app::registry(&self.pool);
                let compile = |name: &str| {
                    let schema = registry.definition(name).expect("registered").output.output_json_schema();
                    jsonschema::validator_for(&schema).expect("a valid outputSchema")
                };
                registry.names().map(|name| (name.to_owned(), compile(name))).collect()
            })
            .await;
        let structured = &result["structuredContent"];
        let errors: Vec<String> =
            schemas[tool].iter_errors(structured).map(|e| format!("{e} at {}", e.instance_path)).collect();
        assert!(errors.is_empty(), "{tool}'s structuredContent breaks its outputSchema: {errors:?}\n{structured}");
        structured.clone()
    }

    /// tools/call that must be refused; returns the structured error.
    pub async fn refused(&self, session: &str, tool: &str, args: Value) -> Value {
        let result = self.call(session, tool, args).await;
        assert_eq!(result["isError"], true, "{tool} should have been refused: {result}");
        result["structuredContent"]["error"].clone()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(&self.pool).await.unwrap()
    }
}

pub fn widget_invoice(customer: &str) -> Value {
    json!({"customer_id": customer, "line_items": [{"description": "Widget", "amount_cents": 1000}]})
}

impl TestApp {
    /// Adds `customer` (named after its id) unless it exists: an invoice can only be sent to a
    /// customer Tally has a record of.
    pub async fn customer(&self, session: &str, customer: &str) {
        let known = self.call(session, "get_customer", json!({"customer_id": customer})).await;
        if known["isError"] == true {
            self.ok(session, "upsert_customer", json!({"customer_id": customer, "name": customer})).await;
        }
    }

    /// Creates and sends a one-line invoice of `cents` for `customer` (added if new); its id.
    pub async fn sent_invoice(&self, session: &str, customer: &str, description: &str, cents: i64) -> String {
        self.customer(session, customer).await;
        let line = json!({"description": description, "amount_cents": cents});
        let inv = self.ok(session, "create_invoice", json!({"customer_id": customer, "line_items": [line]})).await;
        let id = inv["invoice_id"].as_str().unwrap().to_owned();
        self.ok(session, "send_invoice", json!({"invoice_id": id})).await;
        id
    }
}

pub use fresh_db::FreshDatabase;

#[path = "../support/fresh_db.rs"]
mod fresh_db;

/// One try of a call made by `call_with_retries_observed`.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub started: Instant,
    pub took: Duration,
    pub status: StatusCode,
    /// For a refusal, the reason Tally gave (`unavailable`, `timeout`, `overloaded`, …).
    pub reason: Option<String>,
}

/// A client that honours Retry-After: after a retryable refusal it waits `retry_after_ms` plus
/// up to as much again of jitter (so a thousand clients told the same wait do not return as one),
/// and checks that every refusal on the way was a retryable 429/503 with Retry-After.
pub async fn call_with_retries(
    client: &reqwest::Client,
    url: &str,
    session: &str,
    body: &Value,
    refusals: &AtomicUsize,
) -> Value {
    call_with_retries_observed(client, url, session, body, |a| {
        if a.status != StatusCode::OK {
            refusals.fetch_add(1, Ordering::Relaxed);
        }
    })
    .await
}

/// `call_with_retries`, telling `observe` about every try (for timing and counting refusals).
pub async fn call_with_retries_observed(
    client: &reqwest::Client,
    url: &str,
    session: &str,
    body: &Value,
    mut observe: impl FnMut(Attempt),
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let started = Instant::now();
        let res = client
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL)
            .header("mcp-session-id", session)
            .json(body)
            .send()
            .await
            .expect("the server answers");
        let status = res.status();
        if status == StatusCode::OK {
            let body = res.json().await.unwrap();
            observe(Attempt { started, took: started.elapsed(), status, reason: None });
            return body;
        }
        assert!(status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE, "{status}");
        assert!(res.headers().contains_key("retry-after"), "a {status} without Retry-After");
        let body: Value = res.json().await.unwrap();
        let data = &body["error"]["data"];
        assert_eq!(data["retryable"], true, "{body}");
        assert!((-32019..=-32000).contains(&body["error"]["code"].as_i64().unwrap()), "{body}");
        let reason = data["reason"].as_str().map(str::to_owned);
        observe(Attempt { started, took: started.elapsed(), status, reason });
        let wait = data["retry_after_ms"].as_u64().unwrap();
        let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=wait.max(10));
        tokio::time::sleep(Duration::from_millis(wait + jitter)).await;
    }
    panic!("still refused after two minutes");
}

/// `initialize` over plain HTTP (for servers started as processes); returns the session id.
pub async fn initialize(client: &reqwest::Client, url: &str) -> String {
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion": PROTOCOL,"capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let res = client.post(url).header("content-type", "application/json").json(&init).send().await.unwrap();
    res.headers()["mcp-session-id"].to_str().unwrap().to_owned()
}

/// The 2026-07-28 revision and its envelope keys.
pub const MODERN: &str = "2026-07-28";

/// `params` with the modern `_meta` envelope a conforming client sends.
pub fn with_envelope(mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "1"},
    });
    params
}

impl TestApp {
    /// POSTs `body` as it is with exactly `headers` besides content negotiation and `token`.
    pub async fn post_raw(&self, token: Option<&str>, headers: &[(&str, &str)], body: &Value) -> reqwest::Response {
        let mut req = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .json(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    /// A stateless 2026-07-28 request as a conforming client sends it: the envelope in `_meta`
    /// and the routing headers. Returns the status and the body.
    pub async fn modern(&self, token: Option<&str>, method: &str, params: Value) -> (StatusCode, Value) {
        let name = match method {
            "tools/call" => params["name"].as_str().map(str::to_owned),
            "resources/read" => params["uri"].as_str().map(str::to_owned),
            _ => None,
        };
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": with_envelope(params)});
        let mut headers = vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
        if let Some(name) = &name {
            headers.push(("mcp-name", name));
        }
        let res = self.post_raw(token, &headers, &body).await;
        assert!(res.headers().get("mcp-session-id").is_none(), "the modern era has no sessions");
        (res.status(), res.json().await.expect("a JSON answer"))
    }
}
