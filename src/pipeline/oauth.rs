//! OAuth resource-server mode (optional): JWT access tokens from one configured issuer.
//!
//! A token is accepted when its signature verifies with a key from the issuer's JWKS (an
//! allow-listed asymmetric algorithm: never `none`, never HS*), `iss` is the issuer, `aud`
//! includes Tally's own resource URI (RFC 8707), and `exp`/`nbf` hold (with a minute's leeway).
//! Two configured claims then name the tenant (which must exist) and the role.
//!
//! Keys are cached by `kid`. An unknown `kid` refetches the set (a rotated key works on its first
//! use), at most once a second whatever callers present; the set is also refetched on use when
//! older than ten minutes, so a withdrawn key stops working by then. While the issuer cannot be
//! reached, cached keys keep working and a token with an unknown key is refused as unavailable
//! (retryable), not as invalid.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::domain::access::Role;

/// Asymmetric algorithms only: a third party's tokens are never checked with a shared secret.
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];
/// A key set older than this is refetched when next used.
const KEYS_TTL: Duration = Duration::from_secs(600);
/// Unknown key ids refetch the set at most this often.
const REFETCH_COOLDOWN: Duration = Duration::from_secs(1);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// How Tally is set up as a resource server.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The authorization server's issuer identifier (`iss`).
    pub issuer: String,
    /// Where its key set is; discovered from its metadata (RFC 8414, then OpenID) when none.
    pub jwks_url: Option<String>,
    /// Tally's own canonical URI: the audience every token must name (RFC 8707).
    pub resource: String,
    /// The claim naming the tenant.
    pub tenant_claim: String,
    /// The claim naming the role: a string of space-separated values (OAuth's `scope`) or an
    /// array; the highest of `viewer`, `clerk`, `admin` (optionally `tally:`-prefixed) counts.
    pub role_claim: String,
}

impl OAuthConfig {
    /// Where the RFC 9728 metadata of `resource` is: the well-known path inserted before its path.
    pub fn metadata_url(&self) -> String {
        let (origin, path) = split_origin(&self.resource);
        format!("{origin}/.well-known/oauth-protected-resource{}", path.trim_end_matches('/'))
    }

    /// The path on this server that serves the metadata (beside the bare well-known path).
    pub fn metadata_path(&self) -> String {
        let (_, path) = split_origin(&self.resource);
        format!("/.well-known/oauth-protected-resource{}", path.trim_end_matches('/'))
    }

    /// The RFC 9728 protected resource metadata document.
    pub fn metadata(&self) -> Value {
        serde_json::json!({
            "resource": self.resource,
            "authorization_servers": [self.issuer],
            "bearer_methods_supported": ["header"],
            "scopes_supported": Role::ALL.map(Role::as_str),
            "resource_name": "Tally",
        })
    }

    /// A configuration that cannot work, said before serving.
    pub fn check(&self) -> Result<(), String> {
        for (what, url) in [("--oauth-issuer", Some(&self.issuer)), ("--resource-uri", Some(&self.resource))]
            .into_iter()
            .chain([("--oauth-jwks-url", self.jwks_url.as_ref())])
        {
            let Some(url) = url else { continue };
            let ok = url.parse::<http::Uri>().is_ok_and(|u| {
                matches!(u.scheme_str(), Some("https" | "http")) && u.host().is_some() && !url.contains('#')
            });
            if !ok {
                return Err(format!("{what} must be an absolute http(s) URL without a fragment, not {url:?}"));
            }
        }
        Ok(())
    }
}

fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

/// A verified token's holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub subject: String,
    pub tenant_id: String,
    pub role: Role,
}

/// Why a JWT was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// The token is not acceptable (said to the caller as `invalid_token`).
    Invalid(String),
    /// Its key could not be fetched: the caller should retry.
    KeysUnavailable,
}

