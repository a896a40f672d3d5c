//! Secrets never reach a recording: values under secret-looking keys are replaced. (Headers,
//! where Authorization lives, are never recorded at all.)

use serde_json::Value;

const SECRET_KEYS: [&str; 7] = ["authorization", "token", "secret", "password", "api_key", "apikey", "credential"];

pub const REDACTED: &str = "[redacted]";

pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let key = key.to_ascii_lowercase().replace('-', "_");
                if SECRET_KEYS.iter().any(|s| key.contains(s)) && !key.ends_with("_key_id") && key != "idempotency_key"
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
    }
}
