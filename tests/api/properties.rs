//! A property test over the tools: random sequences of operations on a few invoices keep the
//! invariants (paid ≤ total; paid iff nothing due; numbers gapless; every change audited), and
//! match a simple model of what each operation should have done.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{pool, spawn_app};

#[derive(Debug, Clone)]
enum Op {
    Create { slot: usize, cents: i64 },
    Update { slot: usize, cents: i64 },
    Send { slot: usize },
    Pay { slot: usize, cents: i64 },
    Void { slot: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..3usize;
    prop_oneof![
        1 => (slot.clone(), 0..5_000i64).prop_map(|(slot, cents)| Op::Create { slot, cents }),
        1 => (slot.clone(), 0..5_000i64).prop_map(|(slot, cents)| Op::Update { slot, cents }),
        2 => slot.clone().prop_map(|slot| Op::Send { slot }),
        3 => (slot.clone(), 1..3_000i64).prop_map(|(slot, cents)| Op::Pay { slot, cents }),
        1 => slot.prop_map(|slot| Op::Void { slot }),
    ]
}

/// What the model expects of one invoice.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Model {
    total: i64,
    paid: i64,
    status: &'static str,
}

#[sqlx::test]
async fn random_operation_sequences_keep_the_invariants(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let sequences = proptest::collection::vec(op(), 10..30);
    let mut runner = TestRunner::deterministic();
    let (mut writes, mut sent) = (0i64, 0usize);
    for round in 0..20 {
        let ops = sequences.new_tree(&mut runner).unwrap().current();
        // Invoices are sent only to customers Tally has a record of (one audited write).
        app.customer(&s, &format!("prop_{round}")).await;
        writes += 1;
        let mut slots: [Option<(String, Model)>; 3] = Default::default();
        for op in &ops {
            let (tool, args, slot) = match op {
                Op::Create { slot, cents } => {
                    let args = json!({"customer_id": format!("prop_{round}"), "line_items": [{"description": "x", "amount_cents": cents}]});
                    ("create_invoice", args, *slot)
                }
                Op::Update { slot, cents } => (
                    "update_draft_invoice",
                    json!({"line_items": [{"description": "y", "amount_cents": cents}]}),
                    *slot,
                ),
                Op::Send { slot } => ("send_invoice", json!({}), *slot),
                Op::Pay { slot, cents } => ("apply_payment", json!({"amount_cents": cents}), *slot),
                Op::Void { slot } => ("void_invoice", json!({"reason": "property test"}), *slot),
            };
            let mut args = args;
            let current = slots[slot].clone();
            if tool != "create_invoice" {
                let Some((id, _)) = &current else { continue };
                args["invoice_id"] = json!(id);
            }
            let result = app.call(&s, tool, args).await;
            let ok = result["isError"] == false;
            // The model: what should have happened.
            let expected_ok = match (op, current.map(|(_, m)| m)) {
                (Op::Create { .. }, _) => true,
                (Op::Update { .. }, Some(m)) => m.status == "draft",
                (Op::Send { .. }, Some(m)) => m.status == "draft" && m.total > 0,
                (Op::Pay { cents, .. }, Some(m)) => m.status == "sent" && *cents <= m.total - m.paid,
                (Op::Void { .. }, Some(m)) => m.status == "draft" || (m.status == "sent" && m.paid == 0),
                (_, None) => unreachable!(),
            };
            assert_eq!(ok, expected_ok, "round {round}, {op:?}: {result}");
            if !ok {
                continue;
            }
            writes += 1;
            let model = match (op, &slots[slot]) {
                (Op::Create { cents, .. }, _) => Model { total: *cents, paid: 0, status: "draft" },
                (Op::Update { cents, .. }, Some((_, m))) => Model { total: *cents, ..*m },
                (Op::Send { .. }, Some((_, m))) => {
                    sent += 1;
                    Model { status: "sent", ..*m }
                }
                (Op::Pay { cents, .. }, Some((_, m))) => {
                    let paid = m.paid + cents;
                    Model { paid, status: if paid == m.total { "paid" } else { "sent" }, ..*m }
                }
                (Op::Void { .. }, Some((_, m))) => Model { status: "void", ..*m },
                (_, None) => unreachable!(),
            };
            let id = match op {
                Op::Create { .. } => result["structuredContent"]["invoice_id"].as_str().unwrap().to_owned(),
                _ => slots[slot].as_ref().unwrap().0.clone(),
            };
            let stored = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
            assert_eq!(
                (stored["total_cents"].as_i64(), stored["amount_paid_cents"].as_i64()),
                (Some(model.total), Some(model.paid)),
                "round {round}, {op:?}"
            );
            let status = stored["status"].as_str().unwrap();
            assert!(status == model.status || (model.status == "sent" && status == "overdue"), "{status} vs {model:?}");
            slots[slot] = Some((id, model));
        }
    }
    // Invariants over everything written.
    let broken: i64 = sqlx::query_scalar(
        "select count(*) from invoices where amount_paid_cents > total_cents
            or (status = 'paid') <> (amount_paid_cents = total_cents and status <> 'void' and number is not null)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(broken, 0);
    let numbers: Vec<String> =
        sqlx::query_scalar("select number from invoices where number is not null order by number")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let expected: Vec<String> = (1..=numbers.len()).map(|n| format!("INV-{n:06}")).collect();
    assert_eq!(numbers, expected, "gapless");
    assert_eq!(numbers.len(), sent);
    assert_eq!(app.count("audit_events").await, writes, "every change, and only changes, audited");
    let paid_sum: Option<i64> =
        sqlx::query_scalar("select sum(amount_cents)::bigint from payments").fetch_one(&app.pool).await.unwrap();
    let recorded: Option<i64> =
        sqlx::query_scalar("select sum(amount_paid_cents)::bigint from invoices").fetch_one(&app.pool).await.unwrap();
    assert_eq!(paid_sum.unwrap_or(0), recorded.unwrap_or(0), "payments add up to what invoices record");
}
