//! Signed download links: a URL a person can open without a token, like a hosted invoice link.
//! The link names one tenant's one document and an expiry, under an HMAC-SHA256 of a key every
//! replica shares (`TALLY_DOCUMENT_LINK_KEY`), so any replica can check it and none keeps state.
//! A changed byte, another tenant, another document or a passed expiry is refused. There is no
//! revocation short of the expiry, or of changing the key (which voids every link at once).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// The least key length accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
    /// Where `/documents/…` is served, e.g. `https://tally.example.com`.
    base: String,
    ttl: Duration,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSigner").field("base", &self.base).field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

/// A link that was checked: whose document it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    pub tenant: String,
    pub uri: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link is not one Tally signed")]
    Invalid,
    #[error("the link expired at {0}")]
    Expired(DateTime<Utc>),
}

impl LinkSigner {
    pub fn new(key: &[u8], base: &str, ttl: Duration) -> Result<Self, String> {
        if key.len() < MIN_KEY_BYTES {
            return Err(format!("the document link key must be at least {MIN_KEY_BYTES} bytes, not {}", key.len()));
        }
        let base = base.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(format!("the public URL must start with https:// (or http:// behind a proxy), not {base:?}"));
        }
        Ok(Self { key: key.to_vec(), base: base.to_owned(), ttl })
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    /// The URL for `uri` of `tenant`, and when it stops working.
    pub fn sign(&self, tenant: &str, uri: &str, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        let expires = now + self.ttl;
        let payload = format!("{tenant}\n{uri}\n{}", expires.timestamp());
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let token = format!("{}.{}", B64.encode(&payload), B64.encode(mac.finalize().into_bytes()));
        (format!("{}/documents/{token}", self.base), expires)
    }

    /// Checks the token of a `/documents/{token}` URL.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<LinkTarget, LinkError> {
        let (payload, tag) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let payload = B64.decode(payload).map_err(|_| LinkError::Invalid)?;
        let tag = B64.decode(tag).map_err(|_| LinkError::Invalid)?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&tag).map_err(|_| LinkError::Invalid)?;
        let payload = String::from_utf8(payload).map_err(|_| LinkError::Invalid)?;
        let mut parts = payload.splitn(3, '\n');
        let (Some(tenant), Some(uri), Some(expires)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(LinkError::Invalid);
        };
        let expires = expires.parse().ok().and_then(|s| DateTime::from_timestamp(s, 0)).ok_or(LinkError::Invalid)?;
        if now >= expires {
            return Err(LinkError::Expired(expires));
        }
        Ok(LinkTarget { tenant: tenant.to_owned(), uri: uri.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(key: &[u8]) -> LinkSigner {
        LinkSigner::new(key, "https://tally.example.com/", Duration::from_secs(600)).unwrap()
    }

    #[test]
    fn a_signed_link_names_its_tenant_and_document_until_it_expires() {
        let s = signer(&[7; 32]);
        let now = Utc::now();
        let (url, expires) = s.sign("acme", "invoice://inv_0/pdf", now);
        let token = url.strip_prefix("https://tally.example.com/documents/").expect("under the public URL");
        let target = s.verify(token, now).unwrap();
        assert_eq!(target, LinkTarget { tenant: "acme".into(), uri: "invoice://inv_0/pdf".into() });
        assert_eq!(s.verify(token, expires), Err(LinkError::Expired(expires.with_nanosecond_zero())));
    }

    #[test]
    fn any_change_to_the_link_is_refused() {
        let s = signer(&[7; 32]);
        let now = Utc::now();
        let (url, _) = s.sign("acme", "invoice://inv_0/pdf", now);
        let token = url.rsplit('/').next().unwrap();
        let (payload, tag) = token.split_once('.').unwrap();
        let other = B64.encode(format!("globex\ninvoice://inv_0/pdf\n{}", now.timestamp() + 600));
        assert_eq!(s.verify(&format!("{other}.{tag}"), now), Err(LinkError::Invalid), "another tenant");
        let mut flipped = token.to_owned().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.verify(std::str::from_utf8(&flipped).unwrap(), now), Err(LinkError::Invalid), "a changed tag");
        assert_eq!(s.verify(payload, now), Err(LinkError::Invalid), "no tag");
        assert_eq!(signer(&[8; 32]).verify(token, now), Err(LinkError::Invalid), "another key");
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(LinkSigner::new(&[1; 16], "https://x", Duration::from_secs(1)).is_err());
    }

    trait Whole {
        fn with_nanosecond_zero(self) -> Self;
    }
    impl Whole for DateTime<Utc> {
        fn with_nanosecond_zero(self) -> Self {
            DateTime::from_timestamp(self.timestamp(), 0).unwrap()
        }
    }
}
