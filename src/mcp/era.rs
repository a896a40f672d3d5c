//! Which protocol era a message belongs to, and the modern era's per-request envelope.
//!
//! Tally is dual-era on one endpoint. A request whose `params._meta` carries
//! `io.modelcontextprotocol/protocolVersion` (or that is `server/discover`, or that comes over
//! HTTP with a 2026-07-28 `MCP-Protocol-Version` header) is a **modern** request: it is served
//! on its own, with no session, and must pass the envelope ladder below. `initialize` and every
//! request without that envelope are **legacy** (2025-11-25 and before), served in the session
//! that `initialize` opened.
//!
//! The ladder, first failure wins (the same order as the official SDKs):
//! 1. `params._meta` holds `protocolVersion` and `clientCapabilities` (an object), and a
//!    `clientInfo`, when sent, is a name and version of single-line text → -32602;
//! 2. over HTTP, the routing headers agree with the body: `MCP-Protocol-Version` equals the
//!    envelope's version, `Mcp-Method` the method, and `Mcp-Name` (plain or `=?base64?…?=`,
//!    surrounding whitespace ignored) the tool name or resource URI; none appears twice → -32020;
//! 3. the version is one Tally serves statelessly → -32022 with `data: {supported, requested}`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::error::{ErrorCode, ErrorData};
use super::jsonrpc::Message;
use super::methods::{ClientInfo, LOG_LEVELS};
use super::version;

/// The stateless revision Tally serves.
pub const MODERN: &str = "2026-07-28";
/// Modern revisions, newest first.
pub const MODERN_VERSIONS: [&str; 1] = [MODERN];

pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
pub const LOG_LEVEL_KEY: &str = "io.modelcontextprotocol/logLevel";
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";

/// The methods whose target is mirrored in `Mcp-Name`, and the param that holds it.
const NAME_BEARING: [(&str, &str); 3] = [("tools/call", "name"), ("prompts/get", "name"), ("resources/read", "uri")];

/// Every revision Tally speaks, newest first: what `server/discover` and -32022 list.
pub fn all_supported() -> Vec<&'static str> {
    MODERN_VERSIONS.iter().chain(version::SUPPORTED.iter()).copied().collect()
}

/// The modern routing headers of one HTTP request, as sent (trimmed; `None` when absent).
#[derive(Debug, Clone, Default)]
pub struct RoutingHeaders {
    pub protocol_version: Option<String>,
    pub method: Option<String>,
    pub name: Option<String>,
    /// A routing header that appeared more than once (first and last copy could disagree).
    pub duplicated: Option<&'static str>,
}

/// What a modern request says of its client, validated.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub protocol_version: &'static str,
    pub client_info: Option<ClientInfo>,
    pub client_capabilities: Value,
    /// `io.modelcontextprotocol/logLevel`: log messages for this request only, at this level.
    pub log_level: Option<String>,
}

/// A message's era.
#[derive(Debug, Clone)]
pub enum Era {
    Legacy,
    Modern(Box<Envelope>),
}

impl Era {
    pub fn is_modern(&self) -> bool {
        matches!(self, Self::Modern(_))
    }
}

/// Whether `message` belongs to the modern era. `header_version` is HTTP's
/// `MCP-Protocol-Version`; stdio has none.
pub fn is_modern(message: &Message, header_version: Option<&str>) -> bool {
    let (method, params) = match message {
        Message::Request(r) => (r.method.as_str(), r.params.as_ref()),
        Message::Notification(n) => (n.method.as_str(), n.params.as_ref()),
        Message::Response => return header_version.is_some_and(|v| MODERN_VERSIONS.contains(&v)),
    };
    let enveloped = params.and_then(|p| p.get("_meta")).and_then(|m| m.get(PROTOCOL_VERSION_KEY)).is_some();
    let modern_header = header_version.is_some_and(|v| MODERN_VERSIONS.contains(&v));
    // initialize opens the legacy era unless the request says outright that it is modern (and
    // then it is a method that era does not have).
    if method == "initialize" {
        return modern_header;
    }
    method == "server/discover" || enveloped || modern_header
}

