//! Structural comparison with bound values.
//!
//! - A string the server invented differently each run (one holding a run of 16+ hex digits:
//!   invoice, payment and session ids; or a cursor) is bound on first sight, recorded → new,
//!   and from then on must stay bound the same way; requests get the new values substituted.
//! - RFC 3339 times compare by format; so do dates, unless the client itself sent that date.
//! - Text blocks that hold JSON are compared as JSON.
//! - Who made a change (`token_id`, `token_name` in an invoice's history) is the replayer's own
//!   token, not the recorded caller's: those compare by type (a string or null).
//! - A `tools/list` answer may hold tools added since the recording; every recorded tool must
//!   still be there, unchanged, in the same order.
//! - An object may hold members added since the recording (a result gains a field); every
//!   recorded member must still be there, equal. Nothing recorded may change or go.
//! - Everything else, invoice numbers and amounts included, must be equal.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

/// Keys whose values are opaque tokens the server makes anew each run.
const OPAQUE_KEYS: [&str; 3] = ["next_cursor", "nextCursor", "cursor"];
/// Values that name the caller, which a replay replaces with its own.
const PRINCIPAL_KEYS: [&str; 2] = ["token_id", "token_name"];
/// Numbers that measure time rather than state.
const VOLATILE_NUMBERS: [&str; 1] = ["retry_after_ms"];

#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub path: String,
    pub expected: String,
    pub actual: String,
}

impl Mismatch {
    pub fn transport(error: String) -> Self {
        Self { path: "(transport)".into(), expected: "an answer".into(), actual: error }
    }
}

#[derive(Debug, Default)]
pub struct Bindings {
    /// recorded → new
    map: HashMap<String, String>,
    /// new values already bound, so two recorded values cannot bind to one new value
    bound: HashSet<String>,
    /// every string leaf the client has sent, after substitution
    sent: HashSet<String>,
    /// new invoice number − recorded one: a replay on a database that has numbered before
    /// may be offset, but the offset must hold for the whole session (no gap, no repeat).
    number_offset: Option<i64>,
}

