//! Protocol revisions Tally speaks.

/// Handshake-era ("legacy") revisions, newest first.
pub const SUPPORTED: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];

/// What `initialize` answers when the client asks for a revision Tally does not speak.
pub const LATEST: &str = SUPPORTED[0];

/// The revision assumed over HTTP when a request carries no `MCP-Protocol-Version` header.
pub const ASSUMED_WITHOUT_HEADER: &str = "2025-03-26";

/// Echo the requested revision when supported, else offer the newest (the client decides).
pub fn negotiate(requested: &str) -> &'static str {
    SUPPORTED.iter().copied().find(|v| *v == requested).unwrap_or(LATEST)
}

pub fn is_supported(version: &str) -> bool {
    SUPPORTED.contains(&version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_supported_and_offers_latest_otherwise() {
        assert_eq!(negotiate("2025-06-18"), "2025-06-18");
        assert_eq!(negotiate("2024-11-05"), LATEST);
        assert_eq!(negotiate("2026-07-28"), LATEST);
    }
}
