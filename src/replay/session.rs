//! Reading recordings (format `tally.session`, version 1).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::recording::{Direction, FORMAT, FORMAT_VERSION, Header, Line};

/// One request and what the server answered.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub t_ms: u64,
    pub request: Value,
    pub status: Option<u16>,
    pub response: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct Recording {
    pub name: String,
    pub header: Header,
    pub exchanges: Vec<Exchange>,
}

pub fn load(path: &Path) -> Result<Recording, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&path.display().to_string(), &text)
}

/// Reads a recording from its text; `name` (the file's path, for `load`) names it in errors and
/// in [`Recording::name`].
pub fn parse(name: &str, text: &str) -> Result<Recording, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let bad = |n: usize, e: &dyn std::fmt::Display| format!("{name}:{}: {e}", n + 1);
    let (n, first) = lines.next().ok_or_else(|| format!("{name}: empty recording"))?;
    let header = match serde_json::from_str::<Line>(first).map_err(|e| bad(n, &e))? {
        Line::Header(h) => h,
        Line::Message { .. } => return Err(bad(n, &"the first line must be the header")),
    };
    if header.format != FORMAT || header.format_version > FORMAT_VERSION {
        return Err(bad(n, &format!("unsupported recording format {} v{}", header.format, header.format_version)));
    }
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut by_seq = std::collections::HashMap::new();
    for (n, line) in lines {
        match serde_json::from_str::<Line>(line).map_err(|e| bad(n, &e))? {
            Line::Header(_) => return Err(bad(n, &"a second header")),
            Line::Message { dir: Direction::In, t_ms, seq, message, .. } => {
                let request = message.ok_or_else(|| bad(n, &"a request line without a message"))?;
                if let Some(seq) = seq {
                    by_seq.insert(seq, exchanges.len());
                }
                exchanges.push(Exchange { t_ms, request, status: None, response: None });
            }
            Line::Message { dir: Direction::Out, re, status, message, .. } => {
                // Answers name the message they answer; they may come out of order.
                let index = match re {
                    Some(re) => {
                        *by_seq.get(&re).ok_or_else(|| bad(n, &format!("an answer to unknown message {re}")))?
                    }
                    None => exchanges.len().checked_sub(1).ok_or_else(|| bad(n, &"an answer before any request"))?,
                };
                exchanges[index].status = status;
                exchanges[index].response = message;
            }
        }
    }
    Ok(Recording { name: name.to_owned(), header, exchanges })
}

/// Every `*.jsonl` under the given files and directories, sorted, each loaded.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Recording>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files.iter().map(|f| load(f)).collect()
}
