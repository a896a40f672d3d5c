//! The load generator: callers that speak MCP over HTTP like an agent (initialize, then
//! tools/call in a loop on one keep-alive connection), until the scenario's time is up.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::seed::Seeded;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// create_invoice with two line items and an idempotency key.
    Create,
    /// The same with each line taxed (VAT 19 % and 7 %): the tenant's settings and rates are read
    /// and the tax calculated.
    CreateTaxed,
    /// list_invoices, 20 a page, filtered by one of the seeded customers.
    List,
    /// get_invoice of a seeded invoice.
    Get,
    /// 70% reads (get and list alike), 30% creates.
    Mixed,
    /// render_invoice of a seeded one-page invoice: typesetting a PDF.
    RenderInvoice,
    /// get_statement of the seeded customer with 500 rows of activity (a long, paginated PDF).
    Statement,
    /// list_outstanding over the whole tenant: every customer's balance and aging.
    Outstanding,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create_invoice",
            Self::CreateTaxed => "create_invoice taxed",
            Self::List => "list_invoices",
            Self::Get => "get_invoice",
            Self::Mixed => "mixed 70/30",
            Self::RenderInvoice => "render_invoice",
            Self::Statement => "get_statement 500 rows",
            Self::Outstanding => "list_outstanding",
        }
    }
}

/// What one scenario measured.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub calls: usize,
    pub errors: usize,
    pub elapsed: Duration,
    /// Every call's latency, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

pub async fn run_workload(
    url: &str,
    workload: Workload,
    callers: usize,
    duration: Duration,
    seeded: &Seeded,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let (url, seeded) = (url.to_owned(), seeded.clone());
            tokio::spawn(async move { caller_loop(&url, workload, caller as u64, deadline, &seeded).await })
        })
        .collect();
    let mut run = Run::default();
    for task in tasks {
        let part = task.await??;
        run.calls += part.calls;
        run.errors += part.errors;
        run.latencies_us.extend(part.latencies_us);
    }
    run.elapsed = started.elapsed();
    run.latencies_us.sort_unstable();
    Ok(run)
}

async fn caller_loop(
    url: &str,
    workload: Workload,
    caller: u64,
    deadline: Instant,
    seeded: &Seeded,
) -> anyhow::Result<Run> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
    let session = open(&client, url).await?;
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (caller + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    let mut run = Run::default();
    let mut id = 1u64;
    while Instant::now() < deadline {
        id += 1;
        let call = match workload {
            Workload::Mixed => match rng.next() % 10 {
                0..=2 => Workload::Create,
                n if n % 2 == 0 => Workload::Get,
                _ => Workload::List,
            },
            other => other,
        };
        let body = request(call, id, &mut rng, seeded);
        let started = Instant::now();
        let mut req = client
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25");
        if let Some(session) = &session {
            req = req.header("mcp-session-id", session);
        }
        let res = req.body(body).send().await?;
        let ok = res.status().is_success();
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        run.latencies_us.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        run.calls += 1;
        if !ok || answer.get("error").is_some() || answer["result"]["isError"] == true {
            run.errors += 1;
        }
    }
    Ok(run)
}

fn request(call: Workload, id: u64, rng: &mut XorShift, seeded: &Seeded) -> String {
    let pick = |rng: &mut XorShift, list: &[String]| list[(rng.next() % list.len() as u64) as usize].clone();
    let (tool, args) = match call {
        Workload::Create => (
            "create_invoice",
            json!({
                "customer_id": format!("bench_{}", rng.next() % 10_000),
                "idempotency_key": uuid::Uuid::new_v4().to_string(),
                "line_items": [
                    {"description": "Widget", "amount_cents": 1500, "quantity": 2},
                    {"description": "Installation", "amount_cents": 500}
                ]
            }),
        ),
        Workload::CreateTaxed => (
            "create_invoice",
            json!({
                "customer_id": format!("bench_{}", rng.next() % 10_000),
                "idempotency_key": uuid::Uuid::new_v4().to_string(),
                "line_items": [
                    {"description": "Widget", "amount_cents": 1500, "quantity": 2, "tax_rate_ids": [seeded.tax_rates[0]]},
                    {"description": "Installation", "amount_cents": 500, "tax_rate_ids": [seeded.tax_rates[1]]}
                ]
            }),
        ),
        Workload::List => ("list_invoices", json!({"customer_id": pick(rng, &seeded.customers), "limit": 20})),
        Workload::Get | Workload::Mixed => ("get_invoice", json!({"invoice_id": pick(rng, &seeded.invoice_ids)})),
        Workload::RenderInvoice => ("render_invoice", json!({"invoice_id": pick(rng, &seeded.invoice_ids)})),
        Workload::Outstanding => ("list_outstanding", json!({})),
        Workload::Statement => (
            "get_statement",
            json!({"customer_id": super::seed::STATEMENT_CUSTOMER, "from": "2026-01-01", "to": "2026-07-31"}),
        ),
    };
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": args}}).to_string()
}

/// Sets the tenant's tax mode (`vat` or `none`) and, for VAT, creates the two rates the taxed
/// creates name; their ids.
pub async fn tax_mode(url: &str, mode: &str) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::new();
    let session = initialize(&client, url).await?;
    let call = |tool: &'static str, args: Value| {
        let client = client.clone();
        let session = session.clone();
        async move {
            let body =
                json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args}});
            let answer: Value = client
                .post(url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2025-11-25")
                .header("mcp-session-id", session)
                .json(&body)
                .send()
                .await?
                .json()
                .await?;
            anyhow::ensure!(answer["result"]["isError"] != true && answer.get("error").is_none(), "{tool}: {answer}");
            Ok::<Value, anyhow::Error>(answer["result"]["structuredContent"].clone())
        }
    };
    call("set_tax_settings", json!({"tax_mode": mode})).await?;
    if mode != "vat" {
        return Ok(vec![]);
    }
    let mut ids = vec![];
    for percent in [19, 7] {
        let rate = call(
            "create_tax_rate",
            json!({"name": format!("VAT {percent} %"), "kind": "vat", "percent": percent, "category": "S"}),
        )
        .await?;
        ids.push(rate["tax_rate_id"].as_str().unwrap_or_default().to_owned());
    }
    Ok(ids)
}

/// Opens a session: its id, or None from a stateless server (the peer), which answers
/// initialize without one.
pub(super) async fn open(client: &reqwest::Client, url: &str) -> anyhow::Result<Option<String>> {
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"tally-bench","version":env!("CARGO_PKG_VERSION")}}});
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "initialize at {url}: HTTP {}", res.status());
    Ok(res.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned))
}

/// Opens a session that must have an id (Tally's).
pub(super) async fn initialize(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    open(client, url).await?.ok_or_else(|| anyhow::anyhow!("initialize at {url} gave no session"))
}

/// A tiny deterministic generator: callers pick customers and ids without sharing a lock.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
