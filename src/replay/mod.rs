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

use std::time::{Duration, Instant};

pub use client::{Answer, HttpClient, ReplayClient, StdioClient};
pub use compare::{Bindings, Mismatch};
pub use runner::{Target, replay_all, replay_one};
pub use session::{Exchange, Recording, load, load_all, parse};

/// The longest pause replay keeps between two recorded messages: pacing reproduces throttling
/// without replaying an agent's idle minutes.
const MAX_GAP: Duration = Duration::from_secs(2);
/// How often replay retries a call that is throttled now but was not in the recording.
const MAX_THROTTLE_RETRIES: u32 = 20;

/// A report stays short enough to read in ten seconds.
const MAX_REPORTED: usize = 5;
const MAX_VALUE_CHARS: usize = 160;

fn clip(value: &str) -> String {
    if value.chars().count() <= MAX_VALUE_CHARS {
        return value.to_owned();
    }
    let head: String = value.chars().take(MAX_VALUE_CHARS).collect();
    format!("{head}… ({} chars)", value.chars().count())
}

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
        for m in self.mismatches.iter().take(MAX_REPORTED) {
            writeln!(f, "  at {}", if m.path.is_empty() { "(root)" } else { &m.path })?;
            writeln!(f, "    expected: {}", clip(&m.expected))?;
            writeln!(f, "    actual:   {}", clip(&m.actual))?;
        }
        if self.mismatches.len() > MAX_REPORTED {
            writeln!(f, "  … and {} more differences", self.mismatches.len() - MAX_REPORTED)?;
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
        let mut answer = client.send(&request).await.map_err(|e| fail(vec![Mismatch::transport(e)]))?;
        // Throttling is timing, not conversation: a call throttled now that was not throttled in
        // the recording is retried as the agent would (after retry_after_ms); a recorded
        // throttle that now succeeds is accepted, and the recorded retry replays the same call.
        let recorded_throttle = throttle(exchange.status, exchange.response.as_ref()).is_some();
        let mut retries = 0;
        while let (false, Some(wait)) = (recorded_throttle, throttle(answer.status, answer.message.as_ref())) {
            retries += 1;
            if retries > MAX_THROTTLE_RETRIES {
                break;
            }
            tokio::time::sleep(wait).await;
            answer = client.send(&request).await.map_err(|e| fail(vec![Mismatch::transport(e)]))?;
        }
        if recorded_throttle && throttle(answer.status, answer.message.as_ref()).is_none() {
            continue;
        }
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

/// The wait a throttled answer asks for (429/503, or a JSON-RPC error whose data says retryable).
fn throttle(status: Option<u16>, message: Option<&serde_json::Value>) -> Option<Duration> {
    let data = &message?.get("error")?["data"];
    let retryable = data["retryable"] == true && matches!(data["reason"].as_str(), Some("rate_limited" | "overloaded"));
    let throttled_status = status.is_none_or(|s| s == 429 || s == 503);
    (retryable && throttled_status)
        .then(|| Duration::from_millis(data["retry_after_ms"].as_u64().unwrap_or(100).max(1)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn throttles_are_recognised_with_their_wait() {
        let limited = json!({"error": {"code": -32010, "data": {"retryable": true, "reason": "rate_limited", "retry_after_ms": 250}}});
        assert_eq!(throttle(Some(429), Some(&limited)), Some(Duration::from_millis(250)));
        assert_eq!(throttle(None, Some(&limited)), Some(Duration::from_millis(250)), "over stdio there is no status");
        let timeout = json!({"error": {"code": -32012, "data": {"retryable": true, "reason": "timeout", "retry_after_ms": 1000}}});
        assert_eq!(
            throttle(Some(503), Some(&timeout)),
            None,
            "a timeout is behaviour to compare, not timing to absorb"
        );
        assert_eq!(throttle(Some(200), Some(&json!({"result": {}}))), None);
    }

    #[test]
    fn long_values_are_clipped_in_reports() {
        let failure = Failure {
            file: "f.jsonl".into(),
            step: 3,
            what: "tools/list, request id 2".into(),
            mismatches: vec![Mismatch {
                path: "result".into(),
                expected: "x".repeat(5000),
                actual: "(missing)".into(),
            }],
        };
        let report = failure.to_string();
        assert!(report.len() < 400, "{report}");
        assert!(report.contains("(5000 chars)"));
    }
}
