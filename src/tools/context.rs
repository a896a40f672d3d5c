//! What every tool call receives besides its params: who is calling, where to report
//! progress, and whether the caller is still there.

use serde_json::Value;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::domain::{Actor, Principal};

/// The request context a tool handler runs with.
#[derive(Debug, Clone)]
pub struct ToolContext {
    /// Who is calling, resolved before dispatch.
    pub principal: Principal,
    pub session_id: Option<String>,
    /// Set by the registry to the tool being called.
    pub tool: &'static str,
    /// Progress and log messages for the caller; silent unless its request asked for them.
    pub notify: Notifier,
    /// Fires when the caller has gone (connection closed, call cancelled): a long handler
    /// stops between steps and reports what it committed.
    pub cancel: CancellationToken,
}

impl ToolContext {
    /// A context for `principal` with no one listening for progress and no cancellation.
    pub fn new(principal: Principal, session_id: Option<String>) -> Self {
        Self { principal, session_id, tool: "", notify: Notifier::silent(), cancel: CancellationToken::new() }
    }

    pub fn tenant_id(&self) -> &str {
        &self.principal.tenant_id
    }

    /// The domain's view of the caller.
    pub fn actor(&self) -> Actor {
        Actor {
            tenant_id: self.principal.tenant_id.clone(),
            via: self.tool,
            session_id: self.session_id.clone(),
            role: self.principal.role,
            token: self.principal.token.clone(),
        }
    }
}

/// Something a running call tells its caller before its result.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// `progress` of `total` steps done.
    Progress { progress: u64, total: Option<u64>, message: Option<String> },
    /// A log message (`level` as MCP names them: debug, info, warning, error).
    Log { level: &'static str, data: Value },
}

/// The sink for [`Notice`]s; the protocol layer turns them into notifications as they are sent,
/// so they reach the caller in order and before the result.
#[derive(Clone)]
pub struct Notifier(Option<Arc<dyn Fn(Notice) + Send + Sync>>);

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Notifier(listening)" } else { "Notifier(silent)" })
    }
}

impl Notifier {
    /// Nobody listens: every notice is dropped.
    pub fn silent() -> Self {
        Self(None)
    }

    /// Notices go to `sink`.
    pub fn to(sink: impl Fn(Notice) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(sink)))
    }

    /// Whether anyone listens (a handler may skip work only a listener needs).
    pub fn is_listening(&self) -> bool {
        self.0.is_some()
    }

    pub fn send(&self, notice: Notice) {
        if let Some(sink) = &self.0 {
            sink(notice);
        }
    }
}
