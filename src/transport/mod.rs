//! How messages reach Tally: Streamable HTTP and stdio. Both hand every message to the same
//! limit stack around the MCP service.

pub mod calls;
pub mod http;
pub mod stdio;
