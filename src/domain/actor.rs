//! Who is writing: the tenant every row is scoped to, the access token and role it acts with,
//! and the door it came through (the tool and session, for the audit trail). The domain records
//! these; it does not interpret them.

use uuid::Uuid;

use super::access::Role;

/// The access token a caller presented: its id and name, never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: String,
    /// The operation's name at the edge (an MCP tool name, say).
    pub via: &'static str,
    pub session_id: Option<String>,
    pub role: Role,
    /// None for the process's own operator (stdio without a token, or an anonymous loopback caller).
    pub token: Option<TokenRef>,
}

/// Who is calling, as resolved at the edge before any limit or tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: String,
    pub role: Role,
    pub token: Option<TokenRef>,
    /// The tenant's own quotas (from its row in `tenants`); none: the deployment's defaults.
    pub quota: Quota,
}

/// A tenant's own limits, where the operator set them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    pub rate_per_second: Option<u32>,
    pub concurrency: Option<u32>,
}

impl Principal {
    /// The process's own operator for `tenant`: no token, `role`, the default quotas.
    pub fn operator(tenant: impl Into<String>, role: Role) -> Self {
        Self { tenant_id: tenant.into(), role, token: None, quota: Quota::default() }
    }
}
