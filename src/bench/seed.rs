//! Seed data for the read scenarios: invoices spread over customers, written by Postgres itself
//! (one statement), each with two lines, as create_invoice would have written them.

use sqlx::PgPool;

/// The customer with 250 sent invoices and 250 payments in the first half of 2026: a statement
/// of 500 rows.
pub const STATEMENT_CUSTOMER: &str = "statement_500";

/// Seeds [`STATEMENT_CUSTOMER`]'s activity once.
pub async fn seed_statement(pool: &PgPool) -> Result<(), sqlx::Error> {
    let have: i64 = sqlx::query_scalar("select count(*) from invoices where customer_id = $1")
        .bind(STATEMENT_CUSTOMER)
        .fetch_one(pool)
        .await?;
    if have > 0 {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into invoices (invoice_id, tenant_id, customer_id, status, currency, total_cents, amount_paid_cents,
                               due_date, created_at, updated_at, number, issued_at, issue_date, seller, buyer)
         select gen_random_uuid(), 'default', $1, 'sent', 'USD', 10000, 2500,
                date '2026-01-01' + (g * 18 / 25) + 30, t, t, 'BENCH-' || lpad(g::text, 6, '0'), t,
                (t at time zone 'UTC')::date, (select seller_snapshot('default')),
                jsonb_build_object('customer_id', $1::text)
           from generate_series(1, 250) g,
                lateral (select timestamptz '2026-01-01 09:00+00' + make_interval(hours => g * 17)) as at(t)",
    )
    .bind(STATEMENT_CUSTOMER)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, line_total_cents)
         select invoice_id, 1, 'default', 'Monthly service', 10000, 1, 10000 from invoices where customer_id = $1",
    )
    .bind(STATEMENT_CUSTOMER)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into payments (payment_id, tenant_id, invoice_id, amount_cents, currency, method, reference, paid_at, created_at)
         select gen_random_uuid(), 'default', invoice_id, 2500, 'USD', 'bank_transfer', 'Part of ' || number,
                issued_at + interval '5 days', issued_at + interval '5 days'
           from invoices where customer_id = $1",
    )
    .bind(STATEMENT_CUSTOMER)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Seeds the peer's own tables (benches/peer creates them at start) like Tally's: the same
/// number of invoices over the same customers, two lines each, so list_invoices reads alike.
pub async fn seed_peer(pool: &PgPool, invoices: u64, customers: u64) -> Result<(), sqlx::Error> {
    let have: i64 = sqlx::query_scalar("select count(*) from peer_invoices where customer_id like 'seed_%'")
        .fetch_one(pool)
        .await?;
    let missing = i64::try_from(invoices).unwrap_or(i64::MAX) - have;
    if missing <= 0 {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into peer_invoices (invoice_id, customer_id, currency, total_cents, created_at)
         select gen_random_uuid(), 'seed_' || (g % $2), 'USD', 2000, now() - make_interval(secs => g)
           from generate_series(1, $1) g",
    )
    .bind(missing)
    .bind(i64::try_from(customers.max(1)).unwrap_or(1))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into peer_invoice_lines (invoice_id, line_no, description, amount_cents, quantity, line_total_cents)
         select i.invoice_id, n, 'Seeded line ' || n, 1000, 1, 1000
           from peer_invoices i cross join generate_series(1, 2) n
          where i.customer_id like 'seed_%'
            and not exists (select 1 from peer_invoice_lines l where l.invoice_id = i.invoice_id)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("analyze peer_invoices").execute(pool).await.map(drop)
}

/// What the read scenarios pick from.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub customers: Vec<String>,
    pub invoice_ids: Vec<String>,
    /// The VAT rates (19 %, 7 %) the taxed creates name, once the tenant charges VAT.
    pub tax_rates: Vec<String>,
}

/// Seeded invoices that are still open (sent, unpaid): the newest ones, however many are seeded.
/// A business's books grow by history, which is paid; what it is owed now does not grow with
/// them. The older ones among them are past due, for the aging buckets.
pub const OPEN_SEEDED: i64 = 1_000;

