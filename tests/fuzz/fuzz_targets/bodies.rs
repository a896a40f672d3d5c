//! What each fuzz target checks: one function per target, shared by the cargo-fuzz binaries
//! (`fuzz_targets/<target>.rs`) and the property-test fallback (`tests/fuzz_props.rs`, which also
//! replays every file in `corpus/<target>/` and `regressions/<target>/` on each `cargo test`).
//!
//! A body panics when an invariant breaks: libFuzzer then saves the input under
//! `artifacts/<target>/`, proptest shrinks it. None needs a database: the pool points at a Unix
//! socket that does not exist, so every query fails at once, as when Postgres is down, and
//! every tool call that gets past validation ends as "unavailable" (-32013), never -32603.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::DateTime;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body::Frame;
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tally::domain::DomainError;
use tally::domain::cursor::{self, Position};
use tally::mcp::jsonrpc::{Message, RequestId};
use tally::mcp::methods::ClientRequest;
use tally::mcp::{ErrorCode, ReplyStatus, era, version};
use tally::pipeline::{Caller, Inbound};
use tally::recording::{Direction, Line};
use tally::tools::{CallFailure, Registry, ToolContext};
use tally::transport::http::{HttpState, route};
use tower::{ServiceBuilder, ServiceExt};
use tower_http::limit::RequestBodyLimitLayer;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// jsonrpc: decoding any bytes, parsing the method, and dispatching it as the stdio transport does.

/// The methods `ClientRequest::parse` knows; any other is -32601.
const METHODS: [&str; 8] = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "server/discover",
];

pub fn jsonrpc(data: &[u8]) {
    let is_json = serde_json::from_slice::<Value>(data).is_ok();
    let decoded = Message::decode(data);
    match &decoded {
        Err(e) => {
            let code = e.error.code;
            assert!(
                code == ErrorCode::PARSE_ERROR || code == ErrorCode::INVALID_REQUEST,
                "decode error {code:?}: only -32700 or -32600 may come out of decoding"
            );
            assert_eq!(code == ErrorCode::PARSE_ERROR, !is_json, "-32700 exactly when the bytes are not JSON");
        }
        Ok(_) => assert!(is_json, "decoded a message from bytes that are not JSON"),
    }
    if let Ok(Message::Request(r)) = &decoded {
        match ClientRequest::parse(&r.method, r.params.clone()) {
            Ok(parsed) => assert!(
                matches!(
                    (r.method.as_str(), &parsed),
                    ("initialize", ClientRequest::Initialize(_))
                        | ("ping", ClientRequest::Ping)
                        | ("tools/list", ClientRequest::ToolsList(_))
                        | ("tools/call", ClientRequest::ToolsCall(_))
                        | ("resources/list", ClientRequest::ResourcesList(_))
                        | ("resources/read", ClientRequest::ResourcesRead(_))
                        | ("resources/templates/list", ClientRequest::ResourceTemplatesList(_))
                        | ("server/discover", ClientRequest::Discover)
                ),
                "{:?} parsed as {parsed:?}",
                r.method
            ),
            Err(e) if METHODS.contains(&r.method.as_str()) => {
                assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "{}: bad params must be -32602: {e:?}", r.method);
            }
            Err(e) => assert_eq!(e.code, ErrorCode::METHOD_NOT_FOUND, "{:?} is unknown: {e:?}", r.method),
        }
    }
    // The whole call as the stdio transport makes it: the pipeline of `tally serve`'s state.
    let inbound = Inbound {
        bytes: Bytes::copy_from_slice(data),
        arrived: Instant::now(),
        request_id: "fuzz".into(),
        caller: Caller::Stdio { session_id: "fuzz".into(), token: None, era: Default::default() },
    };
    let out = with_fixture(|fx| fx.rt.block_on(fx.http[0].pipeline.call(inbound)));
    assert_ne!(out.status, ReplyStatus::Internal, "an internal error answered: {:?}", out.body);
    let body = out.body.as_ref().map(|b| serde_json::from_slice::<Value>(b).expect("the answer is JSON"));
    let request = match decoded {
        Err(e) => {
            assert_eq!(out.status, ReplyStatus::BadRequest);
            let body = body.expect("an undecodable message is answered");
            let code = check_rpc_body(&body, e.id.as_ref(), IdRule::Exact);
            assert_eq!(code, Some(i64::from(e.error.code.0)), "answered with another error than decoding's: {body}");
            return;
        }
        Ok(Message::Request(r)) => r,
        Ok(_) => {
            // Notifications and responses: taken, never answered (stdio has no session to miss).
            assert_eq!(out.status, ReplyStatus::Accepted);
            assert!(body.is_none(), "a notification was answered: {body:?}");
            return;
        }
    };
    let body = body.expect("every request is answered");
    let modern = era::is_modern(&Message::Request(request.clone()), None);
    let code = check_rpc_body(&body, Some(&request.id), IdRule::Exact);
    let expected_status = match code {
        None => ReplyStatus::Ok,
        Some(c) if c == i64::from(ErrorCode::RATE_LIMITED.0) => ReplyStatus::TooManyRequests,
        Some(c)
            if [ErrorCode::OVERLOADED, ErrorCode::TIMEOUT, ErrorCode::UNAVAILABLE]
                .map(|e| i64::from(e.0))
                .contains(&c) =>
        {
            ReplyStatus::Unavailable
        }
        // A 2026-07-28 request's errors carry the spec's status; a legacy one answers 200.
        Some(c) if modern && c == i64::from(ErrorCode::METHOD_NOT_FOUND.0) => ReplyStatus::NotFound,
        Some(c)
            if modern
                && [
                    ErrorCode::PARSE_ERROR,
                    ErrorCode::INVALID_REQUEST,
                    ErrorCode::INVALID_PARAMS,
                    ErrorCode::HEADER_MISMATCH,
                    ErrorCode::MISSING_CLIENT_CAPABILITY,
                    ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
                ]
                .map(|e| i64::from(e.0))
                .contains(&c) =>
        {
            ReplyStatus::BadRequest
        }
        Some(_) => ReplyStatus::Ok,
    };
    assert_eq!(out.status, expected_status, "status of {body}");
    if code.is_none() {
        let result = &body["result"];
        match request.method.as_str() {
            "initialize" => {
                let v = result["protocolVersion"].as_str().expect("initialize answers a protocolVersion");
                assert!(version::is_supported(v), "negotiated {v:?}");
            }
            "tools/list" => {
                let tools = result["tools"].as_array().expect("tools/list answers tools");
                assert!(tools.iter().all(|t| t["name"].is_string() && t["inputSchema"].is_object()));
                if let Some(next) = result.get("nextCursor") {
                    assert!(next.is_string(), "nextCursor {next}");
                }
            }
            "tools/call" => {
                let name = request.params.as_ref().and_then(|p| p["name"].as_str()).unwrap_or_default();
                check_tool_result(name, result);
            }
            _ => {}
        }
    }
}

