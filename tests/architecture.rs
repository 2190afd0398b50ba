//! The shape of the house, checked so that it stays as docs/ARCHITECTURE.md draws it: which
//! crate may depend on which, no import circle between the files of a crate, and no source
//! file over 600 lines.
//!
//! The import graph is read from the source text: every `crate::...`, `super::...` and
//! `self::...` path (including those inside `use` groups) is resolved to the file of the
//! longest module prefix it names. A file that re-exports its children (`pub use child::X`)
//! and a child that imports through its parent (`super::X`) form a circle: children import
//! their siblings directly (`super::sibling::X`), so that a parent module is only a table of
//! contents.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The longest a source file may be, tests included.
const MAX_LINES: usize = 600;

/// Each workspace crate and the tokenfleet crates it may depend on (normal dependencies).
/// The order is the layering: a crate lists only crates above it in this table.
const ALLOWED: &[(&str, &[&str])] = &[
    ("models", &[]),
    ("sim/engine", &[]),
    ("sim/workload", &["models", "engine"]),
    ("sim/setup", &["models", "engine", "workload"]),
    ("sim/scenario", &["models", "engine", "workload", "setup"]),
    ("sim/serving", &["models", "engine", "setup"]),
    (
        "sim/fleet",
        &["models", "engine", "workload", "setup", "serving"],
    ),
    (
        "sim/analysis",
        &[
            "models", "engine", "workload", "setup", "scenario", "serving", "fleet",
        ],
    ),
    ("sim/calibrate", &["models", "engine", "setup", "serving"]),
    (
        "reports",
        &[
            "models", "engine", "workload", "setup", "serving", "fleet", "analysis",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            if name != "target" && !name.starts_with('.') && name != "fixtures" {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_source_file_is_over_600_lines() {
    let mut files = Vec::new();
    for d in ["models", "sim", "reports", "src", "tests", "benches"] {
        rust_files(&root().join(d), &mut files);
    }
    assert!(files.len() > 50, "found {} files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = fs::read_to_string(f).unwrap().lines().count();
            (n > MAX_LINES).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines (split by concept):\n{}",
        long.join("\n")
    );
}

/// The `tokenfleet-*` names in a manifest's `[dependencies]` table.
fn tokenfleet_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(manifest).unwrap();
    let mut deps = BTreeSet::new();
    let mut in_deps = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_deps = l == "[dependencies]";
            continue;
        }
        if in_deps && let Some(name) = l.strip_prefix("tokenfleet-") {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            deps.insert(name);
        }
    }
    deps
}

#[test]
fn crates_depend_only_downwards() {
    let members = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for (dir, allowed) in ALLOWED {
        assert!(
            members.contains(&format!("\"{dir}\"")),
            "{dir} is not a workspace member"
        );
        let deps = tokenfleet_dependencies(&root().join(dir).join("Cargo.toml"));
        let extra: Vec<&String> = deps
            .iter()
            .filter(|d| !allowed.contains(&d.as_str()))
            .collect();
        assert!(
            extra.is_empty(),
            "{dir} depends on {extra:?}; allowed: {allowed:?} (docs/ARCHITECTURE.md)"
        );
    }
}

/// Text with comments, string literals and char literals blanked out, so that a path in a
/// doc comment or a message is not read as an import.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(b' ');
        } else if b[i..].starts_with(b"r#\"") {
            while i < b.len() && !b[i..].starts_with(b"\"#") {
                i += 1;
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Expands the path tree at `s` (after `crate::` or `super::`): `a::{b, c::d}` gives
/// `a::b`, `a::c::d`.
fn path_tree(s: &str) -> (Vec<Vec<String>>, usize) {
    let s_bytes = s.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < s_bytes.len() && (s_bytes[*i] as char).is_whitespace() {
            *i += 1;
        }
    };
    if s_bytes.first() == Some(&b'{') {
        i += 1;
        let mut all = Vec::new();
        loop {
            skip_ws(&mut i);
            match s_bytes.get(i) {
                None => break,
                Some(b'}') => {
                    i += 1;
                    break;
                }
                Some(b',') => i += 1,
                _ => {
                    let (sub, n) = path_tree(&s[i..]);
                    all.extend(sub);
                    i += n.max(1);
                }
            }
        }
        return (all, i);
    }
    let n = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let name = s[..n].to_string();
    i = n;
    if s[i..].starts_with("::") {
        let (sub, m) = path_tree(&s[i + 2..]);
        let out = sub
            .into_iter()
            .map(|mut p| {
                p.insert(0, name.clone());
                p
            })
            .collect();
        return (out, i + 2 + m);
    }
    (vec![vec![name]], i)
}

/// A crate's files by module path (`[]` is lib.rs).
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            (parts, f)
        })
        .collect()
}

