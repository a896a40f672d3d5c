//! The ceiling: pgbench running exactly the SQL that `create_invoice` runs (one statement, its
//! own transaction: `create_invoice_once` claims the idempotency key with the kept reply, writes
//! the invoice, its two lines and the audit record, and commits; the session is served from
//! memory) with the same row shapes, at the same concurrency, on the same cluster.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

pub struct Pgbench {
    binary: PathBuf,
    database_url: String,
    script: PathBuf,
}

impl Pgbench {
    /// Writes the script, with a real session id and a real create_invoice response (so the
    /// stored response has the size Tally stores), taken from one call to the server.
    pub async fn prepare(binary: PathBuf, database_url: &str, mcp_url: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::new();
        let session = super::load::initialize(&client, mcp_url).await?;
        let call = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_invoice","arguments":{
            "customer_id":"bench_template","idempotency_key":uuid::Uuid::new_v4().to_string(),
            "line_items":[{"description":"Widget","amount_cents":1500,"quantity":2},{"description":"Installation","amount_cents":500}]}}});
        let answer: Value = client
            .post(mcp_url)
            .header("content-type", "application/json")
            .header("mcp-session-id", &session)
            .json(&call)
            .send()
            .await?
            .json()
            .await?;
        let response = answer["result"]["structuredContent"].clone();
        anyhow::ensure!(response.is_object(), "the template create_invoice failed: {answer}");
        let script = std::env::temp_dir().join(format!("tally-pgbench-{}.sql", uuid::Uuid::new_v4().simple()));
        std::fs::write(&script, create_invoice_script(&session, &response))?;
        Ok(Self { binary, database_url: database_url.to_owned(), script })
    }

    /// Runs pgbench with `clients` connections for `duration`; returns transactions/s.
    pub fn run(&self, clients: usize, duration: Duration) -> anyhow::Result<f64> {
        let seconds = duration.as_secs().max(1).to_string();
        let threads = clients.clamp(1, 2).to_string();
        let out = Command::new(&self.binary)
            .args(["-n", "-M", "prepared", "-c", &clients.to_string(), "-j", &threads, "-T", &seconds, "-f"])
            .arg(&self.script)
            .arg(&self.database_url)
            .output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        anyhow::ensure!(out.status.success(), "pgbench failed: {}{}", stdout, String::from_utf8_lossy(&out.stderr));
        let failed =
            stdout.lines().find_map(|l| l.trim().strip_prefix("number of failed transactions:")).unwrap_or("0").trim();
        anyhow::ensure!(failed.starts_with('0'), "pgbench transactions failed: {failed}");
        stdout
            .lines()
            .find_map(|l| {
                l.strip_prefix("tps = ").and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok())
            })
            .ok_or_else(|| anyhow::anyhow!("no tps in pgbench output: {stdout}"))
    }
}

impl Drop for Pgbench {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.script);
    }
}

/// The pgbench script. Statement for statement what `InvoiceService::create` sends (see
/// domain/invoices/create.rs and the `create_invoice_once` migration); ids are time-ordered like
/// Tally's UUIDv7s so the indexes see the same order.
pub fn create_invoice_script(session_id: &str, response: &Value) -> String {
    // pgbench substitutes `:name` anywhere in a line, so the stored JSON keeps a space after
    // each colon; and it is an SQL string literal.
    let response = response.to_string().replace("\":", "\": ").replace('\'', "''");
    format!(
        r#"\set n random(1, 10000)
\set k random(1, 9000000000000000000)
with id as (select (lpad(to_hex(floor(extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || substr(md5(random()::text), 1, 20))::uuid as v) select c.* from id, create_invoice_once('default', 'pgbench-' || :k, '5f0e2a7c9b1d4e6f8a0c2e4f6a8b0d2f4e6a8c0b2d4f6e8a0c2e4b6d8f0a2c4e', '{response}', 'pgbench', 24, id.v, 'inv_' || replace(id.v::text, '-', ''), 'bench_' || :n, 'USD', 3500, null, null, date_trunc('milliseconds', clock_timestamp()), '[{{"line_no": 1, "description": "Widget", "amount_cents": 1500, "quantity": "2", "unit_code": "C62", "discount_cents": 0, "line_total_cents": 3000, "net_cents": 3000, "taxes": []}}, {{"line_no": 2, "description": "Installation", "amount_cents": 500, "quantity": "1", "unit_code": "C62", "discount_cents": 0, "line_total_cents": 500, "net_cents": 500, "taxes": []}}]'::jsonb, 'none', false, 0, 0, 0, '[]'::jsonb, '[]'::jsonb, 'create_invoice', '{session_id}', '{{"customer_id": "bench", "lines": 2}}'::jsonb, null, null, 'admin') c;
"#
    )
}
