//! Scenario tests for [`ToolSchema`] using a `create_invoice`-like schema.

use serde_json::{Value, json};

use super::*;

fn invoice_schema() -> ToolSchema {
    ToolSchema::new()
        .param(
            "customer_id",
            string()
                .min_len(1)
                .max_len(64)
                .pattern("^[A-Za-z0-9_.:-]+$")
                .describe("The business's own customer key, e.g. cust_42"),
        )
        .param(
            "line_items",
            array(
                object()
                    .field("description", string().min_len(1).max_len(500).describe("What was sold"))
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
        .param("send", boolean().optional().describe("Send now"))
        .param("email", string().format(Format::Email).optional().describe("Billing e-mail"))
}

fn item(amount: Value) -> Value {
    json!({"description": "Widget", "amount_cents": amount})
}

fn valid_args() -> Value {
    json!({"customer_id": "cust_42", "line_items": [item(json!(500))]})
}

fn errors(args: Value) -> Vec<FieldError> {
    invoice_schema().validate(&args).expect_err("should be invalid")
}

fn with(key: &str, value: Value) -> Value {
    let mut args = valid_args();
    args[key] = value;
    args
}

fn single(args: Value) -> FieldError {
    let errs = errors(args);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    errs.into_iter().next().unwrap()
}

#[test]
fn every_field_is_documented() {
    assert!(invoice_schema().undocumented_fields().is_empty());
    let s = ToolSchema::new().param("a", array(object().field("b", integer())).describe("a"));
    assert_eq!(s.undocumented_fields(), vec!["a[].b".to_owned()]);
}

#[test]
fn empty_schema_publishes_empty_object() {
    assert_eq!(
        ToolSchema::new().json_schema(),
        json!({"$schema": DIALECT, "type": "object", "properties": {}, "additionalProperties": false})
    );
    assert_eq!(ToolSchema::new().validate(&Value::Null), Ok(json!({})));
}

#[test]
fn published_schema_shape() {
    let s = invoice_schema().json_schema();
    assert_eq!(s["$schema"], DIALECT);
    assert_eq!(s["required"], json!(["customer_id", "line_items"]));
    assert_eq!(s["additionalProperties"], json!(false));
    let items = &s["properties"]["line_items"]["items"];
    assert_eq!(items["additionalProperties"], json!(false));
    assert!(items.get("$schema").is_none());
    assert_eq!(items["properties"]["quantity"]["default"], json!(1));
    assert_eq!(s["properties"]["due_date"]["format"], json!("date"));
    assert_eq!(s["properties"]["email"]["format"], json!("email"));
    let schema = invoice_schema();
    let names: Vec<&str> = schema.params().map(|(n, _)| n).collect();
    assert_eq!(names[..2], ["customer_id", "line_items"]);
}

#[test]
fn defaults_are_filled_in_including_array_items() {
    let out = invoice_schema().validate(&valid_args()).unwrap();
    assert_eq!(out["currency"], json!("USD"));
    assert_eq!(out["line_items"][0]["quantity"], json!(1));
    assert!(out.get("due_date").is_none());
}

#[test]
fn null_optional_is_absent_and_null_required_is_required() {
    let out = invoice_schema().validate(&with("currency", Value::Null)).unwrap();
    assert_eq!(out["currency"], json!("USD"));
    let out = invoice_schema().validate(&with("status", Value::Null)).unwrap();
    assert!(out.get("status").is_none());
    let e = single(with("customer_id", Value::Null));
    assert_eq!((e.path.as_str(), e.code), ("customer_id", codes::REQUIRED));
    assert_eq!(e.received, Some(Value::Null));
}

#[test]
fn missing_required_fields() {
    let errs = errors(json!({}));
    let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.path.as_str(), e.code)).collect();
    assert_eq!(got, [("customer_id", "required"), ("line_items", "required")]);
    assert_eq!(errs[0].received, None);
    assert_eq!(errs[0].expected, "string of 1..=64 characters matching ^[A-Za-z0-9_.:-]+$");
}

#[test]
fn non_object_root() {
    let errs = invoice_schema().validate(&json!([1])).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].path.as_str(), errs[0].code), ("", codes::INVALID_TYPE));
}

#[test]
fn nested_path_and_range_message() {
    let mut args = valid_args();
    args["line_items"] = json!([item(json!(1)), item(json!(2)), item(json!(-5))]);
    let e = single(args);
    assert_eq!(e.path, "line_items[2].amount_cents");
    assert_eq!(e.code, codes::OUT_OF_RANGE);
    assert_eq!(e.message, "line_items[2].amount_cents must be an integer between 0 and 10000000000; got -5.");
    assert_eq!(e.allowed, Some(json!({"min": 0, "max": 10_000_000_000_i64})));
    assert_eq!(e.received, Some(json!(-5)));
}

