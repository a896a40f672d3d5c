//! One log span per MCP call, on either transport: request id, session tag, method, tool and
//! outcome. Never arguments, and never a raw session id (it is a bearer credential): the tag is
//! a short hash, the same one recordings are named with.

use std::time::Instant;

use crate::recording::session_tag;
use serde_json::Value;
use tracing::Span;
use tracing::field::Empty;

use crate::mcp::ReplyStatus;
use crate::mcp::jsonrpc::Message;

pub struct CallLog {
    span: Span,
    started: Instant,
}

impl CallLog {
    pub fn start(request_id: &str, session: Option<&str>, message: &Message) -> Self {
        let (method, tool) = match message {
            Message::Request(r) => (
                r.method.as_str(),
                r.params.as_ref().and_then(|p| p["name"].as_str()).filter(|_| r.method == "tools/call"),
            ),
            Message::Notification(n) => (n.method.as_str(), None),
            Message::Response => ("(response)", None),
        };
        let span = tracing::info_span!("mcp", request_id, session = Empty, method, tool = Empty, outcome = Empty);
        if let Some(s) = session {
            span.record("session", session_tag(s));
        }
        if let Some(t) = tool {
            span.record("tool", t);
        }
        Self { span, started: Instant::now() }
    }

    pub fn span(&self) -> Span {
        self.span.clone()
    }

    /// Records the outcome and logs the call's one info line.
    pub fn finish(&self, status: ReplyStatus, body: Option<&Value>, session: Option<&str>) {
        if let Some(s) = session {
            self.span.record("session", session_tag(s));
        }
        let outcome = outcome(status, body);
        self.span.record("outcome", outcome.as_str());
        let _entered = self.span.enter();
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        tracing::info!(status = status.http_status(), elapsed_ms, "call finished");
    }
}

/// `ok`, a tool error code (`invalid_params`, `overpayment`, …), a throttling reason, or the
/// JSON-RPC error code.
fn outcome(status: ReplyStatus, body: Option<&Value>) -> String {
    let Some(body) = body else { return if status == ReplyStatus::Accepted { "accepted".into() } else { "ok".into() } };
    if let Some(error) = body.get("error") {
        return match error["data"]["reason"].as_str() {
            Some(reason) => reason.to_owned(),
            None => format!("error {}", error["code"]),
        };
    }
    if body["result"]["isError"] == true {
        return body["result"]["structuredContent"]["error"]["code"].as_str().unwrap_or("tool_error").to_owned();
    }
    "ok".into()
}
