//! Proptest generators driven by a *published* JSON Schema value (not by the
//! builder's internals), so any tool's `inputSchema` can be fuzzed.
//!
//! [`arb_args`] yields mostly-valid argument documents; about two thirds of
//! them are "damaged": each node may be replaced by a near-miss value (wrong
//! type, out-of-range integer, too short/long string, pattern/format misses
//! such as `2023-02-30`, `XYZ`, `usd`, bad e-mails, too few/many items) and
//! each object may lose a required field or gain an unknown one. Damage is a
//! *candidate*: the test compares the verdicts of two validators.
//!
//! Supported keywords: `type` (string or array incl. `"null"`), `enum`,
//! `properties`, `required`, `items`, `minLength`, `maxLength`, `pattern`
//! (anchored `^…$`, simple classes; the text rule's two patterns get free text in many
//! scripts), `format` (`date`, `email`, `iso-4217`),
//! `minimum`, `maximum`, `minItems`, `maxItems`.
//!
//! Known, intentional gaps: integral floats such as `10.0` (JSON Schema calls
//! them integers; the builder rejects them) and a `null` root (the builder
//! treats it as `{}`) are never generated.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::string::string_regex;
use serde_json::{Map, Value, json};
use tally::schema::text::{LINE_PATTERN, LINES_PATTERN};

/// Arguments documents for the object schema `schema` (see module docs).
pub fn arb_args(schema: &Value) -> impl Strategy<Value = Value> + use<> {
    prop_oneof![1 => node(schema, false, true), 2 => node(schema, true, true)]
}

/// One value for schema node `s`; `damaged` enables near-miss mutations.
fn node(s: &Value, damaged: bool, root: bool) -> BoxedStrategy<Value> {
    let valid = valid_node(s, damaged);
    if damaged { prop_oneof![11 => valid, 1 => bad_node(s, root)].boxed() } else { valid }
}

