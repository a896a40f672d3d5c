//! Who is calling: bearer tokens over HTTP, `TALLY_TOKEN` over stdio, roles per tool, sessions
//! bound to the token that opened them, and the 401/403 shapes of the MCP authorization spec.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tally::domain::access::{AccessService, Role};

use crate::helpers::{PROTOCOL, TestApp, catalogue, database_url, pool, spawn_app, spawn_app_with, widget_invoice};

/// The tools whose least role is `role`, from the catalogue (each tool declares its role beside
/// its annotations).
fn own(role: Role) -> Vec<&'static str> {
    catalogue().definitions().filter(|d| d.role == role).map(|d| d.name).collect()
}

/// What `role` may call: its own tools and those of every role it covers.
fn allowed(role: Role) -> Vec<&'static str> {
    catalogue().definitions().filter(|d| role.covers(d.role)).map(|d| d.name).collect()
}

async fn token(pool: &PgPool, tenant: &str, role: Role, name: &str) -> String {
    AccessService::new(pool.clone()).create_token(tenant, name, role, None).await.unwrap().secret
}

async fn post(app: &TestApp, token: Option<&str>, session: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app
        .client
        .post(&app.url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL)
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().await.unwrap()
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
           "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "auth-tests", "version": "1"}}})
}

async fn session_as(app: &TestApp, token: &str) -> String {
    let res = post(app, Some(token), None, &initialize()).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.headers()["mcp-session-id"].to_str().unwrap().to_owned()
}

async fn call(
    app: &TestApp,
    token: &str,
    session: &str,
    tool: &str,
    args: Value,
) -> (StatusCode, Option<String>, Value) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args}});
    let res = post(app, Some(token), Some(session), &body).await;
    let challenge = res.headers().get("www-authenticate").map(|h| h.to_str().unwrap().to_owned());
    (res.status(), challenge, res.json().await.unwrap())
}

