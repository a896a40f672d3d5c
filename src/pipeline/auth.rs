//! The principal stage: who is calling, resolved before any limit or tool, for every message.
//!
//! A presented token is always checked, on every call: from memory while this replica hears
//! Postgres's `tally_access` notifications, which drop a revoked or changed token at once on every
//! replica (see `crate::db::cache`), else in Postgres. A missing one is accepted only where the
//! operator allowed anonymous callers (`--anonymous-role`, loopback only) or on stdio without
//! `TALLY_TOKEN`.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::oauth::{OAuth, Rejected};
use crate::domain::access::{AccessService, TOKEN_PREFIX};
use crate::domain::{Principal, Quota, TokenRef};
use crate::mcp::{ErrorCode, ErrorData, ReplyStatus};

/// What a caller presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    Nothing,
    Bearer(&'a str),
    /// An `Authorization` header of another scheme, or not text.
    Malformed,
}

impl<'a> Presented<'a> {
    /// An HTTP `Authorization` header's value.
    pub fn from_header(value: Option<&'a str>) -> Self {
        let Some(value) = value else { return Self::Nothing };
        match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
                Self::Bearer(token.trim())
            }
            _ => Self::Malformed,
        }
    }
}

/// Why a caller was turned away before its call ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: ReplyStatus,
    pub error: ErrorData,
    /// The `WWW-Authenticate` challenge an HTTP answer carries.
    pub challenge: Option<String>,
}

#[derive(Clone)]
pub struct Authenticator {
    access: AccessService,
    /// Who a caller that presents nothing is, if anyone.
    anonymous: Option<Principal>,
    /// JWT access tokens from an OAuth issuer, when configured.
    oauth: Option<Arc<OAuth>>,
}

/// The challenge of a 401 (RFC 6750), with `invalid_token` when a token was presented.
fn challenge(presented: bool) -> String {
    if presented {
        r#"Bearer realm="tally", error="invalid_token", error_description="The access token is unknown, revoked or expired""#.to_owned()
    } else {
        r#"Bearer realm="tally""#.to_owned()
    }
}

fn invalid(message: String) -> Refusal {
    Refusal {
        status: ReplyStatus::Unauthorized,
        error: ErrorData::new(ErrorCode::UNAUTHORIZED, message),
        challenge: Some(challenge(true)),
    }
}

fn unavailable() -> Refusal {
    Refusal { status: ReplyStatus::Unavailable, error: ErrorData::unavailable(), challenge: None }
}

impl Authenticator {
    pub fn new(access: AccessService, anonymous: Option<Principal>) -> Self {
        Self { access, anonymous, oauth: None }
    }

    /// Also accepts JWT access tokens from `oauth`'s issuer.
    pub fn with_oauth(mut self, oauth: Option<Arc<OAuth>>) -> Self {
        self.oauth = oauth;
        self
    }

    pub fn oauth(&self) -> Option<&OAuth> {
        self.oauth.as_deref()
    }

    /// A JWT's principal: verified, then its tenant looked up (it must exist).
    async fn resolve_jwt(&self, oauth: &OAuth, token: &str) -> Result<Principal, Refusal> {
        let verified = match oauth.verify(token).await {
            Ok(verified) => verified,
            Err(Rejected::Invalid(why)) => {
                return Err(invalid(format!("The access token was refused: {why}")));
            }
            Err(Rejected::KeysUnavailable) => return Err(unavailable()),
        };
        let tenant = match self.access.tenant_quota(&verified.tenant_id).await {
            Ok(Some(tenant)) => tenant,
            Ok(None) => {
                return Err(invalid(format!(
                    "The access token was refused: it names tenant {:?}, which this deployment does not have",
                    verified.tenant_id
                )));
            }
            Err(e) => {
                tracing::warn!(error = %e, "tenant lookup failed");
                return Err(unavailable());
            }
        };
        // One stable id per (issuer, subject): audit rows and sessions follow the holder across
        // the short-lived tokens its client refreshes.
        let digest = Sha256::digest(format!("{}\n{}", oauth.config().issuer, verified.subject));
        let id = uuid::Builder::from_custom_bytes(digest[..16].try_into().expect("16 bytes")).into_uuid();
        Ok(Principal {
            tenant_id: tenant.tenant_id,
            role: verified.role,
            token: Some(TokenRef { id, name: format!("oauth:{}", verified.subject) }),
            quota: Quota {
                rate_per_second: tenant.rate_limit_per_second.and_then(|n| u32::try_from(n).ok()),
                concurrency: tenant.concurrency_limit.and_then(|n| u32::try_from(n).ok()),
            },
        })
    }

    pub async fn resolve(&self, presented: Presented<'_>) -> Result<Principal, Refusal> {
        let token = match presented {
            Presented::Bearer(token) => token,
            Presented::Nothing => {
                return self.anonymous.clone().ok_or_else(|| Refusal {
                    status: ReplyStatus::Unauthorized,
                    error: ErrorData::new(
                        ErrorCode::UNAUTHORIZED,
                        "Authentication required: send an access token as `Authorization: Bearer tally_…` \
                         (an operator creates one with `tally token create`)",
                    ),
                    challenge: Some(challenge(false)),
                });
            }
            Presented::Malformed => {
                return Err(Refusal {
                    status: ReplyStatus::Unauthorized,
                    error: ErrorData::new(ErrorCode::UNAUTHORIZED, "The Authorization header must be `Bearer <token>`"),
                    challenge: Some(challenge(true)),
                });
            }
        };
        if let Some(oauth) = &self.oauth
            && !token.starts_with(TOKEN_PREFIX)
        {
            return self.resolve_jwt(oauth, token).await;
        }
        match self.access.authenticate(token).await {
            Ok(Some(owner)) => Ok(Principal {
                tenant_id: owner.tenant_id,
                role: owner.role,
                token: Some(TokenRef { id: owner.token_id, name: owner.name }),
                quota: Quota {
                    rate_per_second: owner.rate_limit_per_second.and_then(|n| u32::try_from(n).ok()),
                    concurrency: owner.concurrency_limit.and_then(|n| u32::try_from(n).ok()),
                },
            }),
            Ok(None) => Err(Refusal {
                status: ReplyStatus::Unauthorized,
                error: ErrorData::new(
                    ErrorCode::UNAUTHORIZED,
                    "The access token is unknown, revoked or expired: ask the operator for a valid one",
                ),
                challenge: Some(challenge(true)),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "token lookup failed");
                Err(unavailable())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Presented;

    #[test]
    fn the_authorization_header_is_read_as_bearer_only() {
        assert_eq!(Presented::from_header(None), Presented::Nothing);
        assert_eq!(Presented::from_header(Some("Bearer abc")), Presented::Bearer("abc"));
        assert_eq!(Presented::from_header(Some("bearer  abc ")), Presented::Bearer("abc"));
        assert_eq!(Presented::from_header(Some("Basic dXNlcjpwYXNz")), Presented::Malformed);
        assert_eq!(Presented::from_header(Some("Bearer ")), Presented::Malformed);
        assert_eq!(Presented::from_header(Some("abc")), Presented::Malformed);
    }
}
