//! Resources, each backed by a read tool so that it has one declaration: reading
//! `invoice://{invoice_id}` is `get_invoice` with that id (its validation, its role, its output),
//! and `resources/list` is the first pages of `list_invoices`. The protocol layer sees URIs and
//! JSON text only.

use serde_json::{Value, json};

use super::registry::{CallFailure, Registry};
use super::{Code, Role, ToolContext};

/// A resource template: `{scheme}://{id}` is read by calling `tool` with `{param: id}`.
pub struct Template {
    pub scheme: &'static str,
    pub param: &'static str,
    pub tool: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
}

pub const TEMPLATES: [Template; 2] = [
    Template {
        scheme: "invoice",
        param: "invoice_id",
        tool: "get_invoice",
        name: "invoice",
        title: "Invoice",
        description: "One invoice as get_invoice returns it: number, lines, status, amounts paid and due, payments and \
                      history. invoice_id is inv_ + 32 hex digits.",
    },
    Template {
        scheme: "customer",
        param: "customer_id",
        tool: "get_customer",
        name: "customer",
        title: "Customer",
        description: "One customer as get_customer returns it, with outstanding balances per currency.",
    },
];

/// The MIME type of every resource Tally serves.
pub const JSON: &str = "application/json";

/// How many invoices one `resources/list` page holds.
const LIST_PAGE: u32 = 50;

/// Why a resource has no contents to give.
#[derive(Debug, PartialEq, Eq)]
pub enum ResourceFailure {
    /// No such resource for this caller (another tenant's is not found either).
    NotFound(String),
    /// The cursor was not one `resources/list` gave.
    InvalidCursor(String),
    Call(CallFailure),
}

/// One page of `resources/list`: resource objects and the next cursor.
pub struct ResourcePage {
    pub resources: Vec<Value>,
    pub next_cursor: Option<String>,
}

impl Registry {
    /// What `resources/templates/list` publishes: the templates whose tool `role` may call.
    pub fn resource_templates(&self, role: Role) -> Vec<Value> {
        TEMPLATES
            .iter()
            .filter(|t| self.definition(t.tool).is_some_and(|d| role.covers(d.role)))
            .map(|t| {
                json!({
                    "uriTemplate": format!("{}://{{{}}}", t.scheme, t.param),
                    "name": t.name,
                    "title": t.title,
                    "description": t.description,
                    "mimeType": JSON,
                })
            })
            .collect()
    }

    /// Reads `uri`: the backing tool's structured output as JSON text.
    pub async fn read_resource(&self, uri: &str, ctx: ToolContext) -> Result<String, ResourceFailure> {
        let not_found = || {
            ResourceFailure::NotFound(format!(
                "No resource {uri}: Tally serves {} (see resources/templates/list)",
                TEMPLATES.iter().map(|t| format!("{}://{{{}}}", t.scheme, t.param)).collect::<Vec<_>>().join(" and ")
            ))
        };
        let (scheme, id) = uri.split_once("://").ok_or_else(not_found)?;
        let template = TEMPLATES.iter().find(|t| t.scheme == scheme).ok_or_else(not_found)?;
        if id.is_empty() {
            return Err(not_found());
        }
        let result =
            self.call(template.tool, json!({ template.param: id }), ctx).await.map_err(ResourceFailure::Call)?;
        match result.error {
            None => Ok(result.structured().to_owned()),
            // A malformed id names no resource, the same as an unknown one.
            Some(Code::NotFound | Code::InvalidParams) => {
                Err(ResourceFailure::NotFound(format!("No {} {id} in this caller's books", template.name)))
            }
            Some(code) => {
                tracing::warn!(uri, code = code.as_str(), "a resource read was refused by its tool");
                Err(ResourceFailure::NotFound(format!("{uri} cannot be read: {}", code.as_str())))
            }
        }
    }

    /// `resources/list`: the caller's invoices, newest first, a page at a time.
    pub async fn list_resources(
        &self,
        cursor: Option<&str>,
        ctx: ToolContext,
    ) -> Result<ResourcePage, ResourceFailure> {
        let mut args = json!({ "limit": LIST_PAGE });
        if let Some(cursor) = cursor {
            args["cursor"] = json!(cursor);
        }
        let result = self.call("list_invoices", args, ctx).await.map_err(ResourceFailure::Call)?;
        if result.error.is_some() {
            return Err(ResourceFailure::InvalidCursor(
                "Invalid cursor for resources/list: pass back the nextCursor of the previous page".into(),
            ));
        }
        let page: Value = serde_json::from_str(result.structured()).expect("list_invoices output is JSON");
        let resources = page["invoices"]
            .as_array()
            .map(|invoices| invoices.iter().map(invoice_resource).collect())
            .unwrap_or_default();
        Ok(ResourcePage { resources, next_cursor: page["next_cursor"].as_str().map(str::to_owned) })
    }
}

fn invoice_resource(summary: &Value) -> Value {
    let id = summary["invoice_id"].as_str().unwrap_or_default();
    let label = summary["number"].as_str().unwrap_or("draft");
    json!({
        "uri": format!("invoice://{id}"),
        "name": id,
        "title": format!(
            "{label} · {} · {} · {} due",
            summary["customer_id"].as_str().unwrap_or_default(),
            summary["status"].as_str().unwrap_or_default(),
            summary["amount_due_formatted"].as_str().unwrap_or_default(),
        ),
        "mimeType": JSON,
    })
}