async fn listed(app: &TestApp, token: &str, session: &str) -> Vec<String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let res: Value = post(app, Some(token), Some(session), &body).await.json().await.unwrap();
    res["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

#[sqlx::test]
async fn without_a_valid_token_every_request_gets_401_with_a_challenge(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--tokens-only"]).await;
    let revoked = {
        let access = AccessService::new(app.pool.clone());
        let issued = access.create_token("default", "gone", Role::Admin, None).await.unwrap();
        access.revoke_token(issued.info.token_id).await.unwrap();
        issued.secret
    };
    let cases: [(Option<String>, bool); 5] = [
        (None, false),
        (Some("Bearer tally_notatoken".into()), true),
        (Some(format!("Bearer {}", tally::domain::access::generate_token())), true),
        (Some(format!("Bearer {revoked}")), true),
        (Some("Basic dXNlcjpwYXNz".into()), true),
    ];
    for (header, presented) in cases {
        let mut req =
            app.client.post(&app.url).header("accept", "application/json, text/event-stream").json(&initialize());
        if let Some(h) = &header {
            req = req.header("authorization", h);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{header:?}");
        let challenge = res.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer realm=\"tally\""), "{challenge}");
        assert_eq!(challenge.contains("error=\"invalid_token\""), presented, "{challenge}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], -32001, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("token"), "{body}");
    }
    // A token in the query string is not a token.
    let good = token(&app.pool, "default", Role::Admin, "good").await;
    let res = app.client.post(format!("{}?access_token={good}", app.url)).json(&initialize()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("mcp_sessions").await, 0, "no session was opened");
}

#[sqlx::test]
async fn each_role_sees_and_calls_only_its_tools(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--tokens-only"]).await;
    let admin = token(&app.pool, "default", Role::Admin, "setup").await;
    let s = session_as(&app, &admin).await;
    let (_, _, made) = call(&app, &admin, &s, "create_invoice", widget_invoice("cust_roles")).await;
    let invoice = made["result"]["structuredContent"]["invoice_id"].as_str().unwrap().to_owned();

    for role in Role::ALL {
        let t = token(&app.pool, "default", role, &format!("{role} agent")).await;
        let s = session_as(&app, &t).await;
        let mut shown = listed(&app, &t, &s).await;
        let mut expected: Vec<String> = allowed(role).iter().map(|s| s.to_string()).collect();
        shown.sort();
        expected.sort();
        assert_eq!(shown, expected, "{role} sees only its tools");
        for tool in allowed(Role::Admin) {
            // Arguments that are invalid on purpose: a permitted call gets as far as validation
            // and changes nothing, a forbidden one is refused before it.
            let (status, challenge, body) = call(&app, &t, &s, tool, json!({"invoice_id": invoice, "bogus": 1})).await;
            if role.covers(needed(tool)) {
                assert_eq!(status, StatusCode::OK, "{role} may call {tool}: {body}");
                assert!(body.get("error").is_none(), "{role} {tool}: {body}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role} may not call {tool}: {body}");
                assert_eq!(body["error"]["code"], -32003, "{body}");
                assert_eq!(body["error"]["data"]["required_role"], needed(tool).as_str(), "{body}");
                assert_eq!(body["error"]["data"]["retryable"], false);
                let message = body["error"]["message"].as_str().unwrap();
                assert!(message.contains(needed(tool).as_str()) && message.contains(tool), "{message}");
                let challenge = challenge.expect("a 403 carries a challenge");
                assert!(challenge.contains("insufficient_scope") && challenge.contains(needed(tool).as_str()));
            }
        }
    }
    let status: String = sqlx::query_scalar("select status from invoices").fetch_one(&app.pool).await.unwrap();
    assert_eq!(status, "draft", "no refused or invalid call changed the invoice");
}

fn needed(tool: &str) -> Role {
    catalogue().definition(tool).expect("a catalogued tool").role
}

#[sqlx::test]
async fn a_token_acts_for_its_tenant_and_is_named_in_the_audit_trail(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--tokens-only"]).await;
    sqlx::query("insert into tenants (tenant_id, name) values ('acme', 'Acme')").execute(&app.pool).await.unwrap();
    let clerk = token(&app.pool, "acme", Role::Clerk, "acme billing").await;
    let s = session_as(&app, &clerk).await;
    let (status, _, body) = call(&app, &clerk, &s, "create_invoice", widget_invoice("cust_a")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tenant: String = sqlx::query_scalar("select tenant_id from invoices").fetch_one(&app.pool).await.unwrap();
    assert_eq!(tenant, "acme");
    let (token_name, role, token_id): (Option<String>, Option<String>, Option<uuid::Uuid>) =
        sqlx::query_as("select token_name, role, token_id from audit_events").fetch_one(&app.pool).await.unwrap();
    assert_eq!((token_name.as_deref(), role.as_deref()), (Some("acme billing"), Some("clerk")));
    let expected: uuid::Uuid =
        sqlx::query_scalar("select token_id from api_tokens").fetch_one(&app.pool).await.unwrap();
    assert_eq!(token_id, Some(expected));
    let dump: String =
        sqlx::query_scalar("select string_agg(a::text, '') from audit_events a").fetch_one(&app.pool).await.unwrap();
    assert!(!dump.contains(&clerk), "never the secret");
}

#[sqlx::test]
async fn a_session_belongs_to_the_token_that_opened_it(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--tokens-only"]).await;
    sqlx::query("insert into tenants (tenant_id, name) values ('acme', 'Acme')").execute(&app.pool).await.unwrap();
    let first = token(&app.pool, "default", Role::Admin, "first").await;
    let second = token(&app.pool, "default", Role::Admin, "second").await;
    let other_tenant = token(&app.pool, "acme", Role::Admin, "acme").await;
    let s = session_as(&app, &first).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(post(&app, Some(&first), Some(&s), &ping).await.status(), StatusCode::OK);
    for (who, t) in [("another token of the tenant", &second), ("another tenant's token", &other_tenant)] {
        assert_eq!(post(&app, Some(t), Some(&s), &ping).await.status(), StatusCode::NOT_FOUND, "{who}");
        let res = app.client.delete(&app.url).bearer_auth(t).header("mcp-session-id", &s).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who} cannot end it");
    }
    let res = app.client.delete(&app.url).header("mcp-session-id", &s).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no token, no DELETE");
    // Revoked: refused, session or not, as soon as the revocation's notification has reached the
    // server (milliseconds; the token may be served from its cache until then).
    let id: uuid::Uuid =
        sqlx::query_scalar("select token_id from api_tokens where name = 'first'").fetch_one(&app.pool).await.unwrap();
    AccessService::new(app.pool.clone()).revoke_token(id).await.unwrap();
    let revoked = std::time::Instant::now();
    while post(&app, Some(&first), Some(&s), &ping).await.status() != StatusCode::UNAUTHORIZED {
        assert!(revoked.elapsed() < std::time::Duration::from_secs(2), "a revoked token still served after 2 s");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[sqlx::test]
async fn anonymous_callers_on_loopback_still_have_presented_tokens_checked(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--anonymous-role", "viewer"]).await;
    let s = app.session().await;
    let names: Vec<String> = app.rpc(&s, "tools/list", json!({})).await["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), own(Role::Viewer).len(), "anonymous viewers see the read tools: {names:?}");
    let res = post(&app, Some("tally_wrong"), None, &initialize()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "a presented token is always checked");
    let clerk = token(&app.pool, "default", Role::Clerk, "clerk").await;
    let s = session_as(&app, &clerk).await;
    let (status, _, _) = call(&app, &clerk, &s, "create_invoice", widget_invoice("cust_x")).await;
    assert_eq!(status, StatusCode::OK, "a token's role, not the anonymous one");
}

#[sqlx::test]
async fn anonymous_callers_are_refused_off_loopback(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    drop(pool(o, c).await);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["serve", "--bind", "0.0.0.0:0", "--anonymous-role", "admin"])
        .env("DATABASE_URL", &url)
        .env("TALLY_LOG", "error")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loopback") && err.contains("tally token create"), "{err}");
}

/// stdio: `TALLY_TOKEN` decides the tenant and role, and a bad one ends the process at once.
#[sqlx::test]
async fn stdio_acts_as_tally_token(o: PgPoolOptions, c: PgConnectOptions) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let url = database_url(&c);
    let pool = pool(o, c).await;
    let viewer = token(&pool, "default", Role::Viewer, "stdio viewer").await;
    let spawn = |token: &str| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tally"))
            .arg("stdio")
            .env("DATABASE_URL", &url)
            .env("TALLY_TOKEN", token)
            .env("TALLY_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let bad = spawn("tally_not_a_token").wait_with_output().await.unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("TALLY_TOKEN"), "{}", String::from_utf8_lossy(&bad.stderr));

    let mut child = spawn(&viewer);
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for message in [
        initialize(),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "create_invoice", "arguments": widget_invoice("cust_s")}}),
    ] {
        stdin.write_all(format!("{message}\n").as_bytes()).await.unwrap();
    }
    // Answered concurrently: by id, not in order.
    let mut answers = vec![Value::Null; 3];
    for _ in 0..3 {
        let line = lines.next_line().await.unwrap().expect("an answer");
        let answer: Value = serde_json::from_str(&line).unwrap();
        let id = answer["id"].as_u64().unwrap() as usize;
        answers[id] = answer;
    }
    assert_eq!(answers[1]["result"]["tools"].as_array().unwrap().len(), own(Role::Viewer).len(), "{}", answers[1]);
    assert_eq!(answers[2]["error"]["code"], -32003, "{}", answers[2]);
    drop(stdin);
    assert!(child.wait().await.unwrap().success());
    assert_eq!(sqlx::query_scalar::<_, i64>("select count(*) from invoices").fetch_one(&pool).await.unwrap(), 0);
}

