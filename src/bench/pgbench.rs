//! The ceiling: pgbench running exactly the SQL that `create_invoice` runs (the session lookup,
//! then one transaction: claim the idempotency key, insert the invoice and its two lines in one
//! statement, append the audit record, read the history, store the key's response, commit) with
//! the same row shapes, at the same concurrency, on the same cluster.

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

/// The pgbench script. Statement for statement what `InvoiceService::create` and the session
/// lookup send (see domain/invoices/create.rs, domain/idempotency.rs, domain/audit.rs,
/// mcp/session.rs); ids are time-ordered like Tally's UUIDv7s so the indexes see the same order.
pub fn create_invoice_script(session_id: &str, response: &Value) -> String {
    // pgbench substitutes `:name` anywhere in a line, so the stored JSON keeps a space after
    // each colon; and it is an SQL string literal.
    let response = response.to_string().replace("\":", "\": ").replace('\'', "''");
    format!(
        r#"\set n random(1, 10000)
\set k random(1, 9000000000000000000)
with live as (select session_id, tenant_id, protocol_version, last_seen_at from mcp_sessions where session_id = '{session_id}' and ended_at is null and last_seen_at > now() - make_interval(secs => 86400)), touched as (update mcp_sessions s set last_seen_at = now() from live where s.session_id = live.session_id and live.last_seen_at < now() - interval '1 minute') select tenant_id, protocol_version from live;
begin;
insert into idempotency_keys (tenant_id, tool, idempotency_key, request_hash) values ('default', 'create_invoice', 'pgbench-' || :k, '5f0e2a7c9b1d4e6f8a0c2e4f6a8b0d2f4e6a8c0b2d4f6e8a0c2e4b6d8f0a2c4e') on conflict (tenant_id, tool, idempotency_key) do update set request_hash = excluded.request_hash, response = null, created_at = now() where idempotency_keys.created_at < now() - make_interval(hours => 24) returning true;
with invoice as (insert into invoices (invoice_id, tenant_id, customer_id, currency, total_cents, due_date, memo) values ((lpad(to_hex(floor(extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || substr(md5(random()::text), 1, 20))::uuid, 'default', 'bench_' || :n, 'USD', 3500, null, null) returning invoice_id, created_at), lines as (insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, line_total_cents) select invoice.invoice_id, l.line_no, 'default', l.description, l.amount_cents, l.quantity, l.amount_cents * l.quantity from invoice, unnest(array['Widget', 'Installation']::text[], array[1500, 500]::bigint[], array[2, 1]::integer[]) with ordinality as l(description, amount_cents, quantity, line_no) returning line_no::integer as line_no, description, amount_cents, quantity, line_total_cents), audit as (insert into audit_events (tenant_id, tool, session_id, entity, entity_id, action, from_status, to_status, amount_cents, currency, idempotency_key, details) select 'default', 'create_invoice', '{session_id}', 'invoice', 'inv_' || replace(invoice.invoice_id::text, '-', ''), 'created', null, 'draft', 3500, 'USD', 'pgbench-' || :k, '{{"customer_id": "bench", "lines": 2}}' from invoice returning occurred_at) select invoice.created_at, audit.occurred_at, (select coalesce(json_agg(lines order by line_no), '[]') from lines) as lines from invoice, audit;
update idempotency_keys set response = '{response}' where tenant_id = 'default' and tool = 'create_invoice' and idempotency_key = 'pgbench-' || :k;
commit;
"#
    )
}
