//! Who is writing: the tenant every row is scoped to, and the door they came through (the tool
//! and session, for the audit trail). The domain records these; it does not interpret them.

#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: String,
    /// The operation's name at the edge (an MCP tool name, say).
    pub via: &'static str,
    pub session_id: Option<String>,
}

/// Who is calling, as resolved at the edge: today every caller of a process acts for its
/// configured tenant; access tokens and roles add to this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: String,
}
