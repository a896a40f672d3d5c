//! OAuth resource-server mode: JWT access tokens from a local issuer whose keys the test makes,
//! checked for signature (by the issuer's JWKS, found through its RFC 8414 metadata), issuer,
//! audience, expiry, algorithm and key id, and RFC 9728 metadata naming the issuer.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tally::domain::access::{AccessService, NewTenant};

use crate::helpers::{PROTOCOL, TestApp, pool, spawn_app_with, widget_invoice};

const RESOURCE: &str = "https://tally.example/mcp";

struct Key {
    kid: String,
    signing: SigningKey,
}

impl Key {
    fn new(kid: &str) -> Self {
        Self { kid: kid.into(), signing: SigningKey::from_bytes(&rand::random::<[u8; 32]>()) }
    }

    fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": self.kid,
               "x": B64.encode(self.signing.verifying_key().to_bytes())})
    }

    /// A token with these claims, signed by this key under header key id `kid`.
    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let der = self.signing.to_pkcs8_der().unwrap();
        let header = Header { kid: Some(kid.into()), ..Header::new(Algorithm::EdDSA) };
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }
}

/// A local authorization server: RFC 8414 metadata and a key set the test can change.
struct Issuer {
    url: String,
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
}

impl Issuer {
    async fn start(keys: Vec<Value>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (keys, fetches) = (Arc::new(Mutex::new(keys)), Arc::new(AtomicUsize::new(0)));
        let (k, f, u) = (keys.clone(), fetches.clone(), url.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (k, f, u) = (k.clone(), f.clone(), u.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let body = match req.uri().path() {
                            "/.well-known/oauth-authorization-server" => {
                                Some(json!({"issuer": u, "jwks_uri": format!("{u}/jwks")}))
                            }
                            "/jwks" => {
                                f.fetch_add(1, Ordering::SeqCst);
                                Some(json!({"keys": *k.lock().unwrap()}))
                            }
                            _ => None,
                        };
                        let res = match body {
                            Some(body) => hyper::Response::new(Full::new(Bytes::from(body.to_string()))),
                            None => {
                                let mut res = hyper::Response::new(Full::new(Bytes::new()));
                                *res.status_mut() = hyper::StatusCode::NOT_FOUND;
                                res
                            }
                        };
                        async move { Ok::<_, Infallible>(res) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, keys, fetches }
    }

    fn claims(&self, sub: &str, tenant: &str, scope: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": self.url, "aud": RESOURCE, "sub": sub, "tenant_id": tenant, "scope": scope,
               "iat": now, "nbf": now - 5, "exp": now + 300})
    }
}

async fn app_for(o: PgPoolOptions, c: PgConnectOptions, issuer: &Issuer, extra: &[&str]) -> TestApp {
    let mut flags = vec!["--tokens-only", "--oauth-issuer", &issuer.url, "--resource-uri", RESOURCE];
    flags.extend_from_slice(extra);
    let app = spawn_app_with(pool(o, c).await, &flags).await;
    AccessService::new(app.pool.clone())
        .create_tenant(&NewTenant {
            tenant_id: "acme".into(),
            name: "Acme".into(),
            invoice_prefix: None,
            credit_note_prefix: None,
            rate_limit_per_second: None,
            concurrency_limit: None,
        })
        .await
        .unwrap();
    app
}

async fn post(app: &TestApp, token: &str, session: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app
        .client
        .post(&app.url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL)
        .json(body);
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().await.unwrap()
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
           "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "jwt", "version": "1"}}})
}

/// Opens a session with `token`, then calls `tool`: (status, body, WWW-Authenticate).
async fn call(app: &TestApp, token: &str, tool: &str, arguments: Value) -> (StatusCode, Value, Option<String>) {
    let res = post(app, token, None, &initialize()).await;
    if res.status() != StatusCode::OK {
        let challenge = res.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        return (res.status(), res.json().await.unwrap(), challenge);
    }
    let session = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}});
    let res = post(app, token, Some(&session), &body).await;
    let challenge = res.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    (res.status(), res.json().await.unwrap(), challenge)
}

