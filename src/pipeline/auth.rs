//! The principal stage: who is calling, resolved before any limit or tool, for every message.
//!
//! A presented token is always checked, on every call (so a revocation or an expiry takes effect
//! on the next call on every replica); a missing one is accepted only where the operator allowed
//! anonymous callers (`--anonymous-role`, loopback only) or on stdio without `TALLY_TOKEN`.

use crate::domain::access::AccessService;
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
}

/// The challenge of a 401 (RFC 6750), with `invalid_token` when a token was presented.
fn challenge(presented: bool) -> String {
    if presented {
        r#"Bearer realm="tally", error="invalid_token", error_description="The access token is unknown, revoked or expired""#.to_owned()
    } else {
        r#"Bearer realm="tally""#.to_owned()
    }
}

impl Authenticator {
    pub fn new(access: AccessService, anonymous: Option<Principal>) -> Self {
        Self { access, anonymous }
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
                Err(Refusal { status: ReplyStatus::Unavailable, error: ErrorData::unavailable(), challenge: None })
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
