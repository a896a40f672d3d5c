//! Opaque keyset cursors: the sort key of the last row seen, bound to the query's filters so
//! that a cursor from one listing is refused by another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::DomainError;

const NOT_OURS: DomainError = DomainError::InvalidCursor("not a cursor Tally issued");

fn filter_tag(filters: &str) -> String {
    Sha256::digest(filters.as_bytes())[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Encodes the parts of a sort key (each base64'd, so any text is safe) with the filters' tag.
pub fn encode(parts: &[&str], filters: &str) -> String {
    let mut raw = String::from("v1");
    for part in parts {
        raw.push('.');
        raw.push_str(&URL_SAFE_NO_PAD.encode(part));
    }
    raw.push('.');
    raw.push_str(&filter_tag(filters));
    URL_SAFE_NO_PAD.encode(raw)
}

/// Decodes a cursor of exactly `n` parts issued for the same filters.
pub fn decode(cursor: &str, filters: &str, n: usize) -> Result<Vec<String>, DomainError> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| NOT_OURS)?;
    let raw = String::from_utf8(raw).map_err(|_| NOT_OURS)?;
    let fields: Vec<&str> = raw.split('.').collect();
    if fields.len() != n + 2 || fields[0] != "v1" {
        return Err(NOT_OURS);
    }
    if fields[n + 1] != filter_tag(filters) {
        return Err(DomainError::InvalidCursor("it belongs to a listing with different filters"));
    }
    fields[1..=n]
        .iter()
        .map(|p| URL_SAFE_NO_PAD.decode(p).ok().and_then(|b| String::from_utf8(b).ok()).ok_or(NOT_OURS))
        .collect()
}

/// An invoice listing's position: creation time, then id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Position {
    pub fn encode(self, filters: &str) -> String {
        encode(&[&self.created_at.timestamp_micros().to_string(), &self.id.simple().to_string()], filters)
    }

    pub fn decode(cursor: &str, filters: &str) -> Result<Self, DomainError> {
        let parts = decode(cursor, filters, 2)?;
        let created_at = parts[0].parse().ok().and_then(DateTime::from_timestamp_micros).ok_or(NOT_OURS)?;
        let id = Uuid::try_parse(&parts[1]).map_err(|_| NOT_OURS)?;
        Ok(Self { created_at, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_filters() {
        let pos = Position {
            created_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        let c = pos.encode("customer=a");
        assert_eq!(Position::decode(&c, "customer=a").unwrap(), pos);
        assert!(matches!(Position::decode(&c, "customer=b"), Err(DomainError::InvalidCursor(_))));
        assert!(matches!(Position::decode("garbage!", ""), Err(DomainError::InvalidCursor(_))));
        assert!(matches!(
            Position::decode(&URL_SAFE_NO_PAD.encode("v1.x.y.z"), ""),
            Err(DomainError::InvalidCursor(_))
        ));
        let names = encode(&["o'brien. & co", "cust.1"], "q");
        assert_eq!(decode(&names, "q", 2).unwrap(), ["o'brien. & co", "cust.1"]);
    }
}