/// How a response's `id` must relate to the request's.
#[derive(Clone, Copy, PartialEq)]
enum IdRule {
    /// The request's id, or null when none could be read.
    Exact,
    /// The request's id, or null: HTTP answers some refusals before reading the message.
    ExactOrNull,
}

/// A JSON-RPC response: version, the right id, exactly one of result/error, and an error code
/// from the allowed vocabulary (never -32603). Returns the error code, if any.
fn check_rpc_body(body: &Value, id: Option<&RequestId>, rule: IdRule) -> Option<i64> {
    assert_eq!(body["jsonrpc"], "2.0", "not a JSON-RPC 2.0 response: {body}");
    let expected = id.map_or(Value::Null, |id| serde_json::to_value(id).unwrap());
    let got = body.get("id").expect("a response always carries an id (null when unknown)");
    assert!(
        *got == expected || (rule == IdRule::ExactOrNull && got.is_null()),
        "response id {got} for request id {expected}"
    );
    let (has_result, has_error) = (body.get("result").is_some(), body.get("error").is_some());
    assert!(has_result != has_error, "exactly one of result and error: {body}");
    if has_result {
        return None;
    }
    let error = &body["error"];
    let code = error["code"].as_i64().expect("error.code is an integer");
    assert_ne!(code, i64::from(ErrorCode::INTERNAL_ERROR.0), "-32603 (internal error) answered: {body}");
    assert!(
        matches!(code, -32700 | -32600 | -32601 | -32602) || (-32099..=-32000).contains(&code),
        "error code {code} outside JSON-RPC's and MCP's/Tally's ranges: {body}"
    );
    assert!(error["message"].as_str().is_some_and(|m| !m.trim().is_empty()), "error without a message: {body}");
    Some(code)
}

