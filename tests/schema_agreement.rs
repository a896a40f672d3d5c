//! Property tests: the builder's `validate` and an independent JSON Schema
//! validator (`jsonschema`, formats enabled) agree on generated arguments.

mod support;

use std::collections::BTreeSet;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use support::schema_gen::arb_args;
use tally::schema::{Format, ToolSchema, array, boolean, codes, enumeration, integer, object, string};
use tally::tools::declare::Declared;
use tally::tools::invoices::{CreateInvoiceParams, ListInvoicesParams};

/// A sample with every kind of field and format (the real tools together have them too, but
/// no single one does), so one generator run can produce every error code.
fn every_kind_of_field() -> ToolSchema {
    ToolSchema::new()
        .param(
            "customer_id",
            string()
                .min_len(1)
                .max_len(64)
                .pattern("^[A-Za-z0-9_.:-]+$")
                .describe("The business's own customer key, e.g. a CRM id like cust_42"),
        )
        .param(
            "line_items",
            array(
                object()
                    .field("description", string().min_len(1).max_len(500).describe("Line text"))
                    .field("amount_cents", integer().range(0, 10_000_000_000).describe("Unit price"))
                    .field("quantity", integer().range(1, 1_000_000).default(json!(1)).describe("Units")),
            )
            .min_items(1)
            .max_items(100)
            .describe("Invoice lines"),
        )
        .param("due_date", string().format(Format::Date).optional().describe("Due date"))
        .param("currency", string().format(Format::Currency).default(json!("USD")).describe("Currency"))
        .param("status", enumeration(&["draft", "sent", "paid", "overdue", "void"]).optional().describe("Status"))
        .param("send", boolean().optional().describe("Send immediately"))
        .param("email", string().format(Format::Email).optional().describe("Billing e-mail"))
        .param("memo", string().multiline().max_len(40).optional().describe("Several lines"))
}

/// The independent validator: formats enforced, `iso-4217` registered.
fn oracle(published: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .with_format("iso-4217", is_money)
        .build(published)
        .expect("published schema must be a valid JSON Schema")
}

/// The currencies an invoice can be in, written independently of Tally's rule: ISO-4217 codes
/// with a minor unit that ISO flags neither fund, special nor superseded.
fn is_money(code: &str) -> bool {
    iso_currency::Currency::from_code(code).is_some_and(|c| c.exponent().is_some() && c.flags().is_empty())
}

fn check_agreement(tool: &ToolSchema, cases: u32) {
    let published = tool.json_schema();
    let oracle = oracle(&published);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&arb_args(&published), |doc| {
        let ours = tool.validate(&doc);
        proptest::prop_assert_eq!(ours.is_ok(), oracle.is_valid(&doc), "doc: {}\nours: {:?}", doc, ours);
        if let Ok(normalized) = &ours {
            proptest::prop_assert!(oracle.is_valid(normalized), "normalized: {}", normalized);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn every_kind_of_field_agrees_with_jsonschema() {
    check_agreement(&every_kind_of_field(), 3000);
}

/// The real tools' own declarations (not hand-written copies), with more cases than the sweep
/// over every tool below.
#[test]
fn create_and_list_invoices_agree_with_jsonschema() {
    check_agreement(&CreateInvoiceParams::schema(), 3000);
    check_agreement(&ListInvoicesParams::schema(), 2000);
}

/// The generator must exercise both verdicts and every error code.
#[test]
fn generator_covers_valid_invalid_and_all_codes() {
    let tool = every_kind_of_field();
    let strategy = arb_args(&tool.json_schema());
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut seen) = (0, BTreeSet::new());
    let samples = 1500;
    for _ in 0..samples {
        let doc = strategy.new_tree(&mut runner).expect("sample").current();
        match tool.validate(&doc) {
            Ok(_) => ok += 1,
            Err(errors) => seen.extend(errors.iter().map(|e| e.code)),
        }
    }
    assert!(ok > samples / 5 && ok < samples * 4 / 5, "valid share: {ok}/{samples}");
    let all = [
        codes::REQUIRED,
        codes::INVALID_TYPE,
        codes::TOO_SHORT,
        codes::TOO_LONG,
        codes::PATTERN_MISMATCH,
        codes::INVALID_FORMAT,
        codes::OUT_OF_RANGE,
        codes::NOT_ALLOWED,
        codes::UNKNOWN_FIELD,
        codes::TOO_FEW_ITEMS,
        codes::TOO_MANY_ITEMS,
        codes::INVALID_CHARACTER,
    ];
    let missing: Vec<&str> = all.into_iter().filter(|c| !seen.contains(c)).collect();
    assert!(missing.is_empty(), "codes never produced: {missing:?}");
}

/// The real tools: every published input schema agrees with the independent validator, and
/// every field, input and output, is described for the agent.
#[tokio::test]
async fn every_registered_tool_agrees_with_jsonschema() {
    let pool = sqlx::PgPool::connect_lazy("postgres://unused@127.0.0.1:1/unused").unwrap();
    let registry = tally::app::registry(&pool);
    let names: Vec<&str> = registry.names().collect();
    assert!(names.len() >= 3, "{names:?}");
    for name in names {
        let def = registry.definition(name).unwrap();
        assert_eq!(def.input.undocumented_fields(), Vec::<String>::new(), "{name} input");
        assert_eq!(def.output.undocumented_fields(), Vec::<String>::new(), "{name} output");
        oracle(&def.output.output_json_schema());
        check_agreement(&def.input, 800);
    }
}

/// One declaration per tool: every declared field agrees with the Rust type its handler reads
/// (JSON type, optionality, integer range, enum values, nested objects).
#[tokio::test]
async fn every_tool_declaration_agrees_with_its_types() {
    let pool = sqlx::PgPool::connect_lazy("postgres://unused@127.0.0.1:1/unused").unwrap();
    let registry = tally::app::registry(&pool);
    assert_eq!(registry.type_disagreements(), Vec::<(&str, Vec<String>)>::new());
}