impl Bindings {
    /// The recorded request with bound values replaced, inside strings too.
    pub fn substitute(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.substitute_str(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.substitute(v)).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), self.substitute(v))).collect()),
            other => other.clone(),
        }
    }

    fn substitute_str(&self, s: &str) -> String {
        if let Some(new) = self.map.get(s) {
            return new.clone();
        }
        let mut out = s.to_owned();
        for (old, new) in &self.map {
            if old.len() >= 16 && out.contains(old.as_str()) {
                out = out.replace(old.as_str(), new);
            }
        }
        out
    }

    /// Remembers what the client sent: values it chose must come back exactly.
    pub fn note_sent(&mut self, request: &Value) {
        match request {
            Value::String(s) => {
                self.sent.insert(s.clone());
            }
            Value::Array(items) => items.iter().for_each(|v| self.note_sent(v)),
            Value::Object(map) => map.values().for_each(|v| self.note_sent(v)),
            _ => {}
        }
    }

    /// Compares `actual` with `expected`, binding as it goes; pushes every difference.
    pub fn compare(&mut self, expected: &Value, actual: &Value, path: &str, out: &mut Vec<Mismatch>) {
        let key = path.rsplit(['.', '[']).next().unwrap_or("");
        let name_or_null = |v: &Value| v.is_string() || v.is_null();
        match (expected, actual) {
            (e, a) if PRINCIPAL_KEYS.contains(&key) && name_or_null(e) && name_or_null(a) => {}
            (Value::String(e), Value::String(a)) => self.compare_str(e, a, key, path, out),
            (Value::Object(e), Value::Object(a)) => {
                for (k, ev) in e {
                    let child = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    match a.get(k) {
                        Some(av) => self.compare(ev, av, &child, out),
                        None => {
                            out.push(Mismatch { path: child, expected: ev.to_string(), actual: "(missing)".into() })
                        }
                    }
                }
            }
            (Value::Array(e), Value::Array(a)) if key == "tools" && named_tools(e) && named_tools(a) => {
                self.compare_tools(e, a, path, out)
            }
            (Value::Array(e), Value::Array(a)) => {
                if e.len() != a.len() {
                    out.push(Mismatch {
                        path: format!("{path} (length)"),
                        expected: e.len().to_string(),
                        actual: a.len().to_string(),
                    });
                }
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    self.compare(ev, av, &format!("{path}[{i}]"), out);
                }
            }
            (Value::Number(_), Value::Number(_)) if VOLATILE_NUMBERS.contains(&key) => {}
            (e, a) if e == a => {}
            (e, a) => out.push(Mismatch { path: path.to_owned(), expected: e.to_string(), actual: a.to_string() }),
        }
    }

    /// A `tools/list` answer: every recorded tool must still be served, unchanged and in the same
    /// order relative to the others; tools added since the recording are accepted.
    fn compare_tools(&mut self, e: &[Value], a: &[Value], path: &str, out: &mut Vec<Mismatch>) {
        let mut from = 0;
        for ev in e {
            let name = &ev["name"];
            match a.iter().enumerate().skip(from).find(|(_, av)| &av["name"] == name) {
                Some((i, av)) => {
                    self.compare(ev, av, &format!("{path}[{}]", name.as_str().unwrap_or_default()), out);
                    from = i + 1;
                }
                None => out.push(Mismatch {
                    path: format!("{path}[{name}]"),
                    expected: format!("tool {name} (in the recorded order)"),
                    actual: "(missing or moved)".into(),
                }),
            }
        }
    }

    fn compare_str(&mut self, e: &str, a: &str, key: &str, path: &str, out: &mut Vec<Mismatch>) {
        if key == "number"
            && let (Some((ep, en)), Some((ap, an))) = (numbered(e), numbered(a))
        {
            let offset = *self.number_offset.get_or_insert(an - en);
            if ep != ap || an - en != offset {
                let expected = format!("{e:?} (numbers offset by {offset} in this replay)");
                out.push(Mismatch { path: path.to_owned(), expected, actual: format!("{a:?}") });
            }
            return;
        }
        if e == a && !self.map.contains_key(e) {
            return;
        }
        if let Some(bound) = self.map.get(e) {
            if bound == a {
                return;
            }
            let expected = format!("{e:?} (bound earlier to {bound:?})");
            out.push(Mismatch { path: path.to_owned(), expected, actual: format!("{a:?}") });
            return;
        }
        // Text content that is JSON: compare the structure, not the spelling.
        if let (Ok(ej @ (Value::Object(_) | Value::Array(_))), Ok(aj)) =
            (serde_json::from_str::<Value>(e), serde_json::from_str::<Value>(a))
        {
            return self.compare(&ej, &aj, &format!("{path}(json)"), out);
        }
        let client_sent = self.sent.contains(e);
        if !client_sent && is_timestamp(e) && is_timestamp(a) {
            return;
        }
        if !client_sent && is_date(e) && is_date(a) {
            return;
        }
        let opaque = OPAQUE_KEYS.contains(&key);
        if !client_sent && (opaque || (is_invented(e) && shape(e) == shape(a))) && !self.bound.contains(a) {
            self.map.insert(e.to_owned(), a.to_owned());
            self.bound.insert(a.to_owned());
            return;
        }
        // A longer string that embeds bound values (an error message naming an id, say).
        let substituted = self.substitute_str(e);
        if substituted == a {
            return;
        }
        out.push(Mismatch { path: path.to_owned(), expected: format!("{e:?}"), actual: format!("{a:?}") });
    }
}

/// A list of tool objects, each with a name.
fn named_tools(items: &[Value]) -> bool {
    items.iter().all(|t| t["name"].is_string())
}

/// Holds a run of 16 or more hex digits: a UUID-based id or a session id.
fn is_invented(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run >= 16 {
            return true;
        }
    }
    false
}

/// Hex digits become `h`: every `inv_` + 32 hex digits has one shape, `INV-000001` another.
fn shape(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_hexdigit() { 'h' } else { c }).collect()
}

/// `INV-000042` → ("INV-", 42).
fn numbered(s: &str) -> Option<(&str, i64)> {
    let digits = s.len() - s.chars().rev().take_while(char::is_ascii_digit).count();
    let (prefix, n) = s.split_at(digits);
    n.parse().ok().map(|n| (prefix, n))
}

