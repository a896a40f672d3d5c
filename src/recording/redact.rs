//! Secrets never reach a recording: values under secret-looking keys are replaced. (Headers,
//! where Authorization lives, are never recorded at all.)

use serde_json::Value;

const SECRET_KEYS: [&str; 7] = ["authorization", "token", "secret", "password", "api_key", "apikey", "credential"];

/// Keys that name a secret-looking word but hold none: an idempotency key, and an access token's
/// id and name (what an invoice's history shows of who made a change).
const NOT_SECRETS: [&str; 3] = ["idempotency_key", "token_id", "token_name"];

pub const REDACTED: &str = "[redacted]";

pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let key = key.to_ascii_lowercase().replace('-', "_");
                if SECRET_KEYS.iter().any(|s| key.contains(s))
                    && !key.ends_with("_key_id")
                    && !NOT_SECRETS.contains(&key.as_str())
                {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_are_replaced_at_any_depth() {
        let mut v = json!({"params": {"_meta": {"Authorization": "Bearer x", "api-key": "k"},
                                      "arguments": {"idempotency_key": "keep", "memo": "keep", "items": [{"access_token": "t"}]}}});
        redact(&mut v);
        assert_eq!(v["params"]["_meta"]["Authorization"], REDACTED);
        assert_eq!(v["params"]["_meta"]["api-key"], REDACTED);
        assert_eq!(v["params"]["arguments"]["items"][0]["access_token"], REDACTED);
        assert_eq!(v["params"]["arguments"]["idempotency_key"], "keep", "idempotency keys are not secrets");
        assert_eq!(v["params"]["arguments"]["memo"], "keep");
        let mut history = json!({"history": [{"token_id": "0190", "token_name": "billing agent", "token": "tally_x"}]});
        redact(&mut history);
        assert_eq!(history["history"][0]["token_id"], "0190", "a token's id and name are not secrets");
        assert_eq!(history["history"][0]["token_name"], "billing agent");
        assert_eq!(history["history"][0]["token"], REDACTED);
    }
}
