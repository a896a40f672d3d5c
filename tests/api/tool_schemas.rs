//! What tools/list publishes: every tool fully described for an agent.

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{pool, spawn_app};

#[sqlx::test]
async fn every_tool_is_published_with_schemas_and_hints(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let session = app.session().await;
    let res = app.rpc(&session, "tools/list", json!({})).await;
    let tools = res["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let catalogue: Vec<&str> = tally::app::registry(&app.pool).names().collect();
    assert_eq!(names, catalogue, "an admin is shown the whole catalogue, in its order");
    assert!(names.len() >= 16);
    assert!(res["result"].get("nextCursor").is_none(), "one page holds them all");
    for tool in tools {
        let name = &tool["name"];
        assert!(tool["title"].as_str().is_some_and(|t| !t.is_empty()), "{name}");
        assert!(tool["description"].as_str().is_some_and(|d| d.len() > 80), "{name}: a description that steers");
        let input = &tool["inputSchema"];
        assert_eq!(input["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(input["type"], "object");
        assert_eq!(input["additionalProperties"], false, "{name}");
        for (field, schema) in input["properties"].as_object().unwrap() {
            assert!(schema["description"].is_string(), "{name}.{field} has no description");
        }
        assert_eq!(tool["outputSchema"]["type"], "object");
        let hints = &tool["annotations"];
        assert_eq!(hints["openWorldHint"], false);
        for hint in ["readOnlyHint", "destructiveHint", "idempotentHint"] {
            assert!(hints[hint].is_boolean(), "{name} {hint}");
        }
    }
    let by_name = |n: &str| tools.iter().find(|t| t["name"] == n).unwrap().clone();
    assert_eq!(by_name("get_invoice")["annotations"]["readOnlyHint"], true);
    assert_eq!(by_name("list_invoices")["annotations"]["readOnlyHint"], true);
    let create: Value = by_name("create_invoice");
    assert_eq!(create["annotations"]["readOnlyHint"], false);
    assert_eq!(create["annotations"]["destructiveHint"], false);
    assert!(create["inputSchema"]["properties"]["idempotency_key"].is_object());
    for write in [
        "upsert_customer",
        "create_invoice",
        "create_invoices_batch",
        "update_draft_invoice",
        "send_invoice",
        "apply_payment",
        "void_invoice",
    ] {
        let tool = by_name(write);
        assert!(tool["inputSchema"]["properties"]["idempotency_key"].is_object(), "{write} takes an idempotency key");
        assert_eq!(tool["annotations"]["readOnlyHint"], false, "{write}");
    }
    assert_eq!(by_name("void_invoice")["annotations"]["destructiveHint"], true);
    for read in ["get_customer", "list_customers", "list_outstanding"] {
        assert_eq!(by_name(read)["annotations"]["readOnlyHint"], true, "{read}");
    }
    assert_eq!(create["inputSchema"]["required"], json!(["customer_id", "line_items"]));
}

/// README.md's role table says which role may call which tool: it is checked against the
/// catalogue, so it cannot drift from what the server enforces.
#[sqlx::test]
async fn the_readme_role_table_is_the_catalogues(o: PgPoolOptions, c: PgConnectOptions) {
    use tally::tools::Role;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let registry = tally::app::registry(&pool(o, c).await);
    let mut seen = 0;
    for role in [Role::Viewer, Role::Clerk, Role::Admin] {
        let row = readme
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("| `{}` |", role.as_str())))
            .unwrap_or_else(|| panic!("README has no role row for {}", role.as_str()));
        let mut listed: Vec<&str> = row.split('`').skip(3).step_by(2).collect();
        listed.sort_unstable();
        let mut own: Vec<&str> = registry.definitions().filter(|d| d.role == role).map(|d| d.name).collect();
        own.sort_unstable();
        assert_eq!(listed, own, "README's `{}` row", role.as_str());
        seen += own.len();
    }
    assert_eq!(seen, registry.names().count(), "every tool has a role row");
}