/// Runs the ladder over a modern request. `headers` is `None` off HTTP.
pub fn envelope(method: &str, params: Option<&Value>, headers: Option<&RoutingHeaders>) -> Result<Envelope, ErrorData> {
    let empty = Map::new();
    let params_obj = params.and_then(Value::as_object).unwrap_or(&empty);
    let Some(meta) = params_obj.get("_meta").and_then(Value::as_object) else {
        return Err(ErrorData::invalid_params(format!(
            "A {MODERN} request carries params._meta with {PROTOCOL_VERSION_KEY:?} and {CLIENT_CAPABILITIES_KEY:?} \
             (or send initialize first for the 2025-11-25 session era)"
        )));
    };
    let missing: Vec<&str> =
        [PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY].into_iter().filter(|k| !meta.contains_key(*k)).collect();
    if !missing.is_empty() {
        return Err(ErrorData::invalid_params(format!(
            "params._meta is missing the required key(s): {}",
            missing.join(", ")
        )));
    }
    let capabilities = &meta[CLIENT_CAPABILITIES_KEY];
    if !capabilities.is_object() {
        return Err(ErrorData::invalid_params(format!("params._meta[{CLIENT_CAPABILITIES_KEY:?}] must be an object")));
    }
    let client_info = match meta.get(CLIENT_INFO_KEY) {
        None | Some(Value::Null) => None,
        Some(info) => Some(client_info(info)?),
    };
    let log_level = match meta.get(LOG_LEVEL_KEY) {
        None | Some(Value::Null) => None,
        Some(Value::String(level)) if LOG_LEVELS.contains(&level.as_str()) => Some(level.clone()),
        Some(other) => {
            return Err(ErrorData::invalid_params(format!(
                "params._meta[{LOG_LEVEL_KEY:?}] is {other}; expected one of {}",
                LOG_LEVELS.join(", ")
            )));
        }
    };
    let requested = &meta[PROTOCOL_VERSION_KEY];
    if let Some(headers) = headers {
        check_headers(method, params_obj, requested, headers)?;
    }
    let Some(requested) = requested.as_str() else {
        return Err(ErrorData::invalid_params(format!("params._meta[{PROTOCOL_VERSION_KEY:?}] must be a string")));
    };
    let Some(protocol_version) = MODERN_VERSIONS.iter().copied().find(|v| *v == requested) else {
        return Err(unsupported_version(requested, &all_supported()));
    };
    Ok(Envelope { protocol_version, client_info, client_capabilities: capabilities.clone(), log_level })
}

/// -32022: the version is not one Tally serves here; `supported` lists those it does.
pub fn unsupported_version(requested: &str, supported: &[&str]) -> ErrorData {
    ErrorData::new(
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        format!("Unsupported protocol version {requested:?}; supported: {}", supported.join(", ")),
    )
    .with_data(json!({ "supported": supported, "requested": requested }))
}

fn check_headers(
    method: &str,
    params: &Map<String, Value>,
    requested: &Value,
    headers: &RoutingHeaders,
) -> Result<(), ErrorData> {
    let mismatch = |msg: String| Err(ErrorData::new(ErrorCode::HEADER_MISMATCH, msg));
    if let Some(name) = headers.duplicated {
        return mismatch(format!("The {name} header appears more than once; send it once"));
    }
    match headers.protocol_version.as_deref() {
        None => return mismatch(format!("Missing MCP-Protocol-Version header; send {MODERN} as in params._meta")),
        Some(v) if Some(v) != requested.as_str() => {
            return mismatch(format!(
                "MCP-Protocol-Version header {v:?} does not match params._meta[{PROTOCOL_VERSION_KEY:?}] {requested}"
            ));
        }
        Some(_) => {}
    }
    match headers.method.as_deref() {
        None => return mismatch(format!("Missing Mcp-Method header; send {method:?}")),
        Some(m) if m != method => {
            return mismatch(format!("Mcp-Method header {m:?} does not match the body's method {method:?}"));
        }
        Some(_) => {}
    }
    if let Some((_, key)) = NAME_BEARING.iter().find(|(m, _)| *m == method)
        && let Some(body) = params.get(*key).and_then(Value::as_str)
    {
        match headers.name.as_deref().map(decode_header_value) {
            None => return mismatch(format!("Missing Mcp-Name header; send the {key} {body:?}")),
            Some(None) => return mismatch("Mcp-Name header is not valid =?base64?…?= of UTF-8 text".into()),
            Some(Some(name)) if name != body => {
                return mismatch(format!("Mcp-Name header {name:?} does not match the body's {key} {body:?}"));
            }
            Some(Some(_)) => {}
        }
    }
    Ok(())
}

/// A header value as sent: verbatim, or the UTF-8 text inside `=?base64?…?=`; `None` when the
/// base64 form is malformed.
pub fn decode_header_value(value: &str) -> Option<String> {
    let value = value.trim();
    let Some(payload) = value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) else {
        return Some(value.to_owned());
    };
    String::from_utf8(STANDARD.decode(payload).ok()?).ok()
}

/// A value as a client sends it in `Mcp-Name`: verbatim when it is printable ASCII without
/// surrounding whitespace, else `=?base64?…?=`.
pub fn encode_header_value(value: &str) -> String {
    let plain = value.bytes().all(|b| (0x20..=0x7e).contains(&b)) && value.trim() == value && !value.starts_with("=?");
    if plain { value.to_owned() } else { format!("=?base64?{}?=", STANDARD.encode(value)) }
}

/// The name a request mirrors in `Mcp-Name`, when its method has one.
pub fn routed_name<'a>(method: &str, params: Option<&'a Value>) -> Option<&'a str> {
    let (_, key) = NAME_BEARING.iter().find(|(m, _)| *m == method)?;
    params?.get(*key)?.as_str()
}

