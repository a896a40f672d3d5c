//! The bench's peer: a plain MCP invoicing server written on the official Rust SDK (rmcp) in an
//! afternoon. Streamable HTTP at /mcp, stateless, JSON answers; create_invoice and list_invoices
//! with Tally's names and argument shapes. No idempotency, no audit, no tenants, no limiter.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use clap::Parser;
use rmcp::{
    ErrorData, ServerHandler,
    handler::server::{
        router::tool::ToolRouter,
        wrapper::{Json, Parameters},
    },
    tool, tool_handler, tool_router,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager,
    },
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, postgres::PgPoolOptions};
use uuid::Uuid;

#[derive(Parser)]
#[command(about = "A plain rmcp + axum + sqlx MCP server: the baseline of `make bench`")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8098")]
    bind: SocketAddr,
    /// Postgres to keep the invoices in.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
}

const SCHEMA: &str = "
create table if not exists peer_invoices (
    invoice_id uuid primary key, customer_id text not null, currency text not null,
    total_cents bigint not null, status text not null default 'draft',
    created_at timestamptz not null default now());
create index if not exists peer_invoices_customer_newest
    on peer_invoices (customer_id, created_at desc, invoice_id desc);
create table if not exists peer_invoice_lines (
    invoice_id uuid references peer_invoices, line_no int, description text,
    amount_cents bigint, quantity int, line_total_cents bigint,
    primary key (invoice_id, line_no));";

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)] // idempotency_key, due_date and memo: accepted for Tally's argument shape, ignored.
struct CreateInvoiceArgs {
    /// The business's own key for the customer.
    customer_id: String,
    /// ISO-4217 currency code of all amounts.
    #[serde(default = "usd")]
    currency: String,
    /// The lines of the invoice, 1 to 100.
    #[schemars(length(min = 1, max = 100))]
    line_items: Vec<LineItemArgs>,
    /// Accepted and ignored: this server has no idempotency.
    idempotency_key: Option<String>,
    /// Accepted and ignored.
    due_date: Option<String>,
    /// Accepted and ignored.
    memo: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct LineItemArgs {
    description: String,
    /// Unit price in minor units.
    #[schemars(range(min = 0))]
    amount_cents: i64,
    /// Units; defaults to 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    quantity: i32,
}

#[derive(Deserialize, JsonSchema)]
struct ListInvoicesArgs {
    /// Only this customer's invoices.
    customer_id: Option<String>,
    /// Page size, 1-100.
    #[serde(default = "twenty")]
    #[schemars(range(min = 1, max = 100))]
    limit: i64,
}

fn usd() -> String {
    "USD".into()
}
fn one() -> i32 {
    1
}
fn twenty() -> i64 {
    20
}

#[derive(Serialize, JsonSchema)]
struct Invoice {
    #[serde(flatten)]
    invoice: InvoiceSummary,
    line_items: Vec<Line>,
}

#[derive(Serialize, JsonSchema)]
struct Line {
    line_no: i32,
    description: String,
    amount_cents: i64,
    quantity: i32,
    line_total_cents: i64,
}

#[derive(Serialize, JsonSchema, sqlx::FromRow)]
struct InvoiceSummary {
    invoice_id: Uuid,
    customer_id: String,
    currency: String,
    status: String,
    total_cents: i64,
    created_at: DateTime<Utc>,
}

#[derive(Serialize, JsonSchema)]
struct InvoiceList {
    invoices: Vec<InvoiceSummary>,
}

#[derive(Clone)]
struct Peer {
    db: PgPool,
    tool_router: ToolRouter<Self>,
}

fn db_error(e: sqlx::Error) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}
fn invalid(message: &'static str) -> ErrorData {
    ErrorData::invalid_params(message, None)
}

#[tool_router]
impl Peer {
    fn new(db: PgPool) -> Self {
        Self { db, tool_router: Self::tool_router() }
    }

