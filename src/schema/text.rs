//! The text rule every string field obeys: what an agent may put in a string so that it can be
//! stored exactly (Postgres refuses U+0000 in `text`) and shown safely (in a PDF, a CSV export,
//! a terminal tailing the logs).
//!
//! Refused everywhere: the C0 controls U+0000–U+001F, DEL and the C1 controls U+007F–U+009F
//! (NUL, escape sequences, a bare carriage return that overwrites a terminal line), the line
//! and paragraph separators U+2028/U+2029 (a line break in disguise), and the bidirectional
//! embeddings, overrides and isolates U+202A–U+202E, U+2066–U+2069 (they reorder what a reader
//! sees: "Trojan source"). Everything else — every script, emoji, combining marks, the
//! left-to-right and right-to-left marks that real right-to-left text uses — is accepted and
//! stored exactly as sent.
//!
//! A field declared [`multiline`](super::Field::multiline) (a memo, notes) also accepts tab,
//! line feed and CR LF; a lone carriage return stays refused.
//!
//! The rule is published as a `pattern` (each pattern below is valid in both Rust `regex` and
//! ECMA-262, so any JSON Schema validator agrees with [`TextRule::first_violation`]). A field
//! with its own pattern publishes only that one: [`Field::pattern`](super::Field::pattern)
//! proves, when the schema is declared, that the pattern admits no refused character.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Which text a string field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRule {
    /// One line of text (names, descriptions, references, keys): the default.
    Line,
    /// Several lines: also tab, line feed and CR LF.
    Lines,
}

/// The published form of [`TextRule::Line`].
pub const LINE_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]*$";

/// The published form of [`TextRule::Lines`].
pub const LINES_PATTERN: &str =
    r"^(?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]|\r\n)*$";

/// Code point ranges refused in every string, inclusive.
const REFUSED: [(char, char); 5] = [
    ('\u{0000}', '\u{001F}'),
    ('\u{007F}', '\u{009F}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2066}', '\u{2069}'),
];

/// A refused character found in a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Violation {
    /// Position in Unicode characters, counted from 1.
    pub position: usize,
    /// The character itself.
    pub character: char,
}

impl Violation {
    /// `U+0000 (NUL)`, `U+202E (right-to-left override)`.
    pub fn describe(&self) -> String {
        let name = match self.character {
            '\0' => "NUL",
            '\t' => "tab",
            '\n' => "line feed",
            '\r' => "carriage return",
            '\u{1B}' => "escape",
            '\u{7F}' => "delete",
            '\u{2028}' => "line separator",
            '\u{2029}' => "paragraph separator",
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "bidirectional control",
            _ => "control character",
        };
        format!("U+{:04X} ({name})", u32::from(self.character))
    }
}

fn refused_everywhere(c: char) -> bool {
    REFUSED.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c))
}

impl TextRule {
    /// The `pattern` published for a field with no pattern of its own.
    pub fn pattern(self) -> &'static str {
        match self {
            TextRule::Line => LINE_PATTERN,
            TextRule::Lines => LINES_PATTERN,
        }
    }

    /// What the rule accepts, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            TextRule::Line => "single-line text without control characters",
            TextRule::Lines => "text without control characters (tab, line feed and CR LF are allowed)",
        }
    }

    /// The first refused character of `s`, if any.
    pub fn first_violation(self, s: &str) -> Option<Violation> {
        let mut chars = s.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            let allowed = match (self, c) {
                (TextRule::Lines, '\t' | '\n') => true,
                (TextRule::Lines, '\r') => chars.peek().is_some_and(|(_, next)| *next == '\n'),
                _ => !refused_everywhere(c),
            };
            if !allowed {
                return Some(Violation { position: i + 1, character: c });
            }
        }
        None
    }
}

/// Whether every string `source` matches obeys [`TextRule::Line`]: true when no character a
/// match can contain is refused. Decided on the parsed pattern, so it is a proof, not a test.
pub fn pattern_is_single_line_text(source: &str) -> bool {
    match regex_syntax::Parser::new().parse(source) {
        Ok(hir) => admits_no_refused(&hir),
        Err(_) => false,
    }
}

fn admits_no_refused(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(lit) => std::str::from_utf8(&lit.0).is_ok_and(|s| !s.chars().any(refused_everywhere)),
        HirKind::Class(Class::Unicode(class)) => {
            class.iter().all(|range| !REFUSED.iter().any(|(lo, hi)| range.start() <= *hi && *lo <= range.end()))
        }
        // A byte class only arises from non-Unicode patterns, which the builder never declares.
        HirKind::Class(Class::Bytes(_)) => false,
        HirKind::Repetition(rep) => admits_no_refused(&rep.sub),
        HirKind::Capture(cap) => admits_no_refused(&cap.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().all(admits_no_refused),
    }
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    #[test]
    fn line_refuses_controls_separators_and_bidi_overrides() {
        for bad in ["a\0b", "\u{1b}[31mred", "a\nb", "a\tb", "a\rb", "\u{85}", "\u{7f}", "x\u{2028}", "\u{202E}abc"] {
            assert!(TextRule::Line.first_violation(bad).is_some(), "{bad:?}");
        }
        for good in ["Acme Ltd", "Ωμέγα ΑΕ", "ООО «Ромашка»", "株式会社", "café ☕ 👩‍💻", "שלום\u{200F}", ""]
        {
            assert_eq!(TextRule::Line.first_violation(good), None, "{good:?}");
        }
    }

    #[test]
    fn lines_allow_tab_lf_and_crlf_only() {
        assert_eq!(TextRule::Lines.first_violation("a\tb\nc\r\nd"), None);
        let v = TextRule::Lines.first_violation("ab\rc").unwrap();
        assert_eq!((v.position, v.character), (3, '\r'));
        assert!(TextRule::Lines.first_violation("x\0").is_some());
        assert!(TextRule::Lines.first_violation("\r").is_some());
    }

    #[test]
    fn published_patterns_agree_with_the_rule() {
        let samples = [
            "plain", "a\0", "a\n", "a\r\n", "a\r", "\t", "\u{9f}", "\u{a0}", "\u{2027}", "\u{2028}", "\u{202a}",
            "\u{2065}", "\u{2066}", "\u{2069}", "\u{206a}", "😀", "",
        ];
        for rule in [TextRule::Line, TextRule::Lines] {
            let re = Regex::new(rule.pattern()).unwrap();
            for s in samples {
                assert_eq!(re.is_match(s), rule.first_violation(s).is_none(), "{rule:?} {s:?}");
            }
        }
    }

    #[test]
    fn patterns_are_proven_safe_or_not() {
        assert!(pattern_is_single_line_text("^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"));
        assert!(pattern_is_single_line_text("^inv_[0-9a-f]{32}$"));
        assert!(pattern_is_single_line_text(LINE_PATTERN));
        assert!(!pattern_is_single_line_text(LINES_PATTERN));
        assert!(!pattern_is_single_line_text("^.*$"));
        assert!(!pattern_is_single_line_text("^[^a]+$"));
        assert!(!pattern_is_single_line_text("^a\\x00$"));
    }
}
