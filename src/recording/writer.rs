//! The writer: a blocking thread (file I/O never runs on the async workers) that owns the open
//! files, writes lines in the order events arrive and flushes whenever it has caught up.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;

use super::format::{Direction, FORMAT, FORMAT_VERSION, Header, Line, ServerLimits};
use super::{Event, Opening, redact};

struct Session {
    file: BufWriter<File>,
    started: Instant,
    /// Stateless sessions end when idle; this is their last event.
    idle_since: Option<Instant>,
}

impl Session {
    fn offset(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.started).as_millis()).unwrap_or(u64::MAX)
    }
}

pub(super) fn run(dir: PathBuf, mut rx: mpsc::Receiver<Event>) {
    let mut sessions: HashMap<String, Session> = HashMap::new();
    while let Some(event) = rx.blocking_recv() {
        let finish = matches!(event, Event::Finish);
        if let Err(e) = handle(&dir, &mut sessions, event) {
            tracing::warn!(error = %e, "recording a session failed");
        }
        if finish {
            break;
        }
        if rx.is_empty() {
            for s in sessions.values_mut() {
                let _ = s.file.flush();
            }
            // Stateless groups have no end of their own: close the idle ones.
            sessions.retain(|_, s| s.idle_since.is_none_or(|t| t.elapsed() < super::STATELESS_IDLE));
        }
    }
    for (_, mut s) in sessions.drain() {
        let _ = s.file.flush();
    }
}

fn handle(dir: &Path, sessions: &mut HashMap<String, Session>, event: Event) -> std::io::Result<()> {
    match event {
        Event::Open { session, at, opening, limits } => {
            if let std::collections::hash_map::Entry::Vacant(slot) = sessions.entry(session) {
                let opened = open(dir, slot.key(), at, &opening, limits)?;
                slot.insert(opened);
            }
        }
        Event::Received { session, seq, at, message } => {
            // A session this process did not see begin (another replica's, say) is not recorded.
            if let Some(s) = sessions.get_mut(&session) {
                if s.idle_since.is_some() {
                    s.idle_since = Some(Instant::now());
                }
                let line = Line::Message {
                    dir: Direction::In,
                    t_ms: s.offset(at),
                    seq: Some(seq),
                    re: None,
                    status: None,
                    message: Some(parse(&message)),
                };
                write_line(&mut s.file, &line)?;
            }
        }
        Event::Answered { session, re, at, status, message } => {
            if let Some(s) = sessions.get_mut(&session) {
                let line = Line::Message {
                    dir: Direction::Out,
                    t_ms: s.offset(at),
                    seq: None,
                    re: Some(re),
                    status,
                    message: message.as_ref().map(parse),
                };
                write_line(&mut s.file, &line)?;
            }
        }
        Event::Close { session } => {
            if let Some(mut s) = sessions.remove(&session) {
                s.file.flush()?;
            }
        }
        Event::Finish => {}
    }
    Ok(())
}

fn open(dir: &Path, session: &str, at: Instant, opening: &Opening, limits: ServerLimits) -> std::io::Result<Session> {
    let now = chrono::Utc::now();
    let client = opening.client_info.as_ref().and_then(|c| c["name"].as_str()).unwrap_or("client");
    let client: String =
        client.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).take(40).collect();
    let tag = super::session_tag(session);
    let path = dir.join(format!("{}-{client}-{}-{tag}.jsonl", opening.transport, now.format("%Y%m%dT%H%M%SZ")));
    let mut file = BufWriter::new(File::options().create(true).append(true).open(path)?);
    let header = Header {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        tally_version: env!("CARGO_PKG_VERSION").to_owned(),
        transport: opening.transport.to_owned(),
        protocol_version: opening.protocol_version.clone(),
        client_info: opening.client_info.clone(),
        started_at: now.to_rfc3339(),
        server: limits,
    };
    write_line(&mut file, &Line::Header(header))?;
    Ok(Session { file, started: at, idle_since: opening.stateless.then(Instant::now) })
}

fn parse(bytes: &Bytes) -> Value {
    let mut value =
        serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()));
    redact(&mut value);
    value
}

fn write_line(file: &mut BufWriter<File>, line: &Line) -> std::io::Result<()> {
    serde_json::to_writer(&mut *file, line)?;
    file.write_all(b"\n")
}
