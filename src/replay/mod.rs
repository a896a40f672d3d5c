//! Replaying recorded sessions: run the client side of each recording against a server and
//! compare every answer with the recorded one.
//!
//! Values the server invents (ids, session ids, cursors) are bound on first sight, recorded ↔
//! new, and substituted into later requests; times, and dates the client never sent, compare by
//! format; everything else compares exactly. A mismatch names the file, the step and the JSON
//! path.

mod client;
mod compare;
mod runner;
mod session;

use std::path::Path;
use std::time::{Duration, Instant};

pub use client::{Answer, HttpClient, ReplayClient, StdioClient};
pub use compare::{Bindings, Mismatch};
pub use runner::{Target, replay_all, replay_one};
pub use session::{Exchange, Recording, load, load_all};

/// The longest pause replay keeps between two recorded messages: pacing reproduces throttling
/// without replaying an agent's idle minutes.
const MAX_GAP: Duration = Duration::from_secs(2);

/// What went wrong in one session, as a person reads it.
#[derive(Debug)]
pub struct Failure {
    pub file: String,
    pub step: usize,
    pub what: String,
    pub mismatches: Vec<Mismatch>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}: step {} ({}) differs:", self.file, self.step, self.what)?;
        for m in &self.mismatches {
            writeln!(f, "  at {}", if m.path.is_empty() { "(root)" } else { &m.path })?;
            writeln!(f, "    expected: {}", m.expected)?;
            writeln!(f, "    actual:   {}", m.actual)?;
        }
        Ok(())
    }
}

/// Replays one recording with `client`, stopping at the first step that differs.
pub async fn replay(recording: &Recording, client: &mut dyn ReplayClient) -> Result<usize, Failure> {
    let mut bindings = Bindings::default();
    let started = Instant::now();
    let (mut last_t, mut skipped) = (0u64, 0u64);
    for (i, exchange) in recording.exchanges.iter().enumerate() {
        let step = i + 1;
        // Each message goes out when it went out in the recording, on the recording's own
        // timeline (so response times do not add up into drift), never earlier; idle gaps
        // longer than MAX_GAP are cut short.
        let gap = exchange.t_ms.saturating_sub(last_t);
        skipped += gap.saturating_sub(MAX_GAP.as_millis() as u64);
        last_t = exchange.t_ms;
        let due = started + Duration::from_millis(exchange.t_ms - skipped);
        tokio::time::sleep_until(due.into()).await;
        let request = bindings.substitute(&exchange.request);
        bindings.note_sent(&request);
        let what = describe(&exchange.request);
        let fail = |mismatches| Failure { file: recording.name.clone(), step, what: what.clone(), mismatches };
        let answer = client.send(&request).await.map_err(|e| fail(vec![Mismatch::transport(e)]))?;
        let mut mismatches = Vec::new();
        if let (Some(expected), Some(actual)) = (exchange.status, answer.status)
            && expected != actual
        {
            mismatches.push(Mismatch {
                path: "(HTTP status)".into(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
        match (&exchange.response, &answer.message) {
            (None, None) => {}
            (Some(expected), Some(actual)) => bindings.compare(expected, actual, "", &mut mismatches),
            (expected, actual) => mismatches.push(Mismatch {
                path: String::new(),
                expected: expected.as_ref().map_or("no reply".into(), |v| v.to_string()),
                actual: actual.as_ref().map_or("no reply".into(), |v| v.to_string()),
            }),
        }
        if !mismatches.is_empty() {
            return Err(fail(mismatches));
        }
    }
    Ok(recording.exchanges.len())
}

/// `tools/call create_invoice (id 3)`, `initialize (id 0)`, `notifications/initialized`.
fn describe(request: &serde_json::Value) -> String {
    let method = request["method"].as_str().unwrap_or("?");
    let mut what = method.to_owned();
    if method == "tools/call"
        && let Some(tool) = request["params"]["name"].as_str()
    {
        what = format!("{what} {tool}");
    }
    if let Some(id) = request.get("id") {
        what = format!("{what}, request id {id}");
    }
    what
}

/// The file name a report shows for a path.
pub fn display_name(path: &Path) -> String {
    path.display().to_string()
}
