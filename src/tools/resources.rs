//! Resources, each backed by a read tool so that it has one declaration: reading
//! `invoice://{invoice_id}` is `get_invoice` with that id (its validation, its role, its output),
//! `invoice://{invoice_id}/pdf` is `render_invoice`'s PDF, and `resources/list` is the first pages
//! of `list_invoices`. Each runs its tool by type ([`Registry::run`]) and reads the tool's typed
//! output. The protocol layer sees URIs, JSON text and blobs only.

use serde_json::{Map, Value, json};

use super::credit_notes::GetCreditNote;
use super::customers::GetCustomer;
use super::documents::{GetStatement, RenderCreditNote, RenderInvoice};
use super::invoices::{GetInvoice, ListInvoices};
use super::outputs::InvoiceSummary;
use super::registry::{CallFailure, Registry, RunFailure};
use super::uri::decode;
use super::{Code, Output, Role, Tool, ToolContext};

/// The read tool behind a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backing {
    Invoice,
    InvoicePdf,
    Customer,
    Statement,
    CreditNote,
    CreditNotePdf,
}

impl Backing {
    /// The backing tool's name, as the catalogue has it.
    fn tool(self) -> &'static str {
        match self {
            Self::Invoice => GetInvoice::about().name,
            Self::InvoicePdf => RenderInvoice::about().name,
            Self::Customer => GetCustomer::about().name,
            Self::Statement => GetStatement::about().name,
            Self::CreditNote => GetCreditNote::about().name,
            Self::CreditNotePdf => RenderCreditNote::about().name,
        }
    }
}

/// A resource template (RFC 6570): `{name}` is one path segment, `{/name}` an optional last one.
/// Reading a URI that matches runs its backing tool with the segments, percent-decoded, as
/// arguments beside `fixed`.
pub struct Template {
    pub uri_template: &'static str,
    pub backing: Backing,
    pub fixed: &'static [(&'static str, &'static str)],
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub mime_type: &'static str,
}

pub const TEMPLATES: [Template; 7] = [
    Template {
        uri_template: "invoice://{invoice_id}",
        backing: Backing::Invoice,
        fixed: &[],
        name: "invoice",
        title: "Invoice",
        description: "One invoice as get_invoice returns it: number, lines, status, amounts paid and due, payments and \
                      history. invoice_id is inv_ + 32 hex digits.",
        mime_type: JSON,
    },
    Template {
        uri_template: "invoice://{invoice_id}/pdf",
        backing: Backing::InvoicePdf,
        fixed: &[],
        name: "invoice-pdf",
        title: "Invoice PDF",
        description: "The invoice as a PDF/A-3u document, as render_invoice renders it.",
        mime_type: PDF,
    },
    Template {
        uri_template: "credit_note://{credit_note_id}",
        backing: Backing::CreditNote,
        fixed: &[],
        name: "credit-note",
        title: "Credit note",
        description: "One credit note as get_credit_note returns it: the invoice it corrects, what it credits, and \
                      where the money went. credit_note_id is cn_ + 32 hex digits.",
        mime_type: JSON,
    },
    Template {
        uri_template: "credit_note://{credit_note_id}/pdf",
        backing: Backing::CreditNotePdf,
        fixed: &[],
        name: "credit-note-pdf",
        title: "Credit note PDF",
        description: "The credit note as a PDF/A-3u document, as render_credit_note renders it.",
        mime_type: PDF,
    },
    Template {
        uri_template: "customer://{customer_id}",
        backing: Backing::Customer,
        fixed: &[],
        name: "customer",
        title: "Customer",
        description: "One customer as get_customer returns it, with outstanding balances per currency.",
        mime_type: JSON,
    },
    Template {
        uri_template: "statement://{customer_id}/activity/{from}/{to}{/currency}",
        backing: Backing::Statement,
        fixed: &[("kind", "activity")],
        name: "statement",
        title: "Statement of account (PDF)",
        description: "The customer's activity from one day to another (YYYY-MM-DD) with a running balance and the \
                      aging at the end, as get_statement renders it; optionally one currency.",
        mime_type: PDF,
    },
    Template {
        uri_template: "statement://{customer_id}/open-items/{as_of}{/currency}",
        backing: Backing::Statement,
        fixed: &[("kind", "open_items")],
        name: "statement-open-items",
        title: "Statement of open items (PDF)",
        description: "The customer's invoices open at the end of a day (YYYY-MM-DD) with the aging, as \
                      get_statement renders it; optionally one currency.",
        mime_type: PDF,
    },
];

