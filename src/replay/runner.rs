//! Replaying many recordings against one target, for `tally replay` and the tests.

use std::path::PathBuf;

use super::{Failure, HttpClient, Recording, StdioClient, replay};

/// Where the replayed client sends its messages.
#[derive(Debug, Clone)]
pub enum Target {
    /// A running server's MCP endpoint, with the replayer's own access token (recordings never
    /// hold one).
    Url { url: String, token: Option<String> },
    /// A `tally stdio` child started for each session with the recording's limits (and
    /// `TALLY_TOKEN`, when a token is given).
    Stdio { tally: PathBuf, database_url: String, token: Option<String> },
}

/// Replays one recording; `Ok(steps)` when every answer matched.
pub async fn replay_one(recording: &Recording, target: &Target) -> Result<usize, Failure> {
    let setup = |e: String| Failure {
        file: recording.name.clone(),
        step: 0,
        what: "setup".into(),
        mismatches: vec![super::Mismatch::transport(e)],
    };
    match target {
        Target::Url { url, token } => replay(recording, &mut HttpClient::new(url, token.clone())).await,
        Target::Stdio { tally, database_url, token } => {
            let mut client = StdioClient::spawn(tally, database_url, token.as_deref(), &recording.header.server)
                .map_err(|e| setup(e.to_string()))?;
            let steps = replay(recording, &mut client).await?;
            let status = client.finish().await.map_err(|e| setup(e.to_string()))?;
            if !status.success() {
                return Err(setup(format!("tally stdio exited with {status}")));
            }
            Ok(steps)
        }
    }
}

/// Replays every recording, printing one line per session and a report per failure; returns
/// how many failed.
pub async fn replay_all(recordings: &[Recording], target: &Target) -> usize {
    let mut failed = 0;
    for recording in recordings {
        match replay_one(recording, target).await {
            Ok(steps) => println!("ok    {} ({steps} steps)", recording.name),
            Err(failure) => {
                failed += 1;
                println!("FAIL  {}\n{failure}", recording.name);
            }
        }
    }
    println!("{} passed, {failed} failed", recordings.len() - failed);
    failed
}
