//! The registry: publishes every tool's definition and runs a call through
//! declared schema → typed params (serde + validator) → handler.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use validator::Validate;

use super::Role;
use super::declare::Declared;
use super::error::Code;
use super::reply::Attachment;
use super::validation::validator_errors;
use super::{Output, Tool, ToolContext, ToolDefinition, ToolError, ToolFailure};

/// Why `tools/call` has no tool result to give.
#[derive(Debug, PartialEq, Eq)]
pub enum CallFailure {
    UnknownTool,
    /// The caller's role does not cover the tool: it needs `needed`.
    Forbidden {
        needed: Role,
    },
    Unavailable,
    Internal,
}

/// Counts a call of `tool` and its time, by outcome.
fn observe(tool: &'static str, outcome: &'static str, started: Instant) {
    metrics::counter!("tally_tool_calls_total", "tool" => tool, "outcome" => outcome).increment(1);
    metrics::histogram!("tally_tool_call_duration_seconds", "tool" => tool).record(started.elapsed().as_secs_f64());
    tracing::debug!(tool, outcome, elapsed_ms = started.elapsed().as_millis() as u64, "tool call");
}

/// Why [`Registry::run`] has no output to give: what `tools/call` would answer as a protocol
/// error, or the `isError` result it would give.
#[derive(Debug)]
pub enum RunFailure {
    Call(CallFailure),
    /// Refused by the tool or its validation: what the caller could fix.
    Rejected(Box<ToolError>),
}

/// A tool with its params and output types erased, so that tools of every kind sit in one list.
trait DynTool: Send + Sync {
    fn definition(&self) -> &ToolDefinition;
    fn disagreements(&self) -> Vec<String>;
    /// The output serialized once, as JSON text, with its document if it has one.
    fn call(
        &self,
        ctx: ToolContext,
        args: Value,
    ) -> BoxFuture<'static, Result<(String, Option<Attachment>), ToolFailure>>;
}

struct Registered<T: Tool> {
    tool: Arc<T>,
    definition: ToolDefinition,
}

impl<T: Tool> DynTool for Registered<T> {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn disagreements(&self) -> Vec<String> {
        let params = <T::Params as Declared>::disagreements().into_iter().map(|d| format!("params: {d}"));
        params.chain(T::Output::disagreements().into_iter().map(|d| format!("output: {d}"))).collect()
    }

    fn call(
        &self,
        mut ctx: ToolContext,
        args: Value,
    ) -> BoxFuture<'static, Result<(String, Option<Attachment>), ToolFailure>> {
        ctx.tool = self.definition.name;
        let params = parse::<T>(&self.definition, &args);
        let tool = Arc::clone(&self.tool);
        Box::pin(async move {
            let output = tool.call(ctx, params?).await?;
            output.into_parts().map_err(|e| {
                tracing::error!(error = %e, "tool output did not serialize");
                ToolFailure::Internal
            })
        })
    }
}

/// Validation happens here, before any handler: the declared schema's verdict with every
/// error, then the typed struct, then the validator's cross-field and domain rules.
fn parse<T: Tool>(definition: &ToolDefinition, args: &Value) -> Result<T::Params, ToolFailure> {
    let normalized = definition.input.validate(args).map_err(ToolError::invalid_params)?;
    let params = serde_json::from_value::<T::Params>(normalized).map_err(|e| {
        // The schema accepted what the struct refuses: the declaration and the type disagree.
        // Say so plainly rather than guess.
        tracing::error!(tool = definition.name, error = %e, "schema and params type disagree");
        ToolError::new(Code::InvalidParams, format!("The arguments could not be read: {e}"))
    })?;
    params.validate().map_err(|e| ToolError::invalid_params(validator_errors(&e)))?;
    Ok(params)
}

