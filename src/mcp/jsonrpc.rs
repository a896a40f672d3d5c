//! JSON-RPC 2.0 messages as MCP uses them: one message per body (batching was removed in
//! 2025-06-18), request ids are strings or integers and never null.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{ErrorCode, ErrorData};

/// A request id: a string or an integer, echoed back verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    Number(i64),
    String(String),
}

/// A request: it has an id and expects exactly one response.
#[derive(Debug, Clone)]
pub struct Request {
    pub id: RequestId,
    pub method: String,
    pub params: Option<Value>,
}

/// A notification: no id, no response.
#[derive(Debug, Clone)]
pub struct Notification {
    pub method: String,
    pub params: Option<Value>,
}

/// Any single message a client may send.
#[derive(Debug, Clone)]
pub enum Message {
    Request(Request),
    Notification(Notification),
    /// A response to a server-initiated request. Tally sends none yet, so these are acknowledged
    /// and dropped.
    Response,
}

impl Message {
    /// Decodes one message. Errors carry the id when one could be read, so the reply correlates.
    pub fn decode(bytes: &[u8]) -> Result<Self, Box<DecodeError>> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            let error = ErrorData::new(ErrorCode::PARSE_ERROR, format!("The body is not valid JSON: {e}"));
            Box::new(DecodeError { id: None, error })
        })?;
        Self::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<Self, Box<DecodeError>> {
        let Value::Object(mut obj) = value else {
            let what = if value.is_array() {
                "JSON-RPC batches are not supported (removed in MCP 2025-06-18); send one message per request"
            } else {
                "a JSON-RPC message must be a JSON object"
            };
            return Err(Box::new(DecodeError { id: None, error: ErrorData::new(ErrorCode::INVALID_REQUEST, what) }));
        };
        let id = match obj.remove("id") {
            None => None,
            Some(v) => match serde_json::from_value::<RequestId>(v) {
                Ok(id) => Some(id),
                Err(_) => {
                    let error =
                        ErrorData::new(ErrorCode::INVALID_REQUEST, "`id` must be a string or an integer (never null)");
                    return Err(Box::new(DecodeError { id: None, error }));
                }
            },
        };
        let invalid = |msg: &str| {
            Err(Box::new(DecodeError { id: id.clone(), error: ErrorData::new(ErrorCode::INVALID_REQUEST, msg) }))
        };
        if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return invalid("`jsonrpc` must be \"2.0\"");
        }
        let params = obj.remove("params");
        if params.as_ref().is_some_and(|p| !p.is_object()) {
            return invalid("`params` must be an object when present");
        }
        match (obj.remove("method"), id.clone()) {
            (Some(Value::String(method)), Some(id)) => Ok(Message::Request(Request { id, method, params })),
            (Some(Value::String(method)), None) => Ok(Message::Notification(Notification { method, params })),
            (Some(_), _) => invalid("`method` must be a string"),
            (None, Some(_)) if obj.contains_key("result") || obj.contains_key("error") => Ok(Message::Response),
            (None, _) => {
                invalid("a message needs a `method` (request or notification) or a `result`/`error` (response)")
            }
        }
    }
}

/// Why a message could not be decoded, with its id when one could be read.
#[derive(Debug)]
pub struct DecodeError {
    pub id: Option<RequestId>,
    pub error: ErrorData,
}

/// Encodes a successful response.
pub fn result(id: &RequestId, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// Encodes a successful response around a result already serialized (a tool's, written once).
pub fn result_raw(id: &RequestId, result: &str) -> Bytes {
    let id = serde_json::to_string(id).expect("an id serializes");
    Bytes::from(format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#))
}

/// Encodes an error response; `id` is null only when the request's id could not be read.
pub fn error(id: Option<&RequestId>, error: &ErrorData) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_requests_notifications_and_responses() {
        let m = Message::decode(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).unwrap();
        assert!(matches!(m, Message::Request(Request { id: RequestId::Number(7), .. })));
        let m = Message::decode(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(m, Message::Notification(_)));
        let m = Message::decode(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert!(matches!(m, Message::Response));
    }

    #[test]
    fn rejects_what_is_not_one_message() {
        let code = |b: &[u8]| Message::decode(b).unwrap_err().error.code;
        assert_eq!(code(b"{nope"), ErrorCode::PARSE_ERROR);
        assert_eq!(code(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#), ErrorCode::INVALID_REQUEST);
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#), ErrorCode::INVALID_REQUEST);
        assert_eq!(code(br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#), ErrorCode::INVALID_REQUEST);
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#), ErrorCode::INVALID_REQUEST);
    }

    #[test]
    fn keeps_the_id_of_an_invalid_request() {
        let id = Message::decode(br#"{"jsonrpc":"1.0","id":"x","method":"ping"}"#).unwrap_err().id;
        assert_eq!(id, Some(RequestId::String("x".into())));
    }
}
