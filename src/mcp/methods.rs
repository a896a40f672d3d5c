//! Client requests parsed once into typed variants; each is applied by one function in `service`.

use serde::Deserialize;
use serde_json::Value;

use super::error::ErrorData;
use crate::schema::TextRule;

/// The logging levels of RFC 5424 that MCP uses, most verbose first.
pub const LOG_LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/// Who the client says it is, from `initialize`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClientInfo {
    pub name: String,
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    pub protocol_version: String,
    #[serde(default)]
    pub capabilities: Value,
    #[serde(default)]
    pub client_info: Option<ClientInfo>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CallParams {
    pub name: String,
    #[serde(default)]
    pub arguments: Option<Value>,
    /// `progressToken` asks for progress notifications.
    #[serde(default, rename = "_meta")]
    pub meta: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SetLevelParams {
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReadParams {
    pub uri: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The requests Tally answers.
#[derive(Debug, Clone)]
pub enum ClientRequest {
    Initialize(InitializeParams),
    Ping,
    ToolsList(ListParams),
    ToolsCall(CallParams),
    ResourcesList(ListParams),
    ResourcesRead(ReadParams),
    ResourceTemplatesList(ListParams),
    SetLevel(SetLevelParams),
    /// A method only the conformance fixtures answer (`--features conformance`).
    #[cfg(feature = "conformance")]
    Fixture(String, Value),
    /// The modern era's `server/discover`.
    Discover,
}

impl ClientRequest {
    pub fn parse(method: &str, params: Option<Value>) -> Result<Self, ErrorData> {
        let params = params.unwrap_or_else(|| Value::Object(Default::default()));
        Ok(match method {
            "initialize" => Self::Initialize(typed::<InitializeParams>(method, params)?.checked()?),
            "ping" => Self::Ping,
            "tools/list" => Self::ToolsList(typed(method, params)?),
            "tools/call" => Self::ToolsCall(typed(method, params)?),
            "resources/list" => Self::ResourcesList(typed(method, params)?),
            "resources/read" => Self::ResourcesRead(typed(method, params)?),
            "resources/templates/list" => Self::ResourceTemplatesList(typed(method, params)?),
            "logging/setLevel" => {
                let p: SetLevelParams = typed(method, params)?;
                if !LOG_LEVELS.contains(&p.level.as_str()) {
                    return Err(ErrorData::invalid_params(format!(
                        "Invalid params for logging/setLevel: level {:?} is not one of {}",
                        p.level,
                        LOG_LEVELS.join(", ")
                    )));
                }
                Self::SetLevel(p)
            }
            "server/discover" => Self::Discover,
            #[cfg(feature = "conformance")]
            m @ ("prompts/list"
            | "prompts/get"
            | "completion/complete"
            | "resources/subscribe"
            | "resources/unsubscribe") => Self::Fixture(m.to_owned(), params),
            other => return Err(ErrorData::method_not_found(other)),
        })
    }
}

/// The longest client name or version kept with a session.
const CLIENT_INFO_MAX_CHARS: usize = 200;

impl InitializeParams {
    fn checked(mut self) -> Result<Self, ErrorData> {
        if let Some(info) = self.client_info.take() {
            self.client_info = Some(info.checked("params for initialize: clientInfo")?);
        }
        Ok(self)
    }
}

impl ClientInfo {
    /// Client names and versions are stored with the session and shown in logs: single-line
    /// text of bounded length, like every string a tool accepts. `at` names where it was sent.
    pub fn checked(self, at: &str) -> Result<Self, ErrorData> {
        for (field, text) in [("name", &self.name), ("version", &self.version)] {
            let problem = if let Some(v) = TextRule::Line.first_violation(text) {
                format!("{field} contains {} at character {}", v.describe(), v.position)
            } else if text.chars().count() > CLIENT_INFO_MAX_CHARS {
                format!("{field} is longer than {CLIENT_INFO_MAX_CHARS} characters")
            } else {
                continue;
            };
            return Err(ErrorData::invalid_params(format!(
                "Invalid {at}.{problem}; send {} of at most {CLIENT_INFO_MAX_CHARS} characters.",
                TextRule::Line.expected()
            )));
        }
        Ok(self)
    }
}

fn typed<T: for<'de> Deserialize<'de>>(method: &str, params: Value) -> Result<T, ErrorData> {
    serde_json::from_value(params).map_err(|e| ErrorData::invalid_params(format!("Invalid params for {method}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::error::ErrorCode;
    use serde_json::json;

    #[test]
    fn unknown_methods_and_bad_params_have_their_codes() {
        assert_eq!(ClientRequest::parse("prompts/list", None).unwrap_err().code, ErrorCode::METHOD_NOT_FOUND);
        let err = ClientRequest::parse("tools/call", Some(json!({"arguments": {}}))).unwrap_err();
        assert_eq!(err.code, ErrorCode::INVALID_PARAMS);
        assert!(err.message.contains("name"), "{}", err.message);
    }

    #[test]
    fn client_info_is_single_line_text() {
        let init = |name: &str| {
            ClientRequest::parse(
                "initialize",
                Some(json!({"protocolVersion": "2025-11-25", "clientInfo": {"name": name, "version": "1"}})),
            )
        };
        assert!(init("claude-code ✓").is_ok());
        let err = init("a\u{0}b").unwrap_err();
        assert_eq!(err.code, ErrorCode::INVALID_PARAMS);
        assert!(err.message.contains("clientInfo.name contains U+0000 (NUL) at character 2"), "{}", err.message);
        assert_eq!(init(&"x".repeat(201)).unwrap_err().code, ErrorCode::INVALID_PARAMS);
    }
}