/// Every tool Tally serves, in the order `tools/list` publishes them.
#[derive(Default)]
pub struct Registry {
    tools: Vec<Box<dyn DynTool>>,
    published: Vec<Value>,
    by_name: HashMap<&'static str, usize>,
    /// Each tool again by its type, for callers inside Tally that know which tool they want
    /// (resources): [`Registry::run`].
    by_type: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    #[must_use]
    pub fn register<T: Tool>(mut self, tool: T) -> Self {
        let definition = T::definition();
        assert!(
            self.by_name.insert(definition.name, self.tools.len()).is_none(),
            "tool {} registered twice",
            definition.name
        );
        self.published.push(publish(&definition));
        let tool = Arc::new(tool);
        self.by_type.insert(TypeId::of::<T>(), Arc::clone(&tool) as Arc<dyn Any + Send + Sync>);
        self.tools.push(Box::new(Registered { tool, definition }));
        self
    }

    /// The tool objects `tools/list` returns.
    /// What `tools/list` shows a caller with `role`: the tools it may call, in registration order.
    pub fn published_for(&self, role: Role) -> Vec<&Value> {
        self.tools
            .iter()
            .zip(&self.published)
            .filter(|(t, _)| role.covers(t.definition().role))
            .map(|(_, v)| v)
            .collect()
    }

    /// Every tool's definition, in catalogue order.
    pub fn definitions(&self) -> impl Iterator<Item = &ToolDefinition> + '_ {
        self.tools.iter().map(|t| t.definition())
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.tools.iter().map(|t| t.definition().name)
    }

    /// Where a tool's declared params and its Rust types disagree (see [`Declared`]), by tool.
    pub fn type_disagreements(&self) -> Vec<(&'static str, Vec<String>)> {
        self.tools.iter().map(|t| (t.definition().name, t.disagreements())).filter(|(_, d)| !d.is_empty()).collect()
    }

    pub fn definition(&self, name: &str) -> Option<&ToolDefinition> {
        self.by_name.get(name).map(|&i| self.tools[i].definition())
    }

    /// Runs tool `T` itself, from inside Tally: the same role check and the same validation of
    /// `args` as a `tools/call` (its declared schema, then its typed params), and its typed output
    /// back, not JSON to read again.
    pub async fn run<T: Tool>(&self, args: Value, mut ctx: ToolContext) -> Result<T::Output, RunFailure> {
        let tool = self
            .by_type
            .get(&TypeId::of::<T>())
            .and_then(|t| Arc::clone(t).downcast::<T>().ok())
            .ok_or(RunFailure::Call(CallFailure::UnknownTool))?;
        let definition = self.definition(T::about().name).ok_or(RunFailure::Call(CallFailure::UnknownTool))?;
        let name = definition.name;
        if !ctx.principal.role.covers(definition.role) {
            metrics::counter!("tally_tool_calls_total", "tool" => name, "outcome" => "forbidden").increment(1);
            return Err(RunFailure::Call(CallFailure::Forbidden { needed: definition.role }));
        }
        ctx.tool = name;
        let started = Instant::now();
        let result = match parse::<T>(definition, &args) {
            Ok(params) => tool.call(ctx, params).await,
            Err(refused) => Err(refused),
        };
        let label = match &result {
            Ok(_) => "ok",
            Err(ToolFailure::Rejected(err)) => err.code.as_str(),
            Err(ToolFailure::Unavailable) => "unavailable",
            Err(ToolFailure::Internal) => "internal",
        };
        observe(name, label, started);
        result.map_err(|failure| match failure {
            ToolFailure::Rejected(err) => RunFailure::Rejected(err),
            ToolFailure::Unavailable => RunFailure::Call(CallFailure::Unavailable),
            ToolFailure::Internal => RunFailure::Call(CallFailure::Internal),
        })
    }

    /// Runs one call and shapes its `CallToolResult`: the structured output plus the same JSON as
    /// text, or an `isError` result explaining what to fix.
    pub async fn call(&self, name: &str, args: Value, ctx: ToolContext) -> Result<ToolResult, CallFailure> {
        let tool = self.by_name.get(name).map(|&i| &self.tools[i]).ok_or(CallFailure::UnknownTool)?;
        let name = tool.definition().name;
        let needed = tool.definition().role;
        if !ctx.principal.role.covers(needed) {
            metrics::counter!("tally_tool_calls_total", "tool" => name, "outcome" => "forbidden").increment(1);
            return Err(CallFailure::Forbidden { needed });
        }
        let started = Instant::now();
        let outcome = tool.call(ctx, args).await;
        let (label, result) = match outcome {
            Ok((output, attachment)) => ("ok", Ok(ToolResult::new(output, None, attachment))),
            Err(ToolFailure::Rejected(err)) => {
                let code = err.code;
                let structured = serde_json::to_string(&json!({ "error": err })).expect("a ToolError serializes");
                (code.as_str(), Ok(ToolResult::new(structured, Some(code), None)))
            }
            Err(ToolFailure::Unavailable) => ("unavailable", Err(CallFailure::Unavailable)),
            Err(ToolFailure::Internal) => ("internal", Err(CallFailure::Internal)),
        };
        observe(name, label, started);
        result
    }
}