/// The file a path names: the longest prefix that is a module of the crate.
fn resolve<'a>(
    mods: &'a BTreeMap<Vec<String>, PathBuf>,
    path: &[String],
) -> Option<&'a Vec<String>> {
    (0..=path.len())
        .rev()
        .find_map(|n| mods.get_key_value(&path[..n]).map(|(k, _)| k))
}

/// Import edges between a crate's files (module path to module path).
fn import_graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mods = modules(src);
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (me, file) in &mods {
        let code = code_only(&fs::read_to_string(file).unwrap());
        // A module's own path: mod.rs and lib.rs are the directory's module.
        let mut edges = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // `tokenfleet_crate::` and the like
            }
            let (paths, _) = path_tree(&code[at + 7..]);
            for p in paths {
                if let Some(m) = resolve(&mods, &p) {
                    edges.insert(m.clone());
                }
            }
        }
        for (at, _) in code.match_indices("super::") {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue; // the second `super::` of `super::super::`, handled below
            }
            let mut base = me.clone();
            let mut rest = &code[at..];
            // Inside a file's inline test module the first `super` is the file itself.
            let mut inline = code[..at].contains("mod tests");
            while let Some(r) = rest.strip_prefix("super::") {
                if inline {
                    inline = false;
                } else {
                    base.pop();
                }
                rest = r;
            }
            let (paths, _) = path_tree(rest);
            for p in paths {
                let mut full = base.clone();
                full.extend(p);
                if let Some(m) = resolve(&mods, &full) {
                    edges.insert(m.clone());
                }
            }
        }
        // `use child::X` and `use self::child::X`: a module's own children.
        for (at, _) in code.match_indices("use ") {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let rest = code[at + 4..].trim_start();
            let rest = rest.strip_prefix("self::").unwrap_or(rest);
            let (paths, _) = path_tree(rest);
            for p in paths {
                let mut full = me.clone();
                full.extend(p);
                if full.len() > me.len()
                    && let Some(m) = resolve(&mods, &full)
                    && m.len() > me.len()
                {
                    edges.insert(m.clone());
                }
            }
        }
        edges.remove(me);
        graph.insert(me.clone(), edges);
    }
    graph
}

/// A circle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        n: &Vec<String>,
        g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|x| x == m).unwrap();
                    let mut c = stack[at..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n).copied().unwrap_or(0) == 0
            && let Some(c) = visit(n, graph, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_import_circles_between_files() {
    let mut crates: Vec<PathBuf> = ALLOWED
        .iter()
        .map(|(d, _)| root().join(d).join("src"))
        .collect();
    crates.push(root().join("src"));
    let mut circles = Vec::new();
    for src in &crates {
        let g = import_graph(src);
        assert!(!g.is_empty(), "{}: no files", src.display());
        if let Some(c) = find_cycle(&g) {
            let names: Vec<String> = c
                .iter()
                .map(|m| {
                    if m.is_empty() {
                        "lib".into()
                    } else {
                        m.join("::")
                    }
                })
                .collect();
            circles.push(format!("{}: {}", src.display(), names.join(" -> ")));
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_circle_finder_finds_circles() {
    // A file graph with a parent that re-exports a child which imports through the parent.
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path();
    fs::create_dir_all(src.join("a")).unwrap();
    fs::write(src.join("lib.rs"), "mod a;\n").unwrap();
    fs::write(
        src.join("a/mod.rs"),
        "mod b;\npub use b::X;\npub struct Y;\n",
    )
    .unwrap();
    fs::write(src.join("a/b.rs"), "use super::Y;\npub struct X;\n").unwrap();
    let c = find_cycle(&import_graph(src)).expect("a circle");
    assert!(c.contains(&vec!["a".to_string()]), "{c:?}");
    // Importing the sibling directly breaks it.
    fs::write(src.join("a/y.rs"), "pub struct Y;\n").unwrap();
    fs::write(src.join("a/mod.rs"), "mod b;\nmod y;\npub use b::X;\n").unwrap();
    fs::write(src.join("a/b.rs"), "use super::y::Y;\npub struct X;\n").unwrap();
    assert_eq!(find_cycle(&import_graph(src)), None);
}
