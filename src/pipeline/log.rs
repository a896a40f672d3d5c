//! One log span per MCP call, on either transport: request id, session tag, method, tool and
//! outcome. Never arguments, and never a raw session id (it is a bearer credential): the tag is
//! a short hash, the same one recordings are named with.

use std::time::Instant;

use crate::recording::session_tag;
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
    pub fn finish(&self, status: ReplyStatus, outcome: &str, session: Option<&str>) {
        if let Some(s) = session {
            self.span.record("session", session_tag(s));
        }
        self.span.record("outcome", outcome);
        let _entered = self.span.enter();
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        tracing::info!(status = status.http_status(), elapsed_ms, "call finished");
    }
}
