//! The Model Context Protocol: JSON-RPC decoding, typed method dispatch, sessions.
//! It knows tools only through the registry, and nothing of invoices.

pub mod era;
pub mod error;
#[cfg(feature = "conformance")]
pub mod fixtures;
pub mod instructions;
pub mod jsonrpc;
pub mod methods;
pub mod service;
pub mod session;
pub mod version;

pub use error::{ErrorCode, ErrorData, RetryReason, UNAVAILABLE_RETRY};
pub use service::{McpReply, McpRequest, McpService, NoticeSink, ReplyStatus, Transport};
