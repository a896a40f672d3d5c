//! The conformance suites' fixtures (`--features conformance`, never in production builds): the
//! tools, resources and prompts the suites call by name, so that the protocol machinery itself —
//! content kinds, progress, log messages, errors, resources, prompts — is exercised, not only
//! Tally's own tools. The texts are the suites' reference server's.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{Value, json};

use super::error::{ErrorCode, ErrorData};
use crate::tools::{Notice, ToolContext};

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

fn tool(name: &str, description: &str, input: Value) -> Value {
    json!({ "name": name, "description": description, "inputSchema": input,
            "annotations": { "readOnlyHint": true, "openWorldHint": false } })
}

fn no_args() -> Value {
    json!({ "type": "object", "properties": {}, "additionalProperties": false })
}

/// The fixture tools, published after Tally's own.
pub static TOOLS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    vec![
        tool("test_simple_text", "Returns a simple text response (conformance fixture).", no_args()),
        tool("test_image_content", "Returns a PNG image (conformance fixture).", no_args()),
        tool("test_audio_content", "Returns a WAV clip (conformance fixture).", no_args()),
        tool("test_embedded_resource", "Returns an embedded resource (conformance fixture).", no_args()),
        tool("test_multiple_content_types", "Returns text, an image and a resource (conformance fixture).", no_args()),
        tool("test_error_handling", "Always fails, as a tool result (conformance fixture).", no_args()),
        tool("test_tool_with_progress", "Reports progress 0, 50, 100 of 100 (conformance fixture).", no_args()),
        tool("test_tool_with_logging", "Sends three info log messages (conformance fixture).", no_args()),
        tool("test_logging_tool", "Sends an info log message when asked for logs (conformance fixture).", no_args()),
        tool(
            "test_missing_capability",
            "Needs the client's sampling capability; refuses with -32021 without it (conformance fixture).",
            no_args(),
        ),
        tool(
            "test_streaming_elicitation",
            "Answers without asking the client anything (conformance fixture).",
            no_args(),
        ),
    ]
});

/// What a fixture tool call came to: a result object, or a JSON-RPC error.
pub enum Called {
    Result(Value),
    Error(ErrorData),
}

fn text(t: &str) -> Value {
    json!({ "type": "text", "text": t })
}

/// Runs fixture tool `name`, or `None` when it is not one. `capabilities` are a modern
/// request's client capabilities (`None` in the legacy era).
pub async fn call(name: &str, ctx: &ToolContext, capabilities: Option<&Value>) -> Option<Called> {
    let content = |items: Vec<Value>| Called::Result(json!({ "content": items, "isError": false }));
    Some(match name {
        "test_simple_text" => content(vec![text("This is a simple text response for testing.")]),
        "test_image_content" => content(vec![json!({ "type": "image", "data": PNG, "mimeType": "image/png" })]),
        "test_audio_content" => content(vec![json!({ "type": "audio", "data": WAV, "mimeType": "audio/wav" })]),
        "test_embedded_resource" => content(vec![json!({ "type": "resource", "resource": {
            "uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content." } })]),
        "test_multiple_content_types" => content(vec![
            text("Multiple content types test:"),
            json!({ "type": "image", "data": PNG, "mimeType": "image/png" }),
            json!({ "type": "resource", "resource": { "uri": "test://mixed-content-resource",
                    "mimeType": "application/json", "text": "{\"test\":\"data\",\"value\":123}" } }),
        ]),
        "test_error_handling" => Called::Result(json!({
            "content": [text("This tool intentionally returns an error for testing")], "isError": true })),
        "test_tool_with_progress" => {
            for (i, progress) in [0, 50, 100].into_iter().enumerate() {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ctx.notify.send(Notice::Progress { progress, total: Some(100), message: None });
            }
            content(vec![text("Progress test completed")])
        }
        "test_tool_with_logging" => {
            for (i, message) in
                ["Tool execution started", "Tool processing data", "Tool execution completed"].into_iter().enumerate()
            {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ctx.notify.send(Notice::Log { level: "info", data: json!(message) });
            }
            content(vec![text("Tool with logging executed successfully")])
        }
        "test_logging_tool" => {
            ctx.notify.send(Notice::Log { level: "info", data: json!("test_logging_tool ran") });
            content(vec![text("Logging tool executed")])
        }
        "test_missing_capability" => match capabilities {
            Some(c) if c.get("sampling").is_none() => Called::Error(
                ErrorData::new(
                    ErrorCode::MISSING_CLIENT_CAPABILITY,
                    "test_missing_capability needs the client's sampling capability; declare it in \
                     _meta[\"io.modelcontextprotocol/clientCapabilities\"]",
                )
                .with_data(json!({ "requiredCapabilities": { "sampling": {} } })),
            ),
            _ => content(vec![text("The client declared sampling")]),
        },
        "test_streaming_elicitation" => content(vec![text("Answered without asking the client")]),
        _ => return None,
    })
}