/// A `CallToolResult`, and when it is an error, one the agent can act on. The schema accepted the
/// arguments when the typed params refuse them only if declaration and type disagree: a bug.
fn check_tool_result(name: &str, result: &Value) {
    assert!(result["content"].is_array(), "{name}: no content in {result}");
    let is_error = result["isError"].as_bool().expect("isError is a boolean");
    if is_error {
        let error = &result["structuredContent"]["error"];
        let code = error["code"].as_str().expect("a tool error has a code");
        let message = error["message"].as_str().expect("a tool error has a message");
        assert!(!message.trim().is_empty(), "{name}: empty tool error message");
        assert!(
            !message.starts_with("The arguments could not be read"),
            "{name}: the schema accepted arguments that its params type refuses ({code}): {message}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// schema: arbitrary JSON against every registered tool's input schema.

pub fn schema(data: &[u8]) {
    with_fixture(|fx| {
        // JSON as it comes, else a structured value built from the bytes with the tools' names.
        let args = serde_json::from_slice::<Value>(data).unwrap_or_else(|_| fx.vocab.arguments(&mut Reader::new(data)));
        let names: Vec<&'static str> = fx.registry.names().collect();
        for name in names {
            let schema = &fx.registry.definition(name).expect("registered").input;
            let verdict = schema.validate(&args);
            // The registry validates again: the same verdict (compared below) is determinism.
            let outcome = fx.rt.block_on(fx.registry.call(name, args.clone(), context())).map(|r| r.to_value());
            match verdict {
                Err(errors) => {
                    assert!(!errors.is_empty(), "{name}: Err without errors");
                    let root = if args.is_null() { json!({}) } else { args.clone() };
                    for e in &errors {
                        assert!(is_code(e.code), "{name}: code {:?}", e.code);
                        assert!(!e.message.trim().is_empty() && !e.expected.trim().is_empty(), "{name}: {e:?}");
                        // An empty key's path is its parent's plus a dot; its message names the
                        // parent (regressions/schema/empty_key_at_root.json).
                        // A key made of dots (regressions/schema/dot_key_at_root.bin) is named by
                        // its whole path.
                        let parent = e.path.trim_end_matches('.');
                        let named = if parent.is_empty() { "arguments" } else { parent };
                        assert!(
                            e.message.contains(named) || e.message.starts_with(&e.path),
                            "{name}: the message does not name {named:?}: {e:?}"
                        );
                        assert!(
                            resolves(&root, &e.path, e.code == tally::schema::codes::REQUIRED),
                            "{name}: path {:?} ({}) names nothing in {args}",
                            e.path,
                            e.code
                        );
                    }
                    // The registry refuses the same arguments with the same errors, as a tool result.
                    let result = outcome.unwrap_or_else(|f| panic!("{name}: invalid arguments ended as {f:?}"));
                    check_tool_result(name, &result);
                    let error = &result["structuredContent"]["error"];
                    assert_eq!(result["isError"], true, "{name}: accepted {args} that the schema refused");
                    assert_eq!(error["code"], "invalid_params");
                    let errors = serde_json::to_value(&errors).unwrap();
                    assert_eq!(error["errors"], errors, "{name}: validation is not deterministic for {args}");
                }
                Ok(normalized) => {
                    assert!(normalized.is_object(), "{name}: normalized to {normalized}");
                    let again = schema.validate(&normalized);
                    assert_eq!(again.as_ref(), Ok(&normalized), "{name}: normalizing {args} is not a fixed point");
                    // Past the schema: the typed params and validator rules, then the (absent) database.
                    match outcome {
                        Ok(result) => check_tool_result(name, &result),
                        Err(CallFailure::Unavailable) => {}
                        Err(f) => panic!("{name}: valid arguments {args} ended as {f:?}"),
                    }
                }
            }
        }
    })
}

fn context() -> ToolContext {
    ToolContext::new(
        tally::domain::Principal::operator("default", tally::domain::access::Role::Admin),
        Some("fuzz".into()),
    )
}

/// Error codes are short snake_case words (`required`, `invalid_type`, …).
fn is_code(code: &str) -> bool {
    !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Whether an error path (`line_items[2].amount_cents`, `""` for the root) names a place in
/// `value`; a `required` error may name a field missing from an object that is there. Keys may
/// hold `.` or `[`, so every key that prefixes the path is tried.
fn resolves(value: &Value, path: &str, missing_ok: bool) -> bool {
    if path.is_empty() {
        return true;
    }
    let descend = |v: &Value, after: &str| {
        after.is_empty()
            || after.strip_prefix('.').is_some_and(|rest| v.is_object() && resolves(v, rest, missing_ok))
            || (after.starts_with('[') && v.is_array() && resolves(v, after, missing_ok))
    };
    match value {
        Value::Object(map) => {
            map.iter().any(|(k, v)| path.strip_prefix(k.as_str()).is_some_and(|after| descend(v, after)))
                || (missing_ok && !path.contains(['.', '[']))
        }
        Value::Array(items) => {
            let Some((index, after)) = path.strip_prefix('[').and_then(|p| p.split_once(']')) else {
                return false;
            };
            index.parse::<usize>().ok().and_then(|i| items.get(i)).is_some_and(|item| descend(item, after))
        }
        _ => false,
    }
}

/// What the structured generator builds arguments from: every property name, enum value and
/// string default in the tools' published input schemas, plus strings that probe formats.
struct Vocab {
    keys: Vec<String>,
    strings: Vec<String>,
}

const PROBES: &[&str] = &[
    "",
    " ",
    "USD",
    "usd",
    "JPY",
    "XXX",
    "2026-02-28",
    "2026-02-30",
    "2026-13-01",
    "2026-1-1",
    "a@example.com",
    "not an email",
    "cust_42",
    "INV-000042",
    "0",
    "-1",
    "1.5",
    "null",
    "tab\there",
    "line\nbreak",
    "nul\u{0}byte",
    "\u{202e}rtl",
    "é",
    "🧾",
    "01HZX3V0000000000000000000",
    "018f3b2e-7c1a-7d3e-9f00-000000000000",
];

const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    20,
    50,
    99,
    100,
    101,
    1_000,
    1_000_000,
    1_000_001,
    10_000_000_000,
    10_000_000_001,
    i32::MAX as i64,
    i32::MAX as i64 + 1,
    u32::MAX as i64,
    u32::MAX as i64 + 1,
    i64::MAX,
    i64::MIN,
];

impl Vocab {
    fn of(registry: &Registry) -> Self {
        let mut v = Vocab { keys: vec![], strings: PROBES.iter().map(|s| (*s).to_owned()).collect() };
        for name in registry.names() {
            v.collect(&registry.definition(name).expect("registered").input.json_schema());
        }
        v.keys.sort();
        v.keys.dedup();
        v.strings.sort();
        v.strings.dedup();
        v
    }

    fn collect(&mut self, schema: &Value) {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, sub) in props {
                self.keys.push(k.clone());
                self.collect(sub);
            }
        }
        if let Some(items) = schema.get("items") {
            self.collect(items);
        }
        for key in ["enum", "examples"] {
            if let Some(values) = schema.get(key).and_then(Value::as_array) {
                self.strings.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
            }
        }
        if let Some(Value::String(s)) = schema.get("default") {
            self.strings.push(s.clone());
        }
    }

    /// Mostly an object (arguments are), sometimes anything.
    fn arguments(&self, r: &mut Reader) -> Value {
        if r.byte().is_multiple_of(8) { self.value(r, 0) } else { self.object(r, 0) }
    }

    fn value(&self, r: &mut Reader, depth: u32) -> Value {
        match r.below(if depth >= 4 { 5 } else { 8 }) {
            0 => Value::Null,
            1 => Value::Bool(r.byte() & 1 == 1),
            2 => match r.byte() % 4 {
                0 => json!(u64::MAX - u64::from(r.byte())),
                1 => json!(i64::from_le_bytes(r.array())),
                _ => json!(INTS[r.below(INTS.len())]),
            },
            3 => json!([0.5, 1.0, -0.0, 10.5, 1e20, -1e-7][r.below(6)]),
            4 => Value::String(self.string(r)),
            5 | 6 => self.object(r, depth + 1),
            _ => Value::Array((0..r.below(5)).map(|_| self.value(r, depth + 1)).collect()),
        }
    }

    fn object(&self, r: &mut Reader, depth: u32) -> Value {
        let mut map = Map::new();
        for _ in 0..r.below(7) {
            let key =
                if r.byte().is_multiple_of(8) { self.string(r) } else { self.keys[r.below(self.keys.len())].clone() };
            map.insert(key, self.value(r, depth));
        }
        Value::Object(map)
    }

    fn string(&self, r: &mut Reader) -> String {
        let base = &self.strings[r.below(self.strings.len())];
        match r.byte() % 6 {
            0 => {
                let n = r.below(24);
                String::from_utf8_lossy(r.take(n)).into_owned()
            }
            1 => base.repeat(1 + r.below(40)),
            2 => {
                let n = r.below(4);
                format!("{base}{}", String::from_utf8_lossy(r.take(n)))
            }
            3 => base.to_uppercase(),
            _ => base.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// cursor: decoding what a client sends back, and encode → decode.

/// Input: `cursor \n filters \n part \n part …` (lossy UTF-8).
pub fn cursor(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let sent = lines.next().unwrap_or_default();
    let filters = lines.next().unwrap_or_default();
    let parts: Vec<&str> = lines.collect();
    let other_filters = format!("{filters}!");
    for n in 0..=3 {
        match cursor::decode(sent, filters, n) {
            Ok(decoded) => {
                assert_eq!(decoded.len(), n);
                let refs: Vec<&str> = decoded.iter().map(String::as_str).collect();
                let again = cursor::encode(&refs, filters);
                assert_eq!(cursor::decode(&again, filters, n).expect("re-encoded"), decoded);
                assert!(cursor::decode(sent, &other_filters, n).is_err(), "a cursor must be bound to its filters");
            }
            Err(e) => assert!(matches!(e, DomainError::InvalidCursor(_)), "decode({sent:?}) failed with {e:?}"),
        }
    }
    match Position::decode(sent, filters) {
        Ok(p) => assert_eq!(Position::decode(&p.encode(filters), filters).expect("re-encoded"), p),
        Err(e) => assert!(matches!(e, DomainError::InvalidCursor(_)), "Position::decode failed with {e:?}"),
    }
    // Any parts and filters round-trip, and only for the same filters and arity.
    let encoded = cursor::encode(&parts, filters);
    assert_eq!(cursor::decode(&encoded, filters, parts.len()).expect("own cursor"), parts);
    assert!(cursor::decode(&encoded, &other_filters, parts.len()).is_err());
    assert!(cursor::decode(&encoded, filters, parts.len() + 1).is_err());
    // Any position in chrono's range round-trips.
    let mut r = Reader::new(data);
    let micros = i64::from_le_bytes(r.array());
    if let Some(created_at) = DateTime::from_timestamp_micros(micros) {
        let pos = Position { created_at, id: Uuid::from_bytes(r.array()) };
        assert_eq!(Position::decode(&pos.encode(filters), filters).expect("own position"), pos);
    }
}

// ---------------------------------------------------------------------------------------------
// session: the recording reader (`tally replay`) on any text.

pub fn session(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let recording = match tally::replay::parse("fuzz.jsonl", &text) {
        Ok(recording) => recording,
        Err(e) => {
            assert!(e.starts_with("fuzz.jsonl:"), "an error that does not name the recording: {e}");
            return;
        }
    };
    assert_eq!(recording.name, "fuzz.jsonl");
    // Written back out (one numbered request per exchange, its answer linked by `re`), it reads
    // back as the same recording.
    let mut out = serde_json::to_string(&Line::Header(recording.header.clone())).unwrap();
    for (i, x) in recording.exchanges.iter().enumerate() {
        let seq = i as u64 + 1;
        let request = Line::Message {
            dir: Direction::In,
            t_ms: x.t_ms,
            seq: Some(seq),
            re: None,
            status: None,
            message: Some(x.request.clone()),
        };
        out.push('\n');
        out.push_str(&serde_json::to_string(&request).unwrap());
        if x.status.is_some() || x.response.is_some() {
            let answer = Line::Message {
                dir: Direction::Out,
                t_ms: x.t_ms,
                seq: None,
                re: Some(seq),
                status: x.status,
                message: x.response.clone(),
            };
            out.push('\n');
            out.push_str(&serde_json::to_string(&answer).unwrap());
        }
    }
    let again = tally::replay::parse("again.jsonl", &out).unwrap_or_else(|e| panic!("rewritten recording: {e}"));
    assert_eq!(again.header, recording.header);
    let key = |r: &tally::replay::Recording| {
        r.exchanges.iter().map(|x| (x.t_ms, x.request.clone(), x.status, x.response.clone())).collect::<Vec<_>>()
    };
    assert_eq!(key(&again), key(&recording), "exchanges differ after a rewrite");
}

// ---------------------------------------------------------------------------------------------
// http: a request through the body limit and `route` (guard, content negotiation, decode,
// protocol version, the limit stack, the MCP service), as `tally serve` runs it.

/// Input, in the shape of an HTTP/1.1 request head:
///
/// ```text
/// POST /mcp                      method and target (default method POST)
/// Host: 127.0.0.1:8080           headers, any number, repeated ones kept
/// @tight                         harness flags: the public, tightly limited, draining server;
/// @chunks: 3                     the body in 3 frames; a body that fails after its frames;
/// @fail                          with @tight, a body that stops after its frames (408 after
/// @stall                         the tight server's 5 ms)
///                                a blank line, then the body bytes
/// {"jsonrpc":"2.0",…}
/// ```
pub fn http(data: &[u8]) {
    let Some(input) = HttpInput::parse(data) else { return };
    // The id the server can read from the body, if any (decoding errors keep it too).
    let sent_id = match Message::decode(&input.body) {
        Ok(Message::Request(r)) => Some(r.id),
        Ok(_) => None,
        Err(e) => e.id,
    };
    let (parts, body) = with_fixture(|fx| {
        let state = Arc::clone(&fx.http[usize::from(input.tight)]);
        fx.rt.block_on(async move {
            let max_body = state.max_body_bytes;
            let service = ServiceBuilder::new()
                .layer(RequestBodyLimitLayer::new(max_body))
                .service_fn(move |req| route(Arc::clone(&state), req));
            let res = service.oneshot(input.request).await.unwrap_or_else(|never| match never {});
            let (parts, body) = res.into_parts();
            (parts, body.collect().await.unwrap_or_else(|never| match never {}).to_bytes())
        })
    });
    let status = parts.status.as_u16();
    let shown = String::from_utf8_lossy(&body);
    assert!(status < 500 || status == 503 || status == 504, "HTTP {status}: {shown}");
    if status == 405 {
        assert!(parts.headers.contains_key(ALLOW), "405 without Allow");
    }
    if status == 202 || status == 204 {
        assert!(body.is_empty(), "HTTP {status} with a body: {shown}");
    }
    if parts.headers.contains_key("mcp-session-id") {
        assert_eq!(status, 200, "a session id on HTTP {status}");
    }
    let content_type = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("application/json") {
        let value: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {shown}"));
        if value.get("jsonrpc").is_some() {
            let code = check_rpc_body(&value, sent_id.as_ref(), IdRule::ExactOrNull);
            assert!(code.is_some() || status == 200, "a result on HTTP {status}: {shown}");
        }
    }
}

struct HttpInput {
    request: Request<FuzzBody>,
    body: Bytes,
    tight: bool,
}

impl HttpInput {
    fn parse(data: &[u8]) -> Option<Self> {
        let mut lines = Vec::new();
        let mut rest = data;
        let body = loop {
            let (line, after) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b""[..]),
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() || after.is_empty() {
                if !line.is_empty() {
                    lines.push(line);
                }
                break after;
            }
            lines.push(line);
            rest = after;
        };
        let first = lines.first().copied().unwrap_or_default();
        let (method, target) = match first.iter().position(|&b| b == b' ') {
            Some(i) => (&first[..i], first[i + 1..].trim_ascii()),
            None => (first, &b"/mcp"[..]),
        };
        let method = if method.is_empty() { Method::POST } else { Method::from_bytes(method).ok()? };
        let mut builder = Request::builder().method(method).uri(Uri::try_from(target).ok()?);
        let (mut tight, mut chunks, mut fail, mut stall) = (false, 1, false, false);
        for line in lines.iter().skip(1) {
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(i) => (line[..i].trim_ascii(), line[i + 1..].trim_ascii()),
                None => (line.trim_ascii(), &b""[..]),
            };
            match name {
                b"@tight" => tight = true,
                b"@fail" => fail = true,
                b"@stall" => stall = true,
                b"@chunks" => {
                    chunks = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()).unwrap_or(1).clamp(1, 16);
                }
                _ => {
                    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
                        builder = builder.header(name, value);
                    }
                }
            }
        }
        let body = Bytes::copy_from_slice(body);
        // Only the tight server gives up on a stalled body soon enough for a fuzzer.
        let request = builder.body(FuzzBody::new(&body, chunks, fail, stall && tight)).ok()?;
        Some(Self { request, body, tight })
    }
}

