//! The recording format, version 1. Stable: readers refuse versions they do not know.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const FORMAT: &str = "tally.session";
pub const FORMAT_VERSION: u32 = 1;

/// The limits the recording server ran with; replay starts its server with the same ones, so
/// that throttling recorded in a session happens again.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServerLimits {
    pub concurrency_limit: usize,
    pub queue_limit: usize,
    pub rate_limit: u32,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    pub tally_version: String,
    /// `http` or `stdio`.
    pub transport: String,
    /// The revision negotiated at initialize, when the session began with one.
    pub protocol_version: Option<String>,
    pub client_info: Option<Value>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub server: ServerLimits,
}

/// One line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Line {
    Header(Header),
    /// A message the client sent (`dir: "in"`, numbered by `seq` in arrival order) or the
    /// server's answer to message `re` (`dir: "out"`), with the milliseconds since the session
    /// began and, over HTTP, the answer's status. An answer without a message is an HTTP 202 to
    /// a notification. Answers are written when they complete, so with concurrent requests they
    /// can come in another order than the messages they answer.
    Message {
        dir: Direction,
        t_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        re: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<Value>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}
