//! The house reads top to bottom: every module imports only the layers below it. Each
//! top-level module of `src/` has a rank (outermost first); a `crate::x` path in a file may
//! name only its own module or one of a higher rank. A new module must be given a rank here.

use std::collections::BTreeSet;
use std::path::Path;

/// Outermost first. Equal ranks may not import each other.
const RANKS: &[(&str, u32)] = &[
    ("app", 0),
    ("admin", 1),
    ("bench", 1),
    ("replay", 1),
    ("telemetry", 1),
    ("config", 2),
    ("transport", 3),
    ("pipeline", 4),
    ("middleware", 5),
    ("recording", 5),
    ("mcp", 6),
    ("tools", 7),
    ("domain", 8),
    ("schema", 8),
    ("db", 9),
    ("render", 9),
];

fn rank(module: &str) -> u32 {
    RANKS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r).unwrap_or_else(|| panic!("give `{module}` a rank"))
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let path_re = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let mut violations = BTreeSet::new();
    for file in all {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str().to_str().unwrap().trim_end_matches(".rs");
        if matches!(top, "lib" | "main") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for m in path_re.captures_iter(&text) {
            // `params!` and `output!` are exported at the crate root but belong to the tools layer.
            let target = if matches!(&m[1], "params" | "output") { "tools" } else { &m[1] };
            if target != top && rank(target) <= rank(top) {
                violations.insert(format!("{} ({top}) imports {target}", relative.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "upward or sideways imports:\n{}",
        violations.into_iter().collect::<Vec<_>>().join("\n")
    );
}