/// Seeds `invoices` invoices over `customers` customers (adding to what an earlier call seeded):
/// the newest [`OPEN_SEEDED`] sent and open, every older one sent and paid by one payment.
pub async fn seed_invoices(pool: &PgPool, invoices: u64, customers: u64) -> Result<Seeded, sqlx::Error> {
    let have: i64 =
        sqlx::query_scalar("select count(*) from invoices where customer_id like 'seed_%'").fetch_one(pool).await?;
    let missing = i64::try_from(invoices).unwrap_or(i64::MAX) - have;
    if missing > 0 {
        let mut tx = pool.begin().await?;
        // Invoice g was created g seconds ago (so later seeds are older history) and numbered
        // SEED-g; its due date is 30 days after.
        sqlx::query(
            "insert into invoices (invoice_id, tenant_id, customer_id, status, currency, total_cents, amount_paid_cents,
                                   due_date, created_at, updated_at, number, issued_at, issue_date, settled_on,
                                   seller, buyer)
             select gen_random_uuid(), 'default', 'seed_' || (g % $2), case when g <= $4 then 'sent' else 'paid' end,
                    'USD', 2000, case when g <= $4 then 0 else 2000 end,
                    ((now() - make_interval(secs => g * 3600)) at time zone 'utc')::date + 30,
                    now() - make_interval(secs => g), now(), 'SEED-' || g, now() - make_interval(secs => g),
                    ((now() - make_interval(secs => g)) at time zone 'utc')::date,
                    case when g > $4 then ((now() - make_interval(secs => g)) at time zone 'utc')::date end,
                    seller.snapshot, jsonb_build_object('customer_id', 'seed_' || (g % $2))
               from generate_series($3 + 1, $3 + $1) g, (select seller_snapshot('default') as snapshot) seller",
        )
        .bind(missing)
        .bind(i64::try_from(customers.max(1)).unwrap_or(1))
        .bind(have)
        .bind(OPEN_SEEDED)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into payments (payment_id, tenant_id, invoice_id, amount_cents, currency, method, reference, paid_at, created_at)
             select gen_random_uuid(), 'default', i.invoice_id, 2000, 'USD', 'bank_transfer', 'Seeded', i.issued_at, i.issued_at
               from invoices i
              where i.customer_id like 'seed_%' and i.status = 'paid'
                and not exists (select 1 from payments p where p.invoice_id = i.invoice_id)",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, line_total_cents)
             select i.invoice_id, n, 'default', 'Seeded line ' || n, 1000, 1, 1000
               from invoices i cross join generate_series(1, 2) n
              where i.customer_id like 'seed_%'
                and not exists (select 1 from invoice_lines l where l.invoice_id = i.invoice_id)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        // Settled before measuring, as books that grew over years would be: vacuumed (else
        // autovacuum works through the new rows during the measurement), analyzed, and
        // checkpointed where the login may (the private cluster's owner may).
        for table in ["invoices", "invoice_lines", "payments"] {
            sqlx::query(&format!("vacuum (analyze) {table}")).execute(pool).await?;
        }
        if let Err(e) = sqlx::query("checkpoint").execute(pool).await {
            eprintln!("# no checkpoint after seeding: {e}");
        }
        // The checkpoint hands the kernel a gigabyte of dirty pages at the largest size; its
        // writeback competed with the first measurement (list p99 at 100k moved 4.05 → 5.51 ms
        // between two runs). Wait for it where the cluster is this machine's.
        if let Err(e) = tokio::process::Command::new("sync").status().await {
            eprintln!("# no sync after seeding: {e}");
        }
    }
    let customers = (0..customers.max(1)).map(|c| format!("seed_{c}")).collect();
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "select invoice_id from invoices where customer_id like 'seed_%' order by random() limit 1000",
    )
    .fetch_all(pool)
    .await?;
    let invoice_ids = ids.into_iter().map(|id| crate::domain::InvoiceId(id).to_string()).collect();
    Ok(Seeded { customers, invoice_ids, tax_rates: vec![] })
}
