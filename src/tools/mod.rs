//! MCP tools: each is a schema declaration, typed params and a short handler over a domain
//! service. The registry validates arguments before any handler runs.

pub mod catalogue;
mod context;
pub mod credit_notes;
pub mod customers;
pub mod declare;
pub mod documents;
mod error;
pub mod invoices;
pub mod outputs;
pub mod payments;
pub mod receivables;
mod registry;
mod reply;
pub mod resources;
mod shapes;
pub mod taxes;
pub mod uri;
mod validation;

use std::future::Future;

use serde::de::DeserializeOwned;
use validator::Validate;

use crate::schema::ToolSchema;
use declare::Declared;

pub use crate::domain::access::Role;
pub use context::{Notice, Notifier, ToolContext};
pub use error::{Code, ToolError, ToolFailure};
pub use registry::{CallFailure, Registry, RunFailure, ToolResult};
pub use reply::{Attached, Attachment, Output, Reply};

/// Behaviour hints published with the tool. Tally's tools touch only its own database, so
/// `openWorldHint` is always false.
#[derive(Debug, Clone, Copy)]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

impl Annotations {
    /// Reads nothing but Tally's own data and changes nothing.
    pub const READ_ONLY: Self = Self { read_only: true, destructive: false, idempotent: true };
    /// Adds or changes data without destroying any; with an idempotency key a repeat changes
    /// nothing more.
    pub const ADDITIVE: Self = Self { read_only: false, destructive: false, idempotent: true };
    /// Ends something for good (voiding); repeating it changes nothing more.
    pub const DESTRUCTIVE: Self = Self { read_only: false, destructive: true, idempotent: true };
}

/// What a tool says about itself; its params declare its input (see [`declare`]).
pub struct About {
    pub name: &'static str,
    pub title: &'static str,
    /// Steers the agent: when to use the tool and what ids look like.
    pub description: &'static str,
    pub annotations: Annotations,
    /// The least role that may call it; `tools/list` shows a caller only what its role covers.
    /// Viewers read; clerks also draft, send and take payments; admins also void and change
    /// customers.
    pub role: Role,
}

/// Everything `tools/list` publishes about a tool: its [`About`], its params' schema and its
/// output's.
pub struct ToolDefinition {
    pub name: &'static str,
    pub title: &'static str,
    /// Steers the agent: when to use the tool and what ids look like.
    pub description: &'static str,
    pub input: ToolSchema,
    pub output: ToolSchema,
    pub annotations: Annotations,
    pub role: Role,
}

/// One tool. Handlers receive typed, validated params and never see raw JSON.
pub trait Tool: Send + Sync + 'static {
    /// Declared with [`params!`](crate::params): the schema and the struct in one. Deserialized
    /// from the arguments after the schema accepted them; `validator` then checks the
    /// cross-field and domain rules.
    type Params: Declared + DeserializeOwned + Validate + Send + 'static;
    /// Declared with [`output!`](crate::output) (or a keyed write's [`Reply`]).
    type Output: Output;

    fn about() -> About;

    /// The published definition: [`about`](Self::about) with the params' and output's schemas.
    fn definition() -> ToolDefinition {
        let About { name, title, description, annotations, role } = Self::about();
        let (input, output) = (Self::Params::schema(), Self::Output::schema());
        ToolDefinition { name, title, description, input, output, annotations, role }
    }

    fn call(
        &self,
        ctx: ToolContext,
        params: Self::Params,
    ) -> impl Future<Output = Result<Self::Output, ToolFailure>> + Send;
}