fn types(s: &Value) -> Vec<&str> {
    match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

fn primary_type(s: &Value) -> &str {
    types(s).into_iter().find(|t| *t != "null").unwrap_or("null")
}

fn usize_kw(s: &Value, key: &str) -> Option<usize> {
    s[key].as_u64().map(|n| n as usize)
}

fn valid_node(s: &Value, damaged: bool) -> BoxedStrategy<Value> {
    if let Some(values) = s["enum"].as_array() {
        return select(values.clone()).boxed();
    }
    let value = match primary_type(s) {
        "string" => valid_string(s),
        "integer" => valid_integer(s),
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "array" => {
            let lo = usize_kw(s, "minItems").unwrap_or(0);
            let hi = usize_kw(s, "maxItems").unwrap_or(lo + 4).min(lo + 4);
            let item = node(&s["items"], damaged, false);
            proptest::collection::vec(item, lo..=hi).prop_map(Value::Array).boxed()
        }
        "object" => object(s, damaged),
        _ => Just(Value::Null).boxed(),
    };
    if types(s).contains(&"null") { prop_oneof![5 => value, 1 => Just(Value::Null)].boxed() } else { value }
}

fn valid_string(s: &Value) -> BoxedStrategy<Value> {
    let lo = usize_kw(s, "minLength").unwrap_or(0);
    let hi = usize_kw(s, "maxLength").unwrap_or(lo + 24).min(lo + 24);
    let strategy = match (s["format"].as_str(), s["pattern"].as_str()) {
        // The text rule's own patterns: free text in many scripts (and line breaks where allowed).
        (None, Some(LINE_PATTERN)) => text(lo, hi, false),
        (None, Some(LINES_PATTERN)) => text(lo, hi, true),
        (Some("date"), _) => prop_oneof![
            (1995..2105i32, 1..=12u32, 1..=28u32).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
            Just("2024-02-29".to_owned()),
        ]
        .boxed(),
        (Some("email"), _) => {
            string_regex("[a-z]{1,8}(\\.[a-z]{1,5})?@example\\.(com|org)").expect("email regex").boxed()
        }
        (Some("iso-4217"), _) => select(vec!["USD", "EUR", "JPY", "KWD", "GBP", "CHF"]).prop_map(str::to_owned).boxed(),
        (_, Some(pattern)) => {
            // The pattern decides the shape; only the declared bounds (not the plain-string
            // cap of lo + 24) filter it, or long fixed-shape ids would never be produced.
            let max = usize_kw(s, "maxLength").unwrap_or(usize::MAX);
            let body = pattern.trim_start_matches('^').trim_end_matches('$');
            string_regex(body)
                .expect("pattern must be a simple anchored regex")
                .prop_filter("length bounds", move |v| (lo..=max).contains(&v.chars().count()))
                .boxed()
        }
        _ => string_regex(&format!("[a-zA-Z0-9 é€]{{{lo},{hi}}}")).expect("plain string regex").boxed(),
    };
    strategy.prop_map(Value::String).boxed()
}

/// Text within `lo..=hi` characters: Latin, Greek, Cyrillic, CJK, Hebrew with its RTL mark,
/// emoji with a joiner; with `lines`, also tabs, line feeds and CR LF.
fn text(lo: usize, hi: usize, lines: bool) -> BoxedStrategy<String> {
    let piece = if lines {
        "([a-zA-Z0-9 é€Ωж中\u{5D0}\u{200F}😀\u{200D}]|\t|\n|\r\n)"
    } else {
        "[a-zA-Z0-9 é€Ωж中\u{5D0}\u{200F}😀\u{200D}]"
    };
    string_regex(&format!("{piece}{{{lo},{hi}}}"))
        .expect("text regex")
        .prop_filter("length bounds", move |v| (lo..=hi).contains(&v.chars().count()))
        .boxed()
}

fn valid_integer(s: &Value) -> BoxedStrategy<Value> {
    let lo = s["minimum"].as_i64().unwrap_or(-1_000);
    let hi = s["maximum"].as_i64().unwrap_or(lo.saturating_add(2_000));
    prop_oneof![1 => Just(lo), 1 => Just(hi), 4 => lo..=hi].prop_map(Value::from).boxed()
}

/// Object mutations applied after the properties are generated.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    DropRequired(usize),
    AddUnknown(String),
}

fn object(s: &Value, damaged: bool) -> BoxedStrategy<Value> {
    let empty = Map::new();
    let props = s["properties"].as_object().unwrap_or(&empty);
    let required: Vec<String> = s["required"]
        .as_array()
        .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let entries: Vec<BoxedStrategy<Option<(String, Value)>>> = props
        .iter()
        .map(|(name, p)| {
            let key = name.clone();
            let present = node(p, damaged, false).prop_map(move |v| Some((key.clone(), v)));
            if required.contains(name) { present.boxed() } else { prop_oneof![1 => Just(None), 2 => present].boxed() }
        })
        .collect();
    let mutation = if damaged {
        let mut unknown: Vec<String> = props.keys().flat_map(|k| [camel(k), k.to_uppercase()]).collect();
        unknown.push("zzz_extra".to_owned());
        unknown.retain(|u| !props.contains_key(u));
        let n_required = required.len().max(1);
        prop_oneof![
            8 => Just(Mutation::None),
            1 => (0..n_required).prop_map(Mutation::DropRequired),
            1 => select(unknown).prop_map(Mutation::AddUnknown),
        ]
        .boxed()
    } else {
        Just(Mutation::None).boxed()
    };
    (entries, mutation)
        .prop_map(move |(entries, mutation)| {
            let mut map: Map<String, Value> = entries.into_iter().flatten().collect();
            match mutation {
                Mutation::None => {}
                Mutation::DropRequired(i) => {
                    if let Some(name) = required.get(i) {
                        map.remove(name);
                    }
                }
                Mutation::AddUnknown(name) => {
                    map.insert(name, json!(1));
                }
            }
            Value::Object(map)
        })
        .boxed()
}

