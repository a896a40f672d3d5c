//! Opaque keyset cursors: the position of the last row seen, bound to the query's filters so
//! that a cursor from one listing is refused by another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

fn filter_tag(filters: &str) -> String {
    Sha256::digest(filters.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn encode(pos: Position, filters: &str) -> String {
    let raw = format!(
        "v1.{}.{}.{}",
        pos.created_at.timestamp_micros(),
        pos.id.simple(),
        filter_tag(filters)
    );
    URL_SAFE_NO_PAD.encode(raw)
}

pub fn decode(cursor: &str, filters: &str) -> Result<Position, DomainError> {
    let bad = DomainError::InvalidCursor;
    let raw = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad("not a cursor Tally issued"))?;
    let raw = String::from_utf8(raw).map_err(|_| bad("not a cursor Tally issued"))?;
    let mut parts = raw.split('.');
    let (Some("v1"), Some(micros), Some(id), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad("not a cursor Tally issued"));
    };
    if tag != filter_tag(filters) {
        return Err(bad("it belongs to a listing with different filters"));
    }
    let created_at = micros
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or(bad("not a cursor Tally issued"))?;
    let id = Uuid::try_parse(id).map_err(|_| bad("not a cursor Tally issued"))?;
    Ok(Position { created_at, id })
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
        let c = encode(pos, "customer=a");
        assert_eq!(decode(&c, "customer=a").unwrap(), pos);
        assert!(matches!(
            decode(&c, "customer=b"),
            Err(DomainError::InvalidCursor(_))
        ));
        assert!(matches!(
            decode("garbage!", ""),
            Err(DomainError::InvalidCursor(_))
        ));
        assert!(matches!(
            decode(&URL_SAFE_NO_PAD.encode("v1.x.y.z"), ""),
            Err(DomainError::InvalidCursor(_))
        ));
    }
}