struct Keys {
    by_id: HashMap<String, (DecodingKey, Option<String>)>,
    fetched: Option<Instant>,
    tried: Option<Instant>,
    /// The last fetch failed: an unknown key may be one the issuer has and we could not see.
    failing: bool,
    jwks_url: Option<String>,
}

pub struct OAuth {
    config: OAuthConfig,
    http: reqwest::Client,
    keys: Mutex<Keys>,
}

impl OAuth {
    pub fn new(config: OAuthConfig) -> Self {
        let http = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().expect("an HTTP client");
        let keys = Keys {
            by_id: HashMap::new(),
            fetched: None,
            tried: None,
            failing: false,
            jwks_url: config.jwks_url.clone(),
        };
        Self { config, http, keys: Mutex::new(keys) }
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// Checks a presented JWT and says whose it is.
    pub async fn verify(&self, token: &str) -> Result<Verified, Rejected> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| Rejected::Invalid(format!("not a JWT with a supported algorithm ({e})")))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(Rejected::Invalid(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let kid = header.kid.unwrap_or_default();
        let (key, key_alg) = self.key(&kid).await?;
        if key_alg.as_ref().is_some_and(|a| *a != format!("{:?}", header.alg)) {
            return Err(Rejected::Invalid(format!("key {kid:?} is not for {:?}", header.alg)));
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.resource]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation)
            .map_err(|e| Rejected::Invalid(describe(&e)))?
            .claims;
        // The subject names who acted in the audit trail: a token that names no one is refused.
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Rejected::Invalid("the token's `sub` claim names no subject".into()))?
            .to_owned();
        let tenant_id = claims
            .get(&self.config.tenant_claim)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Rejected::Invalid(format!("the token has no `{}` claim naming a tenant", self.config.tenant_claim))
            })?
            .to_owned();
        let role = role_from(claims.get(&self.config.role_claim)).ok_or_else(|| {
            Rejected::Invalid(format!(
                "the token's `{}` claim names no role (viewer, clerk or admin)",
                self.config.role_claim
            ))
        })?;
        Ok(Verified { subject, tenant_id, role })
    }

    /// The key with id `kid`, fetching the set when it is unknown or stale.
    async fn key(&self, kid: &str) -> Result<(DecodingKey, Option<String>), Rejected> {
        let mut keys = self.keys.lock().await;
        let stale = keys.fetched.is_none_or(|at| at.elapsed() > KEYS_TTL);
        let known = keys.by_id.contains_key(kid);
        let may_try = keys.tried.is_none_or(|at| at.elapsed() >= REFETCH_COOLDOWN);
        if (stale || !known) && may_try {
            keys.tried = Some(Instant::now());
            match self.fetch(&mut keys.jwks_url).await {
                Ok(set) => {
                    keys.by_id = usable(&set);
                    keys.fetched = Some(Instant::now());
                    keys.failing = false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, issuer = %self.config.issuer, "cannot fetch the issuer's keys");
                    keys.failing = true;
                }
            }
        }
        // A token without a kid is accepted only when the set has exactly one key.
        let found = match keys.by_id.get(kid) {
            Some(found) => Some(found),
            None if kid.is_empty() && keys.by_id.len() == 1 => keys.by_id.values().next(),
            None => None,
        };
        match found {
            Some(found) => Ok(found.clone()),
            None if keys.fetched.is_none() || keys.failing => Err(Rejected::KeysUnavailable),
            None => Err(Rejected::Invalid(format!("no key {kid:?} in the issuer's key set"))),
        }
    }

    async fn fetch(&self, jwks_url: &mut Option<String>) -> anyhow::Result<JwkSet> {
        let url = match jwks_url {
            Some(url) => url.clone(),
            None => {
                let found = self.discover().await?;
                *jwks_url = Some(found.clone());
                found
            }
        };
        Ok(self.http.get(&url).send().await?.error_for_status()?.json().await?)
    }

    /// The `jwks_uri` from the issuer's metadata: RFC 8414's well-known path, then OpenID's.
    async fn discover(&self) -> anyhow::Result<String> {
        let issuer = self.config.issuer.trim_end_matches('/');
        let (origin, path) = split_origin(issuer);
        let candidates = [
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{issuer}/.well-known/openid-configuration"),
        ];
        let mut last = None;
        for url in candidates {
            match self.http.get(&url).send().await.and_then(|r| r.error_for_status()) {
                Ok(res) => {
                    let meta: Value = res.json().await?;
                    if let Some(uri) = meta.get("jwks_uri").and_then(Value::as_str) {
                        return Ok(uri.to_owned());
                    }
                    last = Some(anyhow::anyhow!("{url} names no jwks_uri"));
                }
                Err(e) => last = Some(e.into()),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no metadata")))
    }
}

/// The set's signing keys, by id (keys of other uses, or that cannot be read, are left out).
fn usable(set: &JwkSet) -> HashMap<String, (DecodingKey, Option<String>)> {
    set.keys
        .iter()
        .filter(|jwk| !matches!(jwk.common.public_key_use, Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)))
        .filter_map(|jwk| {
            let key = DecodingKey::from_jwk(jwk).ok()?;
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            Some((kid, (key, jwk.common.key_algorithm.map(|a| format!("{a:?}")))))
        })
        .collect()
}