/// `customer_id` → `customerId`.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Near-miss candidates for node `s` (not guaranteed invalid).
fn bad_node(s: &Value, root: bool) -> BoxedStrategy<Value> {
    let ty = primary_type(s);
    let mut bad: Vec<Value> = match ty {
        "string" => vec![json!(5), json!(true), json!({}), json!([])],
        "integer" => vec![json!("1000"), json!(10.5), json!(true), json!(-0.25)],
        "boolean" => vec![json!("yes"), json!(1)],
        "array" => vec![json!("x"), json!({}), json!(3)],
        _ => vec![json!("x"), json!([]), json!(3)],
    };
    if !root && !types(s).contains(&"null") {
        bad.push(Value::Null);
    }
    if let Some(first) = s["enum"].as_array().and_then(|e| e.first()).and_then(Value::as_str) {
        bad.extend([json!("bogus"), json!(first.to_uppercase())]);
    } else if ty == "string" {
        string_candidates(s, &mut bad);
    }
    if ty == "integer" {
        let min = s["minimum"].as_i64();
        let max = s["maximum"].as_i64();
        bad.extend(min.and_then(|m| m.checked_sub(1)).map(Value::from));
        bad.extend(max.and_then(|m| m.checked_add(1)).map(Value::from));
        bad.push(json!(u64::MAX));
    }
    let mut options: Vec<BoxedStrategy<Value>> = vec![select(bad).boxed()];
    if ty == "array" {
        let item = valid_node(&s["items"], false);
        let counts = [usize_kw(s, "minItems").and_then(|n| n.checked_sub(1)), usize_kw(s, "maxItems").map(|n| n + 1)];
        for n in counts.into_iter().flatten() {
            options.push(proptest::collection::vec(item.clone(), n..=n).prop_map(Value::Array).boxed());
        }
    }
    Union::new(options).boxed()
}

fn string_candidates(s: &Value, bad: &mut Vec<Value>) {
    if let Some(lo) = usize_kw(s, "minLength").filter(|n| *n > 0) {
        bad.push(json!("a".repeat(lo - 1)));
    }
    if let Some(hi) = usize_kw(s, "maxLength") {
        bad.extend([json!("a".repeat(hi + 1)), json!("é".repeat(hi + 5))]);
    }
    match s["pattern"].as_str() {
        Some(LINE_PATTERN | LINES_PATTERN) | None => {}
        Some(_) => bad.extend([json!("has space!"), json!("ü")]),
    }
    // Hostile text, whatever the field: NUL, an escape sequence, a lone CR, a C1 control, a
    // bidi override, a line separator, and line breaks (fine only where several lines are).
    bad.extend(
        [
            "Acme\u{0}Ltd",
            "\u{1b}[31mred",
            "a\rb",
            "x\u{85}y",
            "\u{202E}evil",
            "a\u{2028}b",
            "two\nlines",
            "tab\there",
            "crlf\r\nok",
        ]
        .map(|v| json!(v)),
    );
    let extra: &[&str] = match s["format"].as_str() {
        Some("date") => &[
            "2023-02-30",
            "2023-02-29",
            "2023-13-01",
            "2023/01/01",
            "20230101",
            "2023-1-01",
            "1999-12-31",
            "2100-01-01",
            "0000-01-01",
            "9999-12-31",
        ],
        Some("email") => &["not-an-email", "ada@", "@example.com", "ada@@example.com", "a b@example.com"],
        Some("iso-4217") => &["XYZ", "usd", "US", "EURO", "ABC", "XXX", "XTS", "XAU", "XDR", "BOV", "HRK", "XOF"],
        _ => &[],
    };
    bad.extend(extra.iter().map(|v| json!(v)));
}
