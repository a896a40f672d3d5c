//! "Did you mean …?" suggestions for misspelled field names and enum values.

use strsim::{jaro_winkler, normalized_levenshtein};

/// Minimum normalized Levenshtein similarity for a suggestion.
const MIN_LEVENSHTEIN: f64 = 0.6;
/// Minimum Jaro-Winkler similarity for a suggestion.
const MIN_JARO_WINKLER: f64 = 0.85;

/// Lowercases and drops `_`/`-` so `customerId`, `customer_ID` and
/// `customer-id` all compare equal to `customer_id`.
fn normalize(s: &str) -> String {
    s.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect()
}

/// Picks the candidate closest to `input`, if any is close enough.
///
/// A candidate equal after normalization (lowercased, `_`/`-` removed) wins outright; otherwise the best
/// candidate by similarity is returned when its normalized Levenshtein
/// similarity is ≥ 0.6 or its Jaro-Winkler similarity is ≥ 0.85.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = normalize(input);
    let mut best: Option<(&str, f64)> = None;
    for candidate in candidates {
        let norm = normalize(candidate);
        if norm == wanted {
            return Some(candidate);
        }
        let lev = normalized_levenshtein(&wanted, &norm);
        let jw = jaro_winkler(&wanted, &norm);
        if lev < MIN_LEVENSHTEIN && jw < MIN_JARO_WINKLER {
            continue;
        }
        let score = lev.max(jw);
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((candidate, score));
        }
    }
    best.map(|(c, _)| c)
}

/// Formats a suggestion sentence for the closest candidate, if any.
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(input, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: [&str; 4] = ["customer_id", "line_items", "due_date", "currency"];

    #[test]
    fn case_and_style_variants() {
        assert_eq!(closest("customer_ID", FIELDS), Some("customer_id"));
        assert_eq!(closest("customerId", FIELDS), Some("customer_id"));
        assert_eq!(closest("LineItems", FIELDS), Some("line_items"));
    }

    #[test]
    fn typos() {
        assert_eq!(closest("custmer_id", FIELDS), Some("customer_id"));
        assert_eq!(closest("curency", FIELDS), Some("currency"));
        assert_eq!(closest("duedate_", FIELDS), Some("due_date"));
    }

    #[test]
    fn unrelated_names_get_no_suggestion() {
        assert_eq!(closest("zzz", FIELDS), None);
        assert_eq!(closest("send_email", FIELDS), None);
        assert_eq!(did_you_mean("x", FIELDS), None);
        assert_eq!(did_you_mean("custmer_id", FIELDS).as_deref(), Some("did you mean `customer_id`?"));
    }
}
