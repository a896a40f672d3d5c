//! Resource URIs' variables: percent-encoding (RFC 6570 simple expansion) and its inverse.

/// Percent-encodes a template variable's value (RFC 6570 simple expansion: only unreserved
/// characters stay as they are).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A percent-encoded segment, decoded; None when it is not valid percent-encoded UTF-8.
pub fn decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        for id in ["cust_42", "a:b@c.d-e", "x y/ü"] {
            assert_eq!(decode(&encode(id)).as_deref(), Some(id));
        }
        assert_eq!(encode("a:b@c"), "a%3Ab%40c");
    }
}