#[test]
fn all_errors_are_collected_in_order() {
    let args = json!({
        "customer_id": "",
        "line_items": [item(json!("1")), item(json!(10.5)), {"amount_cents": 1, "qty": 2}],
        "due_date": "2023-02-30",
        "currency": "usd",
        "status": "Paid",
        "send": "yes",
        "email": "nope",
        "zzz": 1,
        "custmer_id": "x",
    });
    let got: Vec<(String, &str)> = errors(args).into_iter().map(|e| (e.path, e.code)).collect();
    let want = [
        ("customer_id", "too_short"),
        ("customer_id", "pattern_mismatch"),
        ("line_items[0].amount_cents", "invalid_type"),
        ("line_items[1].amount_cents", "invalid_type"),
        ("line_items[2].description", "required"),
        ("line_items[2].qty", "unknown_field"),
        ("due_date", "invalid_format"),
        ("currency", "invalid_format"),
        ("status", "not_allowed"),
        ("send", "invalid_type"),
        ("email", "invalid_format"),
        ("custmer_id", "unknown_field"),
        ("zzz", "unknown_field"),
    ];
    let want: Vec<(String, &str)> = want.iter().map(|(p, c)| ((*p).to_owned(), *c)).collect();
    assert_eq!(got, want);
}

#[test]
fn integers_are_strict() {
    for bad in [json!(10.0), json!(10.5), json!("1000"), json!(true)] {
        let mut args = valid_args();
        args["line_items"][0]["amount_cents"] = bad;
        let e = single(args);
        assert_eq!(e.code, codes::INVALID_TYPE);
        assert!(e.message.contains("must be an integer between"), "{}", e.message);
    }
    let mut args = valid_args();
    args["line_items"][0]["amount_cents"] = json!(u64::MAX);
    assert_eq!(single(args).code, codes::OUT_OF_RANGE);
}

#[test]
fn unknown_field_suggestions() {
    for typo in ["customer_ID", "custmer_id", "customerId"] {
        let mut args = valid_args();
        args[typo] = json!("x");
        let e = single(args);
        assert_eq!((e.path.as_str(), e.code), (typo, codes::UNKNOWN_FIELD));
        assert_eq!(e.suggestion.as_deref(), Some("did you mean `customer_id`?"));
        assert!(e.message.contains("did you mean `customer_id`?"));
        assert_eq!(e.allowed.as_ref().unwrap()[0], json!("customer_id"));
    }
    let e = single(with("frobnicate", json!(1)));
    assert_eq!(e.suggestion, None);
}

#[test]
fn enum_errors_list_allowed_values() {
    let e = single(with("status", json!("Paid")));
    assert_eq!(e.allowed, Some(json!(["draft", "sent", "paid", "overdue", "void"])));
    assert_eq!(e.suggestion.as_deref(), Some("did you mean `paid`?"));
    assert_eq!(e.received, Some(json!("Paid")));
}

#[test]
fn long_values_are_truncated_and_containers_summarized() {
    let e = single(with("customer_id", json!("a".repeat(200))));
    assert_eq!(e.code, codes::TOO_LONG);
    assert_eq!(e.received, Some(json!(format!("{}…", "a".repeat(80)))));
    assert!(e.message.contains("got 200 characters"));
    let e = single(with("send", json!({"a": 1, "b": 2, "c": 3})));
    assert_eq!(e.received, Some(json!("object with 3 fields")));
}

#[test]
fn string_lengths_count_chars() {
    let out = invoice_schema().validate(&with("due_date", json!("2024-02-29")));
    assert!(out.is_ok());
    let s = ToolSchema::new().param("n", string().max_len(3).describe("n"));
    assert!(s.validate(&json!({"n": "ééé"})).is_ok());
    assert_eq!(s.validate(&json!({"n": "éééé"})).unwrap_err()[0].code, codes::TOO_LONG);
}

#[test]
fn item_counts() {
    let e = single(with("line_items", json!([])));
    assert_eq!(e.code, codes::TOO_FEW_ITEMS);
    assert_eq!(e.received, Some(json!("array of 0 items")));
    let items: Vec<Value> = (0..101).map(|_| item(json!(1))).collect();
    assert_eq!(single(with("line_items", json!(items))).code, codes::TOO_MANY_ITEMS);
    let errs = errors(with("line_items", json!([1, 2, 3])));
    assert_eq!(errs.len(), 3);
    assert!(errs.iter().all(|e| e.code == codes::INVALID_TYPE));
}

#[test]
fn nullable_values_are_kept() {
    let s = ToolSchema::new()
        .param("a", string().nullable().describe("a"))
        .param("b", integer().nullable().default(json!(3)).describe("b"));
    assert_eq!(s.validate(&json!({"a": null, "b": null})), Ok(json!({"a": null, "b": null})));
    assert_eq!(s.validate(&json!({"a": "x"})), Ok(json!({"a": "x", "b": 3})));
    assert_eq!(s.validate(&json!({})).unwrap_err()[0].code, codes::REQUIRED);
}

#[test]
#[should_panic(expected = "invalid default")]
fn invalid_defaults_panic() {
    let _ = ToolSchema::new().param("n", integer().range(1, 5).default(json!(9)).describe("n"));
}

#[test]
#[should_panic(expected = "only valid on string()")]
fn misplaced_modifiers_panic() {
    let _ = integer().min_len(1);
}

#[test]
fn an_empty_key_is_named_by_its_parent() {
    let schema = ToolSchema::new().param("a", super::string().optional().describe("a"));
    let errs = schema.validate(&json!({"": 1})).unwrap_err();
    assert_eq!((errs[0].path.as_str(), errs[0].code), ("", codes::UNKNOWN_FIELD));
    assert_eq!(errs[0].message, "arguments holds an empty key (\"\"), which is not a recognized field; remove it.");
}
