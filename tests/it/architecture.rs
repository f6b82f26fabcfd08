//! Architecture invariants, read off the source: no import cycle between the files of `src/`
//! (a parent module and its own submodules aside), and the ground floor (`src/vocab.rs`)
//! imports nothing of the crate. `cargo test --test it architecture` runs just these.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A file's module path: `src/runner/docker/mod.rs` is `runner::docker`.
type Module = Vec<String>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of_file(file: &Path) -> Module {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        parts.clear();
    }
    parts
}

/// The text without comments and string literals (they may name paths they do not use).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, in_string) {
                ('\\', true) => {
                    chars.next();
                }
                ('"', _) => in_string = !in_string,
                ('/', false) if chars.peek() == Some(&'/') => break,
                (c, false) => out.push(c),
                (_, true) => {}
            }
        }
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path a file names that starts at `crate`, `super` or `self`, made absolute, with
/// the items of `use crate::a::{b, c::d}` groups.
fn referenced_paths(module: &Module, code: &str) -> Vec<Module> {
    let mut refs = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !is_ident(chars[i - 1]);
        let rest: String = chars[i..chars.len().min(i + 7)].iter().collect();
        let head = ["crate::", "super::", "self::"]
            .into_iter()
            .find(|h| rest.starts_with(h));
        let Some(head) = head.filter(|_| starts_word) else {
            i += 1;
            continue;
        };
        let (segments, end) = path_at(&chars, i + head.len());
        // `use super::*` names no module of its own (a test module taking its parent's items).
        if !segments.is_empty() {
            refs.extend(absolute(module, head, &segments));
        }
        if chars.get(end) == Some(&'{') {
            let close = (end..chars.len()).find(|&j| chars[j] == '}').unwrap_or(end);
            let group: String = chars[end + 1..close].iter().collect();
            for item in group.split(',') {
                let item = item.split(" as ").next().unwrap().trim();
                let mut full = segments.clone();
                full.extend(
                    item.split("::")
                        .filter(|s| !s.is_empty() && *s != "self")
                        .map(String::from),
                );
                refs.extend(absolute(module, head, &full));
            }
        }
        i = end.max(i + 1);
    }
    refs
}

/// The `a::b::c` path starting at `at`, and where it ends (at a `{` for a group).
fn path_at(chars: &[char], mut at: usize) -> (Vec<String>, usize) {
    let mut segments = Vec::new();
    loop {
        let start = at;
        while at < chars.len() && is_ident(chars[at]) {
            at += 1;
        }
        if at > start {
            segments.push(chars[start..at].iter().collect());
        }
        if chars.get(at) == Some(&':') && chars.get(at + 1) == Some(&':') {
            at += 2;
        } else {
            return (segments, at);
        }
    }
}

fn absolute(module: &Module, head: &str, segments: &[String]) -> Option<Module> {
    let mut base = match head {
        "crate::" => Vec::new(),
        "self::" => module.clone(),
        // `super` of a file module is its parent module.
        _ => module[..module.len().saturating_sub(1)].to_vec(),
    };
    let mut rest = segments;
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Which file's module a path lands in: the longest prefix that is one.
fn owner(path: &Module, modules: &BTreeSet<Module>) -> Option<Module> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| modules.contains(m))
}

/// Edges between files, a parent module and its own submodules left out (a trait in mod.rs,
/// its implementations in children, refer to each other by design).
fn module_graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let texts: Vec<(Module, String)> = files
        .iter()
        .map(|f| {
            (
                module_of_file(f),
                code_only(&fs_err::read_to_string(f).unwrap()),
            )
        })
        .collect();
    let modules: BTreeSet<Module> = texts.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = BTreeMap::new();
    for (module, code) in &texts {
        let edges: BTreeSet<Module> = referenced_paths(module, code)
            .iter()
            .filter_map(|p| owner(p, &modules))
            .filter(|to| !to.starts_with(module) && !module.starts_with(to))
            .collect();
        graph.insert(module.clone(), edges);
    }
    graph
}

fn reaches(graph: &BTreeMap<Module, BTreeSet<Module>>, from: &Module, to: &Module) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.clone()];
    while let Some(m) = todo.pop() {
        if &m == to {
            return true;
        }
        if seen.insert(m.clone()) {
            todo.extend(graph.get(&m).into_iter().flatten().cloned());
        }
    }
    false
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

#[test]
fn no_file_of_src_imports_another_that_imports_it_back() {
    let graph = module_graph();
    let cycles: Vec<String> = graph
        .iter()
        .flat_map(|(from, edges)| edges.iter().map(move |to| (from, to)))
        .filter(|(from, to)| reaches(&graph, to, from))
        .map(|(from, to)| format!("{} -> {} -> … -> {}", name(from), name(to), name(from)))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_ground_floor_imports_nothing_of_the_crate() {
    let code = code_only(&fs_err::read_to_string(src().join("vocab.rs")).unwrap());
    let module = vec!["vocab".to_string()];
    let outside: Vec<Module> = referenced_paths(&module, &code)
        .into_iter()
        .filter(|p| !p.starts_with(&module))
        .collect();
    assert!(outside.is_empty(), "vocab.rs names {outside:?}");
}

/// The check itself sees a cycle when there is one (two made-up files that use each other).
#[test]
fn a_cycle_is_seen() {
    let a = vec!["a".to_string()];
    let b = vec!["b".to_string()];
    let refs_a = referenced_paths(&a, &code_only("use crate::b::{Thing, other::X};"));
    let refs_b = referenced_paths(&b, &code_only("fn f() { super::a::g() } // crate::c"));
    let modules: BTreeSet<Module> = [a.clone(), b.clone()].into();
    let graph: BTreeMap<Module, BTreeSet<Module>> = [
        (
            a.clone(),
            refs_a.iter().filter_map(|p| owner(p, &modules)).collect(),
        ),
        (
            b.clone(),
            refs_b.iter().filter_map(|p| owner(p, &modules)).collect(),
        ),
    ]
    .into();
    assert!(
        reaches(&graph, &a, &b) && reaches(&graph, &b, &a),
        "{graph:?}"
    );
    assert!(
        !refs_b.iter().any(|p| p.starts_with(&["c".to_string()])),
        "comments are not code"
    );
}