/// A request body in frames, then optionally an error (a client that hung up) or nothing ever
/// again (one that stalled).
struct FuzzBody {
    frames: VecDeque<Bytes>,
    fail: bool,
    stall: bool,
}

impl FuzzBody {
    fn new(body: &Bytes, chunks: usize, fail: bool, stall: bool) -> Self {
        let size = body.len().div_ceil(chunks).max(1);
        let frames = (0..body.len()).step_by(size).map(|i| body.slice(i..(i + size).min(body.len()))).collect();
        Self { frames, fail, stall }
    }
}

impl http_body::Body for FuzzBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(frame) = this.frames.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(frame))));
        }
        if std::mem::take(&mut this.fail) {
            return Poll::Ready(Some(Err("connection reset by the fuzzer".into())));
        }
        if this.stall { Poll::Pending } else { Poll::Ready(None) }
    }
}

// ---------------------------------------------------------------------------------------------
// The fixture: what the server builds at start, built once per thread (and leaked, so that no
// runtime is dropped while thread-locals are torn down).

struct Fixture {
    rt: tokio::runtime::Runtime,
    /// The schema target's tools, called directly.
    registry: Registry,
    vocab: Vocab,
    /// `[loopback server with the defaults, public server with tight limits, draining]`; the
    /// jsonrpc target drives the first one's pipeline as the stdio transport does.
    http: [Arc<HttpState>; 2],
}

