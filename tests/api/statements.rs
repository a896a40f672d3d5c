//! Every SQL statement Tally writes out in full is checked against the migrated schema: each is
//! prepared (Parse and Describe, nothing executed), so a misspelt column, a missing table or a
//! type Postgres cannot infer fails here, in every CI run, whether or not a test happens to take
//! the path that runs it. Statements are read from the source: the literal (or `format!` of a
//! literal and `const`s, or a `const`) given to `sqlx::query`, `query_as`, `query_scalar`.
//! Statements assembled at run time (`QueryBuilder` filters that come and go, the named-argument
//! call of `create_invoice_once`, the two insert macros of lines and audit records) run on every
//! write or are run by the integration tests that exercise each filter.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sqlx::Executor;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::pool;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A Rust string literal starting at `text[0] == '"'`: its value and the length it spans.
fn literal(text: &str) -> Option<(String, usize)> {
    let bytes: Vec<char> = text.chars().collect();
    if bytes.first() != Some(&'"') {
        return None;
    }
    let (mut out, mut i) = (String::new(), 1);
    let mut used = 1;
    while i < bytes.len() {
        let c = bytes[i];
        used += c.len_utf8();
        match c {
            '"' => return Some((out, used)),
            '\\' => {
                let next = bytes[i + 1];
                used += next.len_utf8();
                i += 2;
                match next {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    '\n' => {
                        // A line continuation: the newline and the next line's indentation go.
                        while i < bytes.len() && bytes[i].is_whitespace() {
                            used += bytes[i].len_utf8();
                            i += 1;
                        }
                    }
                    other => panic!("an escape the reader does not know: \\{other}"),
                }
                continue;
            }
            c => out.push(c),
        }
        i += 1;
    }
    None
}

/// Every `const NAME: &str = "…";` of one file.
fn consts(text: &str) -> HashMap<String, String> {
    let re = regex::Regex::new(r#"const ([A-Z_]+): &str =\s*"#).unwrap();
    let mut out = HashMap::new();
    for m in re.captures_iter(text) {
        let start = m.get(0).unwrap().end();
        if let Some((value, _)) = literal(&text[start..]) {
            out.insert(m[1].to_owned(), value);
        }
    }
    out
}

/// `{NAME}` placeholders of a `format!` string, filled from the crate's consts.
fn expand(template: &str, consts: &HashMap<String, String>) -> Option<String> {
    let re = regex::Regex::new(r"\{([A-Z_]+)\}").unwrap();
    let mut missing = false;
    let out = re.replace_all(template, |c: &regex::Captures| match consts.get(&c[1]) {
        Some(v) => v.clone(),
        None => {
            missing = true;
            String::new()
        }
    });
    let unresolved = regex::Regex::new(r"\{[a-z_0-9]*\}").unwrap().is_match(&out);
    (!missing && !unresolved).then(|| out.into_owned())
}

/// The statements of one file: (line, SQL).
fn statements(text: &str, consts: &HashMap<String, String>) -> Vec<(usize, String)> {
    let call = regex::Regex::new(r"sqlx::(query|query_as|query_scalar)(::<[^>]*>)?\(\s*").unwrap();
    let mut out = Vec::new();
    for m in call.find_iter(text) {
        let rest = &text[m.end()..];
        let line = text[..m.start()].lines().count();
        let sql = if rest.starts_with('"') {
            literal(rest).map(|(s, _)| s)
        } else if let Some(after) = rest.strip_prefix("&format!(") {
            literal(after.trim_start()).and_then(|(s, _)| expand(&s, consts))
        } else {
            let name: String = rest.chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
            consts.get(&name).cloned()
        };
        match sql {
            Some(sql) => out.push((line, sql)),
            // A statement built at run time (a macro, a QueryBuilder's text): not read here.
            None => continue,
        }
    }
    out
}

#[sqlx::test]
async fn every_statement_written_in_full_prepares_against_the_schema(o: PgPoolOptions, c: PgConnectOptions) {
    let db = pool(o, c).await;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: Vec<(PathBuf, String)> =
        paths.into_iter().map(|p| (p.clone(), std::fs::read_to_string(p).unwrap())).collect();
    // A name is the file's own const first (several files have a COLUMNS), else the crate's.
    let crate_consts: HashMap<String, String> = files.iter().flat_map(|(_, text)| consts(text)).collect();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut conn = db.acquire().await.unwrap();
    // bench/ seeds the load generator's peer, whose tables are the peer's own, not Tally's.
    for (path, text) in files.iter().filter(|(p, _)| !p.starts_with(src.join("bench"))) {
        let mut known = crate_consts.clone();
        known.extend(consts(text));
        for (line, sql) in statements(text, &known) {
            checked += 1;
            if let Err(e) = (&mut *conn).prepare(sql.as_str()).await {
                failures.push(format!("{}:{line}: {e}\n  {sql}", path.strip_prefix(&src).unwrap().display()));
            }
        }
    }
    assert!(failures.is_empty(), "statements Postgres refuses to prepare:\n{}", failures.join("\n"));
    // Guards the reader itself: if it stopped finding statements, this test would pass vacuously.
    assert!(checked >= 45, "only {checked} statements were found in src/");
    eprintln!("prepared {checked} statements");
}

#[test]
fn the_reader_reads_literals_and_formats() {
    let consts: HashMap<String, String> = [("COLS".to_owned(), "a, b".to_owned())].into();
    let text = r#"sqlx::query("select 1 \
        from t where x = $1") sqlx::query_as(&format!("select {COLS} from t")) sqlx::query_scalar(Q)"#;
    let got: Vec<String> = statements(text, &consts).into_iter().map(|(_, s)| s).collect();
    assert_eq!(got, ["select 1 from t where x = $1", "select a, b from t"]);
}