/// A `CallToolResult`, serialized once: the structured output is written as JSON text one time
/// and that text is both the `structuredContent` and (escaped) the text block older clients read.
#[derive(Debug, Clone)]
pub struct ToolResult {
    json: String,
    /// Where the structured output sits in `json`.
    structured: std::ops::Range<usize>,
    /// The error code of an `isError` result.
    pub error: Option<Code>,
    /// The document the result links to: `resources/read` serves its bytes.
    pub attachment: Option<Attachment>,
}

impl ToolResult {
    fn new(structured: String, error: Option<Code>, attachment: Option<Attachment>) -> Self {
        let text = serde_json::to_string(&structured).expect("a string serializes");
        let is_error = error.is_some();
        let mut content = format!(r#"{{"type":"text","text":{text}}}"#);
        if let Some(a) = &attachment {
            let link = json!({
                "type": "resource_link",
                "uri": a.uri,
                "name": a.name,
                "title": a.title,
                "mimeType": a.mime_type,
                "size": a.bytes.len(),
            });
            content.push(',');
            content.push_str(&link.to_string());
            if a.embed {
                use base64::Engine;
                let blob = base64::engine::general_purpose::STANDARD.encode(&a.bytes);
                let embedded = json!({
                    "type": "resource",
                    "resource": { "uri": a.uri, "mimeType": a.mime_type, "blob": blob },
                });
                content.push(',');
                content.push_str(&embedded.to_string());
            }
        }
        let head = format!(r#"{{"content":[{content}],"structuredContent":"#);
        let range = head.len()..head.len() + structured.len();
        let json = format!(r#"{head}{structured},"isError":{is_error}}}"#);
        Self { json, structured: range, error, attachment }
    }

    /// The structured output alone, as JSON text.
    pub fn structured(&self) -> &str {
        &self.json[self.structured.clone()]
    }

    /// The result as JSON text, ready to embed in a JSON-RPC response.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The result as a JSON value (for tests and fuzz checks).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.json).expect("a tool result is JSON")
    }
}

/// Appended to every write tool's description: how to retry without writing twice.
const RETRY_ADVICE: &str = "If the call fails with a retryable error (JSON-RPC error data.retryable: rate limited, \
                            overloaded, timeout, database unavailable), wait data.retry_after_ms and retry with the \
                            same idempotency_key.";

fn publish(d: &ToolDefinition) -> Value {
    let description =
        if d.annotations.read_only { d.description.to_owned() } else { format!("{} {RETRY_ADVICE}", d.description) };
    json!({
        "name": d.name,
        "title": d.title,
        "description": description,
        "inputSchema": d.input.json_schema(),
        "outputSchema": d.output.output_json_schema(),
        "annotations": {
            "title": d.title,
            "readOnlyHint": d.annotations.read_only,
            "destructiveHint": d.annotations.destructive,
            "idempotentHint": d.annotations.idempotent,
            "openWorldHint": false,
        },
    })
}