#[sqlx::test]
async fn a_valid_token_is_its_tenant_and_role_and_each_bad_one_is_refused(o: PgPoolOptions, c: PgConnectOptions) {
    let key = Key::new("k1");
    let issuer = Issuer::start(vec![key.jwk()]).await;
    let app = app_for(o, c, &issuer, &[]).await;
    let metadata = r#"resource_metadata="https://tally.example/.well-known/oauth-protected-resource/mcp""#;

    // A clerk writes; the audit trail names the token's subject and role.
    let clerk = key.sign(&issuer.claims("agent-7", "acme", "openid tally:clerk"));
    let (status, body, _) = call(&app, &clerk, "create_invoice", widget_invoice("cust_jwt")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["isError"], false, "{body}");
    let (name, role): (String, String) =
        sqlx::query_as("select token_name, role from audit_events where tenant_id = 'acme' and action = 'created'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((name.as_str(), role.as_str()), ("oauth:agent-7", "clerk"));
    let invoice = body["result"]["structuredContent"]["invoice_id"].as_str().unwrap().to_owned();
    let (_, got, _) = call(&app, &clerk, "get_invoice", json!({"invoice_id": invoice})).await;
    let who = &got["result"]["structuredContent"]["history"][0];
    assert_eq!((&who["token_name"], &who["role"]), (&json!("oauth:agent-7"), &json!("clerk")), "{got}");
    assert!(who["token_id"].as_str().is_some_and(|id| id.len() == 36), "{who}");

    // A viewer's token reads, and is refused a write with the scope it lacks and the metadata.
    let viewer = key.sign(&issuer.claims("agent-8", "acme", "viewer"));
    let (status, body, _) = call(&app, &viewer, "list_invoices", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["structuredContent"]["invoices"].as_array().unwrap().len(), 1, "{body}");
    let (status, body, challenge) = call(&app, &viewer, "create_invoice", widget_invoice("cust_jwt")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let challenge = challenge.unwrap();
    assert!(challenge.contains(r#"error="insufficient_scope""#) && challenge.contains(metadata), "{challenge}");

    let now = chrono::Utc::now().timestamp();
    let with = |patch: Value| {
        let mut claims = issuer.claims("agent-9", "acme", "admin");
        claims.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
        claims
    };
    let other = Key::new("k1");
    let alg_none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        B64.encode(issuer.claims("agent-9", "acme", "admin").to_string())
    );
    let refused = [
        ("expired", key.sign(&with(json!({"exp": now - 120, "nbf": now - 600})))),
        ("not yet valid", key.sign(&with(json!({"nbf": now + 600})))),
        ("wrong audience", key.sign(&with(json!({"aud": "https://elsewhere.example/mcp"})))),
        ("wrong issuer", key.sign(&with(json!({"iss": "https://evil.example"})))),
        ("bad signature", other.sign(&issuer.claims("agent-9", "acme", "admin"))),
        ("alg none", alg_none),
        ("unknown key id", key.sign_as("k-unknown", &issuer.claims("agent-9", "acme", "admin"))),
        ("no role", key.sign(&with(json!({"scope": "openid profile"})))),
        ("roles split by a no-break space", key.sign(&with(json!({"scope": "viewer\u{a0}admin"})))),
        ("an empty subject", key.sign(&with(json!({"sub": ""})))),
        ("a blank subject", key.sign(&with(json!({"sub": "  "})))),
        ("unknown tenant", key.sign(&with(json!({"tenant_id": "nobody"})))),
        ("no tenant", key.sign(&with(json!({"tenant_id": null})))),
        ("not a jwt", "eyJ.not.a-token".to_owned()),
    ];
    for (what, token) in refused {
        let (status, body, challenge) = call(&app, &token, "list_invoices", json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["error"]["code"], -32001, "{what}: {body}");
        let challenge = challenge.unwrap_or_default();
        assert!(challenge.contains(r#"error="invalid_token""#) && challenge.contains(metadata), "{what}: {challenge}");
    }
    let written: i64 = sqlx::query_scalar("select count(*) from invoices").fetch_one(&app.pool).await.unwrap();
    assert_eq!(written, 1, "no refused token wrote anything");

    // Tally's own tokens still work beside the issuer's.
    let own = AccessService::new(app.pool.clone())
        .create_token("acme", "ci", tally::domain::access::Role::Viewer, None)
        .await
        .unwrap()
        .secret;
    let (status, body, _) = call(&app, &own, "list_invoices", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test]
async fn a_rotated_key_works_on_first_use_and_unknown_ids_do_not_hammer_the_issuer(
    o: PgPoolOptions,
    c: PgConnectOptions,
) {
    let old = Key::new("old");
    let issuer = Issuer::start(vec![old.jwk()]).await;
    let app = app_for(o, c, &issuer, &[]).await;
    let (status, body, _) =
        call(&app, &old.sign(&issuer.claims("a", "acme", "viewer")), "list_invoices", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = call(&app, &old.sign(&issuer.claims("a", "acme", "viewer")), "list_invoices", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1, "the key set is cached");

    // The issuer rotates: the new key id is unknown, so the set is fetched again, once.
    let new = Key::new("new");
    *issuer.keys.lock().unwrap() = vec![new.jwk()];
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body, _) =
        call(&app, &new.sign(&issuer.claims("a", "acme", "viewer")), "list_invoices", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 2);
    let (status, _, _) = call(&app, &old.sign(&issuer.claims("a", "acme", "viewer")), "list_invoices", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the withdrawn key no longer verifies");

    // Forty made-up key ids at once: refused, with at most one more fetch in that second.
    let before = issuer.fetches.load(Ordering::SeqCst);
    let tokens: Vec<String> =
        (0..40).map(|i| new.sign_as(&format!("made-up-{i}"), &issuer.claims("a", "acme", "viewer"))).collect();
    let answers =
        futures_util::future::join_all(tokens.iter().map(|t| call(&app, t, "list_invoices", json!({})))).await;
    assert!(answers.iter().all(|(s, _, _)| *s == StatusCode::UNAUTHORIZED));
    let fetched = issuer.fetches.load(Ordering::SeqCst) - before;
    assert!(fetched <= 2, "{fetched} fetches for 40 unknown key ids");
}

#[sqlx::test]
async fn protected_resource_metadata_names_the_issuer(o: PgPoolOptions, c: PgConnectOptions) {
    let issuer = Issuer::start(vec![]).await;
    let app = app_for(o, c, &issuer, &[]).await;
    for path in ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"] {
        let res = app.client.get(format!("http://{}{path}", app.addr)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let meta: Value = res.json().await.unwrap();
        assert_eq!(meta["resource"], RESOURCE);
        assert_eq!(meta["authorization_servers"], json!([issuer.url]));
        assert_eq!(meta["bearer_methods_supported"], json!(["header"]));
        assert_eq!(meta["scopes_supported"], json!(["viewer", "clerk", "admin"]));
    }
    // A caller with no token learns where to get one.
    let res = app.client.post(&app.url).header("accept", "application/json, text/event-stream").json(&initialize());
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"resource_metadata="https://tally.example/.well-known/oauth-protected-resource/mcp""#),
        "{challenge}"
    );

    // Without an issuer there is no metadata.
    let plain = spawn_app_with(app.pool.clone(), &["--tokens-only"]).await;
    let res = plain.client.get(format!("http://{}/.well-known/oauth-protected-resource", plain.addr)).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn an_unreachable_issuer_is_a_retryable_refusal(o: PgPoolOptions, c: PgConnectOptions) {
    let key = Key::new("k1");
    let issuer = Issuer::start(vec![key.jwk()]).await;
    // Keys from a port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let jwks = format!("http://{}/jwks", dead.local_addr().unwrap());
    drop(dead);
    let app = app_for(o, c, &issuer, &["--oauth-jwks-url", &jwks]).await;
    let (status, body, _) =
        call(&app, &key.sign(&issuer.claims("a", "acme", "viewer")), "list_invoices", json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["data"]["retryable"], true, "{body}");
}
