//! Public ids: a type prefix and 32 hex digits (`inv_0192…`), over time-ordered UUIDv7s.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvoiceId(pub Uuid);

impl InvoiceId {
    pub const PREFIX: &'static str = "inv_";
    /// The published pattern of an invoice id.
    pub const PATTERN: &'static str = "^inv_[0-9a-f]{32}$";

    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }
}

impl fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0.simple())
    }
}

impl FromStr for InvoiceId {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let hex = s.strip_prefix(Self::PREFIX).ok_or(())?;
        if hex.len() != 32 {
            return Err(());
        }
        Uuid::try_parse(hex).map(Self).map_err(|_| ())
    }
}

impl Serialize for InvoiceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InvoiceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|()| {
            serde::de::Error::custom(format!("{s:?} is not an invoice id (inv_ + 32 hex digits)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_lookalikes() {
        let id = InvoiceId::generate();
        let text = id.to_string();
        assert!(
            regex::Regex::new(InvoiceId::PATTERN)
                .unwrap()
                .is_match(&text)
        );
        assert_eq!(text.parse::<InvoiceId>(), Ok(id));
        assert!("inv_123".parse::<InvoiceId>().is_err());
        assert!(text.replace("inv_", "cus_").parse::<InvoiceId>().is_err());
    }
}