fn is_timestamp(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(b: &mut Bindings, e: Value, a: Value) -> Vec<Mismatch> {
        let mut out = Vec::new();
        b.compare(&e, &a, "", &mut out);
        out
    }

    #[test]
    fn invented_ids_bind_on_first_sight_and_flow_into_requests() {
        let mut b = Bindings::default();
        let (old, new) = ("inv_0192aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "inv_0193bbbbbbbbbbbbbbbbbbbbbbbbbbbb");
        assert!(
            diff(
                &mut b,
                json!({"invoice_id": old, "number": "INV-000001"}),
                json!({"invoice_id": new, "number": "INV-000001"})
            )
            .is_empty()
        );
        let request =
            b.substitute(&json!({"params": {"arguments": {"invoice_id": old}, "note": format!("see {old}")}}));
        assert_eq!(request["params"]["arguments"]["invoice_id"], new);
        assert_eq!(request["params"]["note"], format!("see {new}"));
        let wrong =
            diff(&mut b, json!({"invoice_id": old}), json!({"invoice_id": "inv_0194cccccccccccccccccccccccccccc"}));
        assert_eq!(wrong[0].path, "invoice_id", "a bound value must stay bound");
    }

    /// The `tools/list` answer of a committed recording, as a fixture.
    fn recorded_tools() -> Value {
        let text = include_str!("../../tests/sessions/readme_snippet.jsonl");
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|r| r["message"]["result"].get("tools").cloned())
            .expect("the recording lists its tools")
    }

    #[test]
    fn a_tool_added_since_the_recording_is_accepted() {
        let recorded = recorded_tools();
        let Value::Array(tools) = recorded.clone() else { panic!("tools is a list") };
        let added = json!({"name": "added_later", "title": "Added later", "description": "x", "inputSchema": {}});
        // At the end, and in the middle: both keep the recorded tools' order.
        for at in [tools.len(), 1] {
            let mut now = tools.clone();
            now.insert(at, added.clone());
            let out = diff(&mut Bindings::default(), json!({"tools": recorded}), json!({"tools": now}));
            assert!(out.is_empty(), "{out:?}");
        }
    }

    #[test]
    fn a_removed_or_changed_tool_still_fails() {
        let Value::Array(tools) = recorded_tools() else { panic!("tools is a list") };
        let mut removed = tools.clone();
        removed.remove(0);
        let out = diff(&mut Bindings::default(), json!({"tools": tools}), json!({"tools": removed}));
        assert_eq!(out.len(), 1, "{out:?}");
        let mut changed = tools.clone();
        changed[0]["description"] = json!("something else");
        let out = diff(&mut Bindings::default(), json!({"tools": tools}), json!({"tools": changed}));
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].path.ends_with(".description"), "{out:?}");
    }

    #[test]
    fn what_is_deterministic_must_be_equal() {
        let mut b = Bindings::default();
        let out = diff(
            &mut b,
            json!({"a": {"status": "sent", "total_cents": 100}}),
            json!({"a": {"status": "paid", "total_cents": 101}}),
        );
        let paths: Vec<&str> = out.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["a.status", "a.total_cents"]);
        let out = diff(&mut b, json!([1, 2]), json!([1]));
        assert_eq!(out[0].path, " (length)");
    }

    #[test]
    fn times_and_server_dates_by_format_client_dates_exactly() {
        let mut b = Bindings::default();
        assert!(
            diff(
                &mut b,
                json!({"at": "2026-11-25T08:00:00Z", "due": "2026-12-25"}),
                json!({"at": "2026-12-01T09:30:00.5Z", "due": "2027-01-01"})
            )
            .is_empty()
        );
        b.note_sent(&json!({"due_date": "2030-01-31"}));
        assert_eq!(diff(&mut b, json!({"due": "2030-01-31"}), json!({"due": "2030-02-01"})).len(), 1);
        assert_eq!(diff(&mut b, json!({"at": "2026-11-25T08:00:00Z"}), json!({"at": "yesterday"})).len(), 1);
    }

    #[test]
    fn invoice_numbers_may_be_offset_but_never_skip() {
        let mut b = Bindings::default();
        assert!(diff(&mut b, json!({"number": "INV-000001"}), json!({"number": "INV-000017"})).is_empty());
        assert!(diff(&mut b, json!({"number": "INV-000002"}), json!({"number": "INV-000018"})).is_empty());
        assert_eq!(diff(&mut b, json!({"number": "INV-000003"}), json!({"number": "INV-000020"}))[0].path, "number");
        assert_eq!(diff(&mut b, json!({"number": "INV-000003"}), json!({"number": "BILL-000019"}))[0].path, "number");
    }

    #[test]
    fn json_text_blocks_compare_as_json_with_paths() {
        let mut b = Bindings::default();
        let out = diff(&mut b, json!({"text": "{\"a\":1,\"b\":2}"}), json!({"text": "{\"b\":2,\"a\":3}"}));
        assert_eq!(out[0].path, "text(json).a");
    }

    #[test]
    fn who_made_a_change_is_the_replayers_own_token() {
        let mut b = Bindings::default();
        let recorded = json!({"history": [{"token_id": null, "token_name": null, "role": "admin"}]});
        let replayed = json!({"history": [{"token_id": "01a2", "token_name": "replayer", "role": "admin"}]});
        assert!(diff(&mut b, recorded.clone(), replayed).is_empty());
        let other_role = json!({"history": [{"token_id": null, "token_name": null, "role": "clerk"}]});
        assert_eq!(diff(&mut b, recorded, other_role).len(), 1, "the role must still match");
    }

    #[test]
    fn volatile_durations_compare_by_type() {
        let mut b = Bindings::default();
        assert!(diff(&mut b, json!({"retry_after_ms": 480}), json!({"retry_after_ms": 497})).is_empty());
    }
}
