//! Public ids: a type prefix and 32 hex digits (`inv_0192…`), over time-ordered UUIDv7s.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

macro_rules! public_id {
    ($name:ident, $prefix:literal, $what:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub Uuid);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            /// The published pattern of the id.
            pub const PATTERN: &'static str = concat!("^", $prefix, "[0-9a-f]{32}$");

            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", Self::PREFIX, self.0.simple())
            }
        }

        impl FromStr for $name {
            type Err = ();

            fn from_str(s: &str) -> Result<Self, ()> {
                let hex = s.strip_prefix(Self::PREFIX).ok_or(())?;
                if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                    return Err(());
                }
                Uuid::try_parse(hex).map(Self).map_err(|_| ())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(|()| {
                    serde::de::Error::custom(format!(
                        concat!("{:?} is not ", $what, " ({}+ 32 hex digits)"),
                        s, $prefix
                    ))
                })
            }
        }
    };
}

public_id!(InvoiceId, "inv_", "an invoice id");
public_id!(PaymentId, "pay_", "a payment id");
public_id!(TaxRateId, "txr_", "a tax rate id");
public_id!(CreditNoteId, "cn_", "a credit note id");
public_id!(RefundId, "ref_", "a refund id");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_lookalikes() {
        let id = InvoiceId::generate();
        let text = id.to_string();
        assert!(regex::Regex::new(InvoiceId::PATTERN).unwrap().is_match(&text));
        assert_eq!(text.parse::<InvoiceId>(), Ok(id));
        assert!("inv_123".parse::<InvoiceId>().is_err());
        assert!(text.to_uppercase().parse::<InvoiceId>().is_err());
        assert!(text.replace("inv_", "pay_").parse::<InvoiceId>().is_err());
        assert!(PaymentId::generate().to_string().starts_with("pay_"));
    }
}
