//! How messages reach Tally: Streamable HTTP and stdio. Both hand every message to the same
//! [`pipeline`](crate::pipeline), which runs it through the limits to the MCP service.

pub mod http;
pub mod stdio;
