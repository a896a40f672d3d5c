//! The client side of a replay: over Streamable HTTP, or over stdio to a `tally stdio` process.

use std::path::Path;
use std::process::Stdio;

use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::mcp::era;
use crate::recording::ServerLimits;

/// What the server answered: over HTTP a status, and the JSON-RPC message if there was one.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: Option<u16>,
    pub message: Option<Value>,
}

pub trait ReplayClient: Send {
    fn send<'a>(&'a mut self, request: &'a Value) -> BoxFuture<'a, Result<Answer, String>>;
}

/// Streamable HTTP: keeps the session the replayed `initialize` starts.
pub struct HttpClient {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
    version: Option<String>,
    /// Presented as `Authorization: Bearer` on every request.
    token: Option<String>,
}

impl HttpClient {
    pub fn new(url: &str, token: Option<String>) -> Self {
        Self { http: reqwest::Client::new(), url: url.to_owned(), session: None, version: None, token }
    }
}

impl ReplayClient for HttpClient {
    fn send<'a>(&'a mut self, request: &'a Value) -> BoxFuture<'a, Result<Answer, String>> {
        Box::pin(async move {
            let initialize = request["method"] == "initialize";
            let mut post = self
                .http
                .post(&self.url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .json(request);
            if let Some(token) = &self.token {
                post = post.bearer_auth(token);
            }
            // A stateless (2026-07-28) request carries its routing headers, made from its body as
            // a conforming client makes them (recordings keep no headers), and no session.
            let method = request["method"].as_str().unwrap_or_default();
            if let Some(version) = request["params"]["_meta"][era::PROTOCOL_VERSION_KEY].as_str() {
                post = post.header("mcp-protocol-version", version).header("mcp-method", method);
                if let Some(name) = era::routed_name(method, request.get("params")) {
                    post = post.header("mcp-name", era::encode_header_value(name));
                }
            } else if !initialize {
                if let Some(session) = &self.session {
                    post = post.header("mcp-session-id", session);
                }
                if let Some(version) = &self.version {
                    post = post.header("mcp-protocol-version", version);
                }
            }
            let res = post.send().await.map_err(|e| format!("POST {}: {e}", self.url))?;
            let status = res.status().as_u16();
            if initialize && let Some(id) = res.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
                self.session = Some(id.to_owned());
            }
            let body = res.bytes().await.map_err(|e| e.to_string())?;
            let message: Option<Value> = if body.is_empty() {
                None
            } else {
                Some(serde_json::from_slice(&body).map_err(|e| format!("a non-JSON answer: {e}"))?)
            };
            if initialize && let Some(v) = message.as_ref().and_then(|m| m["result"]["protocolVersion"].as_str()) {
                self.version = Some(v.to_owned());
            }
            Ok(Answer { status: Some(status), message })
        })
    }
}

/// stdio: a `tally stdio` child with the recording's limits.
pub struct StdioClient {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
}

impl StdioClient {
    pub fn spawn(
        tally: &Path,
        database_url: &str,
        token: Option<&str>,
        limits: &ServerLimits,
    ) -> std::io::Result<Self> {
        let mut command = Command::new(tally);
        if let Some(token) = token {
            command.env("TALLY_TOKEN", token);
        }
        let mut child = command
            .arg("stdio")
            .args(["--concurrency-limit", &limits.concurrency_limit.to_string()])
            .args(["--queue-limit", &limits.queue_limit.to_string()])
            .args(["--rate-limit", &limits.rate_limit.to_string()])
            .args(["--timeout", &format!("{}ms", limits.timeout_ms)])
            .env("DATABASE_URL", database_url)
            .env("TALLY_LOG", std::env::var("TALLY_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take();
        let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        Ok(Self { child, stdin, lines })
    }

    /// Closes stdin and waits for the server to exit.
    pub async fn finish(mut self) -> std::io::Result<std::process::ExitStatus> {
        drop(self.stdin.take());
        self.child.wait().await
    }
}

impl ReplayClient for StdioClient {
    fn send<'a>(&'a mut self, request: &'a Value) -> BoxFuture<'a, Result<Answer, String>> {
        Box::pin(async move {
            let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
            stdin.write_all(format!("{request}\n").as_bytes()).await.map_err(|e| e.to_string())?;
            stdin.flush().await.map_err(|e| e.to_string())?;
            let Some(id) = request.get("id") else { return Ok(Answer { status: None, message: None }) };
            loop {
                let line =
                    self.lines.next_line().await.map_err(|e| e.to_string())?.ok_or("the server closed stdout")?;
                let message: Value =
                    serde_json::from_str(&line).map_err(|e| format!("a non-JSON line {line:?}: {e}"))?;
                if message.get("id") == Some(id)
                    || (message.get("id") == Some(&Value::Null) && message.get("error").is_some())
                {
                    return Ok(Answer { status: None, message: Some(message) });
                }
            }
        })
    }
}