/// The highest role a claim names.
fn role_from(claim: Option<&Value>) -> Option<Role> {
    let values: Vec<&str> = match claim? {
        // RFC 6749 §3.3: scope tokens of %x21 / %x23-5B / %x5D-7E, separated by single spaces.
        // Anything else (a no-break space, a tab, a control) is no scope at all, not a separator.
        Value::String(s) => {
            let token_char = |c: char| matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e');
            if !s.chars().all(|c| c == ' ' || token_char(c)) {
                return None;
            }
            s.split(' ').filter(|t| !t.is_empty()).collect()
        }
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    values.into_iter().filter_map(|v| Role::parse(v.strip_prefix("tally:").unwrap_or(v))).max()
}

fn describe(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "the token has expired".into(),
        K::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        K::InvalidAudience => "the token was not issued for this server (aud)".into(),
        K::InvalidIssuer => "the token is from another issuer (iss)".into(),
        K::InvalidSignature => "the token's signature does not verify".into(),
        K::MissingRequiredClaim(c) => format!("the token has no `{c}` claim"),
        K::InvalidAlgorithm => "the token's algorithm does not match its key".into(),
        other => format!("the token cannot be read ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_is_the_highest_one_the_claim_names() {
        assert_eq!(role_from(Some(&Value::from("openid viewer tally:clerk"))), Some(Role::Clerk));
        assert_eq!(role_from(Some(&serde_json::json!(["admin", "viewer"]))), Some(Role::Admin));
        assert_eq!(role_from(Some(&Value::from("openid profile"))), None);
        assert_eq!(role_from(Some(&Value::from(3))), None);
        // Only ASCII spaces separate scopes: a no-break space or a tab grants nothing.
        assert_eq!(role_from(Some(&Value::from("viewer\u{a0}admin"))), None);
        assert_eq!(role_from(Some(&Value::from("viewer\tadmin"))), None);
        assert_eq!(role_from(Some(&Value::from("viewer  admin"))), Some(Role::Admin));
        assert_eq!(role_from(None), None);
    }

    #[test]
    fn the_metadata_sits_at_the_well_known_path_before_the_resource_path() {
        let config = OAuthConfig {
            issuer: "https://auth.example.com".into(),
            jwks_url: None,
            resource: "https://tally.example.com/mcp".into(),
            tenant_claim: "tenant_id".into(),
            role_claim: "scope".into(),
        };
        assert_eq!(config.metadata_url(), "https://tally.example.com/.well-known/oauth-protected-resource/mcp");
        assert_eq!(config.metadata_path(), "/.well-known/oauth-protected-resource/mcp");
        assert!(config.check().is_ok());
        let bad = OAuthConfig { resource: "tally.example.com/mcp".into(), ..config };
        assert!(bad.check().is_err());
    }
}