thread_local! {
    static FIXTURE: &'static Fixture = Box::leak(Box::new(Fixture::new()));
}

fn with_fixture<R>(f: impl FnOnce(&Fixture) -> R) -> R {
    FIXTURE.with(|fx| f(fx))
}

/// `tally serve` with its defaults, except for a rate limit the fuzzer's pace cannot reach.
const LOOPBACK: &[&str] = &["--rate-limit", "1000000"];

/// A public binding with a listed host and origin, one call a second, one at a time, 256-byte
/// bodies that must arrive within 5 ms.
const TIGHT: &[&str] = &[
    "--bind=0.0.0.0:8080",
    "--allowed-hosts=tally.internal",
    "--allowed-origins=https://app.example.com",
    "--concurrency-limit=1",
    "--queue-limit=0",
    "--rate-limit=1",
    "--timeout=1s",
    "--db-acquire-timeout=100ms",
    "--max-body-bytes=256",
    "--body-read-timeout=5ms",
];

impl Fixture {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let guard = rt.enter();
        let pool = nowhere_pool();
        let registry = tally::app::registry(&pool);
        let vocab = Vocab::of(&registry);
        let http = [Arc::new(server(&pool, LOOPBACK)), Arc::new(server(&pool, TIGHT))];
        http[1].draining.store(true, std::sync::atomic::Ordering::Release);
        drop(guard);
        Self { rt, registry, vocab, http }
    }
}