/// The MIME types of what Tally serves.
pub const JSON: &str = "application/json";
pub const PDF: &str = "application/pdf";

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

/// What a resource holds: JSON text, or a document's bytes.
#[derive(Debug, Clone)]
pub enum Contents {
    Text(String),
    Blob { mime_type: &'static str, bytes: bytes::Bytes, name: String },
}

/// One page of `resources/list`: resource objects and the next cursor.
pub struct ResourcePage {
    pub resources: Vec<Value>,
    pub next_cursor: Option<String>,
}

impl Template {
    /// The tool arguments `uri` stands for, if it matches.
    fn arguments(&self, uri: &str) -> Option<Map<String, Value>> {
        let mut args: Map<String, Value> = self.fixed.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        let mut rest = uri;
        let mut template = self.uri_template;
        while !template.is_empty() {
            if let Some(after) = template.strip_prefix("{/") {
                let (name, tail) = after.split_once('}')?;
                if !tail.is_empty() {
                    return None; // optional segments come last
                }
                if rest.is_empty() {
                    return Some(args);
                }
                let value = rest.strip_prefix('/')?;
                if value.is_empty() || value.contains('/') {
                    return None;
                }
                args.insert(name.to_owned(), json!(decode(value)?));
                return Some(args);
            }
            if let Some(after) = template.strip_prefix('{') {
                let (name, tail) = after.split_once('}')?;
                let end = rest.find('/').unwrap_or(rest.len());
                if end == 0 {
                    return None;
                }
                args.insert(name.to_owned(), json!(decode(&rest[..end])?));
                rest = &rest[end..];
                template = tail;
                continue;
            }
            let literal_end = template.find('{').unwrap_or(template.len());
            rest = rest.strip_prefix(&template[..literal_end])?;
            template = &template[literal_end..];
        }
        rest.is_empty().then_some(args)
    }
}

impl Registry {
    /// What `resources/templates/list` publishes: the templates whose tool `role` may call.
    pub fn resource_templates(&self, role: Role) -> Vec<Value> {
        TEMPLATES
            .iter()
            .filter(|t| self.definition(t.backing.tool()).is_some_and(|d| role.covers(d.role)))
            .map(|t| {
                json!({
                    "uriTemplate": t.uri_template,
                    "name": t.name,
                    "title": t.title,
                    "description": t.description,
                    "mimeType": t.mime_type,
                })
            })
            .collect()
    }