fn client_info(info: &Value) -> Result<ClientInfo, ErrorData> {
    let parsed: ClientInfo = serde_json::from_value(info.clone()).map_err(|e| {
        ErrorData::invalid_params(format!("params._meta[{CLIENT_INFO_KEY:?}] must be {{name, version}}: {e}"))
    })?;
    parsed.checked(&format!("params._meta[{CLIENT_INFO_KEY:?}]"))
}

/// Decorates a modern result: `resultType`, `serverInfo` in `_meta`, and for cacheable results
/// `ttlMs` and `cacheScope`. `result` is the serialized result object; the fields are spliced in
/// front so it is not parsed or serialized again.
pub fn decorate(result: &str, cache: Option<Cache>) -> String {
    let body = result.trim_start().strip_prefix('{').expect("a result is a JSON object");
    let mut head = format!(
        r#"{{"resultType":"complete","_meta":{{"{SERVER_INFO_KEY}":{{"name":"tally","title":"Tally invoicing","version":"{}"}}}}"#,
        env!("CARGO_PKG_VERSION")
    );
    if let Some(cache) = cache {
        head.push_str(&format!(r#","ttlMs":{},"cacheScope":"{}""#, cache.ttl_ms, cache.scope.as_str()));
    }
    if !body.trim_start().starts_with('}') {
        head.push(',');
    }
    head.push_str(body);
    head
}

/// How long a client may keep a result, and whether it may share it across callers.
#[derive(Debug, Clone, Copy)]
pub struct Cache {
    pub ttl_ms: u64,
    pub scope: CacheScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheScope {
    /// The same for every caller (discover).
    Public,
    /// Depends on the caller's tenant or role.
    Private,
}

impl CacheScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(version: &str) -> Value {
        json!({"_meta": {PROTOCOL_VERSION_KEY: version, CLIENT_CAPABILITIES_KEY: {}}, "name": "get_invoice"})
    }

    fn headers(version: &str, method: &str, name: Option<&str>) -> RoutingHeaders {
        RoutingHeaders {
            protocol_version: Some(version.into()),
            method: Some(method.into()),
            name: name.map(Into::into),
            duplicated: None,
        }
    }

    #[test]
    fn the_ladder_answers_in_order() {
        let code = |params: Value, h: RoutingHeaders| envelope("tools/call", Some(&params), Some(&h)).unwrap_err().code;
        assert_eq!(code(json!({}), headers(MODERN, "tools/call", None)), ErrorCode::INVALID_PARAMS);
        // A client that disagrees with itself hears so before hearing of the version.
        assert_eq!(
            code(meta("2030-01-01"), headers(MODERN, "tools/call", Some("get_invoice"))),
            ErrorCode::HEADER_MISMATCH
        );
        let unsupported = envelope(
            "tools/call",
            Some(&meta("2030-01-01")),
            Some(&headers("2030-01-01", "tools/call", Some("get_invoice"))),
        )
        .unwrap_err();
        assert_eq!(unsupported.code, ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(unsupported.data.unwrap()["requested"], "2030-01-01");
        assert_eq!(code(meta(MODERN), headers(MODERN, "tools/list", Some("get_invoice"))), ErrorCode::HEADER_MISMATCH);
        assert_eq!(
            code(meta(MODERN), headers(MODERN, "tools/call", Some("list_invoices"))),
            ErrorCode::HEADER_MISMATCH
        );
        assert_eq!(code(meta(MODERN), headers(MODERN, "tools/call", None)), ErrorCode::HEADER_MISMATCH);
        let ok =
            envelope("tools/call", Some(&meta(MODERN)), Some(&headers(MODERN, "tools/call", Some(" get_invoice "))));
        assert!(ok.is_ok());
        let b64 = format!("=?base64?{}?=", STANDARD.encode("get_invoice"));
        assert!(envelope("tools/call", Some(&meta(MODERN)), Some(&headers(MODERN, "tools/call", Some(&b64)))).is_ok());
        assert!(envelope("tools/call", Some(&meta(MODERN)), None).is_ok(), "stdio has no headers");
    }

    #[test]
    fn header_values_round_trip() {
        for name in ["get_invoice", " padded ", "naïve", "=?base64?x?=", "invoice://inv_1"] {
            assert_eq!(decode_header_value(&encode_header_value(name)).as_deref(), Some(name), "{name:?}");
        }
    }

    #[test]
    fn decorate_splices_without_reparsing() {
        let out: Value = serde_json::from_str(&decorate(r#"{"tools":[]}"#, None)).unwrap();
        assert_eq!(out["resultType"], "complete");
        assert_eq!(out["tools"], json!([]));
        assert_eq!(out["_meta"][SERVER_INFO_KEY]["name"], "tally");
        let cached = Cache { ttl_ms: 5, scope: CacheScope::Private };
        let out: Value = serde_json::from_str(&decorate("{}", Some(cached))).unwrap();
        assert_eq!(out["cacheScope"], "private");
        assert_eq!(out["ttlMs"], 5);
    }
}