/// Pings `app` as `token` in `session`: the HTTP status.
async fn ping(app: &TestApp, token: &str, session: &str) -> StatusCode {
    post(app, Some(token), Some(session), &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})).await.status()
}

/// Waits until `both` replicas answer a ping from memory: with every pool connection held, a
/// ping that needed the database would wait out the acquire timeout and get 503.
async fn served_from_memory(pool: &PgPool, both: [&TestApp; 2], token: &str, session: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        for app in both {
            ping(app, token, session).await;
        }
        let held =
            futures_util::future::join_all((0..pool.options().get_max_connections()).map(|_| pool.acquire())).await;
        let mut statuses = vec![];
        for app in both {
            statuses.push(ping(app, token, session).await);
        }
        drop(held);
        if statuses.iter().all(|s| *s == StatusCode::OK) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replicas never served the session from memory: {statuses:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Polls until `refused` says every replica refuses, for at most two seconds (the caches' TTL is
/// thirty): the change must reach the other replica by its notification, not by expiry.
async fn refused_everywhere_within_two_seconds(both: [&TestApp; 2], token: &str, session: &str, refused: StatusCode) {
    let started = std::time::Instant::now();
    loop {
        let mut statuses = vec![];
        for app in both {
            statuses.push(ping(app, token, session).await);
        }
        if statuses.iter().all(|s| *s == refused) {
            return;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "still served after 2 s: {statuses:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[sqlx::test]
async fn a_token_revoked_by_sql_is_refused_on_every_replica_at_once(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o.max_connections(3).acquire_timeout(std::time::Duration::from_millis(300)), c).await;
    let (a, b) = (
        spawn_app_with(pool.clone(), &["--tokens-only"]).await,
        spawn_app_with(pool.clone(), &["--tokens-only"]).await,
    );
    let t = token(&pool, "default", Role::Admin, "cached").await;
    let s = session_as(&a, &t).await;
    served_from_memory(&pool, [&a, &b], &t, &s).await;
    // As an operator might, by hand: the trigger tells every replica, not only `tally token revoke`.
    sqlx::query("update api_tokens set revoked_at = now() where name = 'cached'").execute(&pool).await.unwrap();
    refused_everywhere_within_two_seconds([&a, &b], &t, &s, StatusCode::UNAUTHORIZED).await;
}

#[sqlx::test]
async fn a_session_ended_on_one_replica_is_gone_from_every_replica_at_once(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o.max_connections(3).acquire_timeout(std::time::Duration::from_millis(300)), c).await;
    let (a, b) = (
        spawn_app_with(pool.clone(), &["--tokens-only"]).await,
        spawn_app_with(pool.clone(), &["--tokens-only"]).await,
    );
    let t = token(&pool, "default", Role::Admin, "ender").await;
    let s = session_as(&a, &t).await;
    served_from_memory(&pool, [&a, &b], &t, &s).await;
    let res = a.client.delete(&a.url).bearer_auth(&t).header("mcp-session-id", &s).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    refused_everywhere_within_two_seconds([&a, &b], &t, &s, StatusCode::NOT_FOUND).await;
}

/// A presented but unreadable Authorization header is 401, even where anonymous callers are
/// served: non-ASCII bytes, a blank value, or the header twice (the first does not win).
#[sqlx::test]
async fn an_unreadable_authorization_header_is_refused_not_anonymous(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let send = |values: Vec<reqwest::header::HeaderValue>| {
        let mut req = app
            .client
            .post(&app.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        for v in values {
            req = req.header(reqwest::header::AUTHORIZATION, v);
        }
        req.send()
    };
    let anonymous = send(vec![]).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::OK, "anonymous callers are served here");
    let value = |b: &[u8]| reqwest::header::HeaderValue::from_bytes(b).unwrap();
    for (what, values) in [
        ("non-ASCII bytes", vec![value(b"Bearer \xff\xfe")]),
        ("a blank value", vec![value(b"   ")]),
        ("two headers", vec![value(b"Bearer tally_a"), value(b"Bearer tally_b")]),
    ] {
        let res = send(values).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
    }
}

/// An unknown tool's error lists what the caller may call, as its tools/list does, and none of
/// the tools its role cannot see.
#[sqlx::test]
async fn an_unknown_tools_error_lists_only_the_callers_tools(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--tokens-only"]).await;
    let viewer = token(&app.pool, "default", Role::Viewer, "reader").await;
    let session = session_as(&app, &viewer).await;
    let (_, _, body) = call(&app, &viewer, &session, "no_such_tool", json!({})).await;
    let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("Unknown tool: no_such_tool"), "{body}");
    for visible in listed(&app, &viewer, &session).await {
        assert!(message.contains(&visible), "{visible} is missing from {message}");
    }
    for hidden in ["create_invoice", "void_invoice", "create_credit_note", "set_tax_settings"] {
        assert!(!message.contains(hidden), "{hidden} is listed to a viewer: {message}");
    }
}