/// The HTTP state as `tally serve <flags>` builds it, over `pool`, recording nothing.
fn server(pool: &PgPool, flags: &[&str]) -> HttpState {
    use clap::Parser;
    // Anonymous callers reach past the principal stage, as on `make run`.
    let argv = ["tally", "serve", "--database-url=postgres://fuzz@localhost/fuzz", "--anonymous-role=admin"]
        .iter()
        .chain(flags);
    let cli = tally::config::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("tally serve {flags:?}: {e}"));
    let tally::config::Command::Serve(args) = cli.command else { unreachable!("parsed `serve`") };
    tally::app::http_state(&args, pool, &Default::default(), None).expect("the default serve flags build a state")
}

/// A lazy pool at a Unix socket that does not exist: connecting fails at once (not "refused",
/// which sqlx retries until the acquire timeout), so every query is a fast "unavailable".
fn nowhere_pool() -> PgPool {
    let options = PgConnectOptions::new().socket("/nonexistent/tally-fuzz").username("fuzz").database("fuzz");
    PgPoolOptions::new().max_connections(4).acquire_timeout(Duration::from_millis(100)).connect_lazy_with(options)
}

/// Reads fuzz bytes as choices; past the end, every byte is 0.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// `0..n`, for `n > 0`.
    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for b in &mut out {
            *b = self.byte();
        }
        out
    }
}
