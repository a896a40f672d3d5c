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

/// The modules of one folder (its files and subfolders), each with the siblings it names.
/// A sibling is named as `super::x` from a file of the folder, `self::x` / `x::` from its
/// `mod.rs`, or by its full path `crate::…::x`; a name the folder's `mod.rs` re-exports is not an
/// edge (the folder's face, not a module).
fn sibling_graph(src: &Path, folder: &Path) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut modules: Vec<(String, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if path.is_dir() || (path.extension().is_some_and(|e| e == "rs") && name != "mod") {
            modules.push((name, path));
        }
    }
    let names: BTreeSet<String> = modules.iter().map(|(n, _)| n.clone()).collect();
    let crate_path = {
        let rel = folder.strip_prefix(src).unwrap();
        let parts: Vec<&str> = rel.components().map(|c| c.as_os_str().to_str().unwrap()).collect();
        format!("crate::{}::", parts.join("::"))
    };
    let mut graph = std::collections::BTreeMap::new();
    for (name, path) in &modules {
        let mut texts = Vec::new();
        if path.is_dir() {
            let mut inner = Vec::new();
            files(path, &mut inner);
            texts.extend(inner.iter().map(|f| (f.clone(), std::fs::read_to_string(f).unwrap())));
        } else {
            texts.push((path.clone(), std::fs::read_to_string(path).unwrap()));
        }
        let mut to = BTreeSet::new();
        for (file, text) in texts {
            // How a file inside this module reaches the folder: super:: from its top file,
            // super::super:: from one level down, and so on.
            let depth = file.strip_prefix(path).map_or(0, |r| r.components().count());
            let up = if path.is_dir() {
                let in_mod_rs = file.file_name().is_some_and(|f| f == "mod.rs");
                "super::".repeat(if in_mod_rs { depth } else { depth.max(1) })
            } else {
                "super::".to_owned()
            };
            let text: String =
                text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            for sibling in &names {
                if sibling == name {
                    continue;
                }
                let named = |prefix: &str| {
                    text.contains(&format!("{prefix}{sibling}::"))
                        || text.contains(&format!("{prefix}{{{sibling}"))
                        || text.contains(&format!("{prefix}{sibling},"))
                        || text.contains(&format!("{prefix}{sibling};"))
                        || text.contains(&format!("{prefix}{sibling}}}"))
                };
                if (!up.is_empty() && named(&up)) || named(&crate_path) {
                    to.insert(sibling.clone());
                }
            }
        }
        graph.insert(name.clone(), to);
    }
    graph
}

/// Every folder of `src/`, each module reaching its siblings: none may reach itself back.
#[test]
fn no_import_cycles_inside_folders() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut folders = vec![src.clone()];
    let mut i = 0;
    while i < folders.len() {
        for entry in std::fs::read_dir(&folders[i]).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            }
        }
        i += 1;
    }
    let mut cycles = Vec::new();
    for folder in folders.iter().skip(1) {
        let graph = sibling_graph(&src, folder);
        for start in graph.keys() {
            // Depth-first from `start`: a path back to it is a cycle.
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((at, path)) = stack.pop() {
                for next in &graph[&at] {
                    if next == start {
                        let mut cycle = path.clone();
                        cycle.push(start.clone());
                        cycles.push(format!(
                            "{}: {}",
                            folder.strip_prefix(&src).unwrap().display(),
                            cycle.join(" -> ")
                        ));
                    } else if seen.insert(next.clone()) {
                        let mut p = path.clone();
                        p.push(next.clone());
                        stack.push((next.clone(), p));
                    }
                }
            }
        }
    }
    cycles.sort();
    cycles.dedup();
    assert!(cycles.is_empty(), "import cycles between sibling modules:\n{}", cycles.join("\n"));
}