    /// Reads `uri`: the backing tool's structured output as JSON text, or its document.
    pub async fn read_resource(&self, uri: &str, ctx: ToolContext) -> Result<Contents, ResourceFailure> {
        let not_found = || {
            ResourceFailure::NotFound(format!(
                "No resource {uri}: Tally serves {} (see resources/templates/list)",
                TEMPLATES.iter().map(|t| t.uri_template).collect::<Vec<_>>().join(", ")
            ))
        };
        let (template, args) =
            TEMPLATES.iter().find_map(|t| t.arguments(uri).map(|args| (t, args))).ok_or_else(not_found)?;
        let args = Value::Object(args);
        let read = match template.backing {
            Backing::Invoice => self.run::<GetInvoice>(args, ctx).await.map(text),
            Backing::Customer => self.run::<GetCustomer>(args, ctx).await.map(text),
            Backing::InvoicePdf => self.run::<RenderInvoice>(args, ctx).await.map(|o| blob(o.attachment)),
            Backing::Statement => self.run::<GetStatement>(args, ctx).await.map(|o| blob(o.attachment)),
            Backing::CreditNote => self.run::<GetCreditNote>(args, ctx).await.map(text),
            Backing::CreditNotePdf => self.run::<RenderCreditNote>(args, ctx).await.map(|o| blob(o.attachment)),
        };
        match read {
            Ok(Some(contents)) => Ok(contents),
            Ok(None) => Err(ResourceFailure::Call(CallFailure::Internal)),
            Err(RunFailure::Call(failure)) => Err(ResourceFailure::Call(failure)),
            Err(RunFailure::Rejected(err)) => match err.code {
                // A malformed id names no resource, the same as an unknown one.
                Code::NotFound | Code::InvalidParams => {
                    Err(ResourceFailure::NotFound(format!("No {} {uri} in this caller's books", template.name)))
                }
                code => {
                    tracing::warn!(uri, code = code.as_str(), "a resource read was refused by its tool");
                    Err(ResourceFailure::NotFound(format!("{uri} cannot be read: {}", code.as_str())))
                }
            },
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
        let page = match self.run::<ListInvoices>(args, ctx).await {
            Ok(page) => page,
            Err(RunFailure::Call(failure)) => return Err(ResourceFailure::Call(failure)),
            Err(RunFailure::Rejected(_)) => {
                return Err(ResourceFailure::InvalidCursor(
                    "Invalid cursor for resources/list: pass back the nextCursor of the previous page".into(),
                ));
            }
        };
        let resources = page.invoices.iter().map(invoice_resource).collect();
        Ok(ResourcePage { resources, next_cursor: page.next_cursor })
    }
}

/// A JSON resource: the tool's output, serialized once.
fn text(output: impl Output) -> Option<Contents> {
    match output.into_json() {
        Ok(json) => Some(Contents::Text(json)),
        Err(e) => {
            tracing::error!(error = %e, "a resource's output did not serialize");
            None
        }
    }
}

/// A document resource: the PDF the tool rendered.
fn blob(a: super::Attachment) -> Option<Contents> {
    Some(Contents::Blob { mime_type: a.mime_type, bytes: a.bytes, name: a.name })
}

fn invoice_resource(summary: &InvoiceSummary) -> Value {
    let label = summary.number.as_deref().unwrap_or("draft");
    json!({
        "uri": format!("invoice://{}", summary.invoice_id),
        "name": summary.invoice_id.to_string(),
        "title": format!(
            "{label} · {} · {} · {} due",
            summary.customer_id,
            summary.status.as_str(),
            summary.amount_due_formatted,
        ),
        "mimeType": JSON,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(uri: &str) -> Option<(&'static str, Value)> {
        TEMPLATES.iter().find_map(|t| t.arguments(uri).map(|a| (t.name, Value::Object(a))))
    }

    #[test]
    fn uris_match_their_template_and_no_other() {
        let id = "inv_0123456789abcdef0123456789abcdef";
        assert_eq!(args(&format!("invoice://{id}")), Some(("invoice", json!({ "invoice_id": id }))));
        assert_eq!(args(&format!("invoice://{id}/pdf")), Some(("invoice-pdf", json!({ "invoice_id": id }))));
        assert_eq!(args(&format!("invoice://{id}/pdf/x")), None);
        assert_eq!(args("invoice://"), None);
        assert_eq!(
            args("statement://cust%3A42/activity/2026-01-01/2026-03-31"),
            Some((
                "statement",
                json!({ "kind": "activity", "customer_id": "cust:42", "from": "2026-01-01", "to": "2026-03-31" })
            ))
        );
        assert_eq!(
            args("statement://c1/open-items/2026-03-31/KWD"),
            Some((
                "statement-open-items",
                json!({ "kind": "open_items", "customer_id": "c1", "as_of": "2026-03-31", "currency": "KWD" })
            ))
        );
        assert_eq!(args("statement://c1/open-items/2026-03-31/"), None);
        assert_eq!(args("statement://c1/open-items"), None);
        assert_eq!(args("statement://c1/activity/2026-01-01"), None);
        assert_eq!(args("statement://c%ZZ/open-items/2026-01-01"), None, "bad percent-encoding");
    }
}