/// The fixture resources `resources/list` shows before Tally's own.
pub fn resources() -> Vec<Value> {
    vec![
        json!({ "uri": "test://static-text", "name": "static-text", "description": "A static text resource", "mimeType": "text/plain" }),
        json!({ "uri": "test://static-binary", "name": "static-binary", "description": "A static PNG", "mimeType": "image/png" }),
        json!({ "uri": "test://watched-resource", "name": "watched-resource", "description": "A resource to subscribe to", "mimeType": "text/plain" }),
    ]
}

pub fn templates() -> Vec<Value> {
    vec![json!({ "uriTemplate": "test://template/{id}/data", "name": "template", "description": "Data for an id",
                 "mimeType": "application/json" })]
}

/// Reads a `test://` resource; `None` when there is none at `uri`.
pub fn read(uri: &str) -> Option<Value> {
    let content = match uri {
        "test://static-text" => {
            json!({ "uri": uri, "mimeType": "text/plain", "text": "This is the content of the static text resource." })
        }
        "test://static-binary" => json!({ "uri": uri, "mimeType": "image/png", "blob": PNG }),
        "test://watched-resource" => {
            json!({ "uri": uri, "mimeType": "text/plain", "text": "Watched resource content" })
        }
        _ => {
            let id = uri.strip_prefix("test://template/")?.strip_suffix("/data")?;
            let data = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
            json!({ "uri": uri, "mimeType": "application/json", "text": data.to_string() })
        }
    };
    Some(json!({ "contents": [content] }))
}

/// `prompts/list`, `prompts/get`, `completion/complete`, `resources/subscribe|unsubscribe`.
pub fn method(method: &str, params: &Value) -> Result<Value, ErrorData> {
    match method {
        "prompts/list" => Ok(json!({ "prompts": [
            { "name": "test_simple_prompt", "description": "A simple prompt without arguments" },
            { "name": "test_prompt_with_arguments", "description": "A prompt with two arguments", "arguments": [
                { "name": "arg1", "description": "First test argument", "required": true },
                { "name": "arg2", "description": "Second test argument", "required": true } ] },
            { "name": "test_prompt_with_embedded_resource", "description": "A prompt embedding a resource",
              "arguments": [{ "name": "resourceUri", "description": "The resource to embed", "required": true }] },
            { "name": "test_prompt_with_image", "description": "A prompt with an image" },
        ] })),
        "prompts/get" => {
            let arg = |name: &str| params["arguments"][name].as_str().unwrap_or_default().to_owned();
            let user = |content: Value| json!({ "role": "user", "content": content });
            let messages = match params["name"].as_str().unwrap_or_default() {
                "test_simple_prompt" => vec![user(text("This is a simple prompt for testing."))],
                "test_prompt_with_arguments" => {
                    vec![user(text(&format!("Prompt with arguments: arg1='{}', arg2='{}'", arg("arg1"), arg("arg2"))))]
                }
                "test_prompt_with_embedded_resource" => vec![
                    user(
                        json!({ "type": "resource", "resource": { "uri": arg("resourceUri"), "mimeType": "text/plain",
                                 "text": "Embedded resource content for testing." } }),
                    ),
                    user(text("Please process the embedded resource above.")),
                ],
                "test_prompt_with_image" => vec![
                    user(json!({ "type": "image", "data": PNG, "mimeType": "image/png" })),
                    user(text("Please analyze the image above.")),
                ],
                other => return Err(ErrorData::invalid_params(format!("Unknown prompt: {other}"))),
            };
            Ok(json!({ "messages": messages }))
        }
        "completion/complete" => Ok(json!({ "completion": { "values": [], "total": 0, "hasMore": false } })),
        // Nothing here changes, so there is never an update to send.
        "resources/subscribe" | "resources/unsubscribe" => Ok(json!({})),
        other => Err(ErrorData::method_not_found(other)),
    }
}

/// What the fixtures add to the capabilities.
pub fn capabilities(caps: &mut Value) {
    caps["prompts"] = json!({ "listChanged": false });
    caps["completions"] = json!({});
}