    #[tool(description = "Create a draft invoice for a customer from 1 to 100 line items.")]
    async fn create_invoice(
        &self,
        Parameters(args): Parameters<CreateInvoiceArgs>,
    ) -> Result<Json<Invoice>, ErrorData> {
        if !(1..=100).contains(&args.line_items.len()) {
            return Err(invalid("line_items must hold 1 to 100 items"));
        }
        let mut lines = Vec::with_capacity(args.line_items.len());
        let mut total_cents = 0i64;
        for (n, item) in args.line_items.into_iter().enumerate() {
            if item.amount_cents < 0 || item.quantity < 1 {
                return Err(invalid("amount_cents must be >= 0 and quantity >= 1"));
            }
            let line_total_cents = item
                .amount_cents
                .checked_mul(i64::from(item.quantity))
                .ok_or_else(|| invalid("line total out of range"))?;
            total_cents =
                total_cents.checked_add(line_total_cents).ok_or_else(|| invalid("invoice total out of range"))?;
            let line_no = n as i32 + 1;
            lines.push(Line {
                line_no,
                description: item.description,
                amount_cents: item.amount_cents,
                quantity: item.quantity,
                line_total_cents,
            });
        }

        let invoice_id = Uuid::now_v7();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        let created_at: DateTime<Utc> = sqlx::query_scalar(
            "insert into peer_invoices (invoice_id, customer_id, currency, total_cents)
             values ($1, $2, $3, $4) returning created_at",
        )
        .bind(invoice_id)
        .bind(&args.customer_id)
        .bind(&args.currency)
        .bind(total_cents)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "insert into peer_invoice_lines
                 (invoice_id, line_no, description, amount_cents, quantity, line_total_cents)
             select $1, * from unnest($2::int4[], $3::text[], $4::int8[], $5::int4[], $6::int8[])",
        )
        .bind(invoice_id)
        .bind(lines.iter().map(|l| l.line_no).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.description.as_str()).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.amount_cents).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.quantity).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.line_total_cents).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;

        let (customer_id, currency, status) = (args.customer_id, args.currency, "draft".into());
        let invoice = InvoiceSummary { invoice_id, customer_id, currency, status, total_cents, created_at };
        Ok(Json(Invoice { invoice, line_items: lines }))
    }

    #[tool(description = "List invoices, newest first, optionally of one customer.")]
    async fn list_invoices(
        &self,
        Parameters(args): Parameters<ListInvoicesArgs>,
    ) -> Result<Json<InvoiceList>, ErrorData> {
        if !(1..=100).contains(&args.limit) {
            return Err(invalid("limit must be 1 to 100"));
        }
        const COLUMNS: &str =
            "select invoice_id, customer_id, currency, status, total_cents, created_at from peer_invoices";
        let invoices = match &args.customer_id {
            Some(customer) => {
                sqlx::query_as(&format!(
                    "{COLUMNS} where customer_id = $1 order by created_at desc, invoice_id desc limit $2"
                ))
                .bind(customer)
                .bind(args.limit)
                .fetch_all(&self.db)
                .await
            }
            None => {
                sqlx::query_as(&format!("{COLUMNS} order by created_at desc, invoice_id desc limit $1"))
                    .bind(args.limit)
                    .fetch_all(&self.db)
                    .await
            }
        }
        .map_err(db_error)?;
        Ok(Json(InvoiceList { invoices }))
    }
}

#[tool_handler(router = self.tool_router, name = "tally-bench-peer")]
impl ServerHandler for Peer {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let db = PgPoolOptions::new().max_connections(32).connect(&args.database_url).await?;
    sqlx::raw_sql(SCHEMA).execute(&db).await?;

    let peer = Peer::new(db);
    // Stateless: no sessions, every POST is served on its own; plain JSON answers, not SSE.
    let config = StreamableHttpServerConfig::default().with_legacy_session_mode(false).with_json_response(true);
    let mcp = StreamableHttpService::new(move || Ok(peer.clone()), NeverSessionManager::default().into(), config);
    let app = axum::Router::new().nest_service("/mcp", mcp).route("/readyz", axum::routing::get(|| async { "ok" }));

    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    eprintln!("peer: listening on http://{}/mcp", listener.local_addr()?);
    axum::serve(listener, app).with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap_or(()) }).await?;
    Ok(())
}
