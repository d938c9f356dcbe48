//! The structural rules of ARCHITECTURE.md's invariants ("Structure"; issue #15), checked on
//! the workspace's sources:
//!
//! 1. No Rust source file in a crate's `src/` tree (or `fuzz/fuzz_targets`) is over 600 lines,
//!    except test files: files named `tests.rs` and files under a `tests/` folder.
//! 2. No import cycle between the modules of a crate. A module is a file (`foo.rs`,
//!    `foo/mod.rs`; `lib.rs` and `main.rs` are the crate root). Every path in code that starts
//!    with `crate::`, `super::` or `self::` (each leaf of a `use` group too) is an edge to the
//!    deepest module it names. Comments and `#[cfg(test)]` items are not code; an edge between
//!    a module and its own ancestor or descendant (a parent re-exporting its children) is
//!    allowed.
//!
//! Each checker is also tested on small in-memory crates, so that a passing run means something.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

/// The crates whose `src/` trees both rules read, relative to the workspace root.
const CRATES: [&str; 6] = [
    "sync-core",
    "server",
    "client-sdk",
    "client-sdk/ffi",
    "tests",
    "tests/support",
];

/// Rule 1 also reads the fuzz targets, when there are any.
const FUZZ_TARGETS: &str = "fuzz/fuzz_targets";

fn workspace_root() -> PathBuf {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests.parent().expect("tests/ has a parent").to_path_buf()
}

/// Every `.rs` file under `dir` (none if `dir` does not exist), relative to `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let Ok(entries) = fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for entry in entries {
            let path = rel.join(entry.expect("directory entry").file_name());
            if dir.join(&path).is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

// Rule 1: file size.

/// A file named `tests.rs` or under a `tests/` folder of its source tree.
fn is_test_file(rel: &Path) -> bool {
    let in_tests = rel
        .parent()
        .is_some_and(|dir| dir.iter().any(|part| part == "tests"));
    in_tests || rel.file_name().is_some_and(|name| name == "tests.rs")
}

/// The line count of a file that breaks rule 1, `None` for a file that keeps it.
fn too_long(rel: &Path, text: &str) -> Option<usize> {
    let lines = text.lines().count();
    (lines > MAX_LINES && !is_test_file(rel)).then_some(lines)
}

#[test]
fn no_source_file_is_over_600_lines() {
    let root = workspace_root();
    let mut trees: Vec<String> = CRATES.iter().map(|krate| format!("{krate}/src")).collect();
    trees.push(FUZZ_TARGETS.into());
    let mut offenders = String::new();
    for tree in trees {
        for rel in rust_files(&root.join(&tree)) {
            let file = Path::new(&tree).join(&rel);
            if let Some(lines) = too_long(&rel, &read(&root.join(&file))) {
                offenders.push_str(&format!("\n  {}: {lines} lines", file.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "files over {MAX_LINES} lines (issue #15):{offenders}"
    );
}

// Rule 2: no import cycles.

/// A module's path from its crate root: `["model", "case"]` for `model/case/mod.rs`.
type Module = Vec<String>;

struct Source {
    module: Module,
    /// The file's name in messages.
    file: String,
    text: String,
}

impl Source {
    fn new(rel: &Path, file: String, text: String) -> Source {
        let module = module_of(rel);
        Source { module, file, text }
    }
}

/// A path in `source` that makes its module depend on `to`.
struct Edge<'s> {
    source: &'s Source,
    to: Module,
    path: String,
}

/// The module a file is, from its path relative to `src/`.
fn module_of(rel: &Path) -> Module {
    let parts = rel.with_extension("");
    let mut module: Module = parts.iter().map(|p| p.to_string_lossy().into()).collect();
    if let Some("mod" | "lib" | "main") = module.last().map(String::as_str) {
        module.pop();
    }
    module
}

/// A file's code as rule 2 reads it: `//` comments removed, and the item after each
/// `#[cfg(test)]` line left out (`mod tests;`, or a braced item up to its closing brace).
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut skipping = false;
    let (mut depth, mut opened) = (0i64, false);
    for line in text.lines() {
        let mut line = line.split("//").next().unwrap_or_default();
        let test_item = line.trim_start().strip_prefix("#[cfg(test)]");
        if let Some(rest) = test_item.filter(|_| !skipping) {
            (skipping, depth, opened, line) = (true, 0, false, rest);
        }
        if !skipping {
            code.push_str(line);
            code.push('\n');
            continue;
        }
        for c in line.chars() {
            match c {
                '{' => (depth, opened) = (depth + 1, true),
                '}' => depth -= 1,
                _ => {}
            }
        }
        skipping = depth > 0 || !(opened || line.contains(';'));
    }
    code
}

#[derive(PartialEq)]
enum Token {
    Word(String),
    /// `::`
    Sep,
    Open,
    Close,
    Other,
}

impl Token {
    fn starts_path(&self) -> bool {
        matches!(self, Token::Word(w) if w == "crate" || w == "super" || w == "self")
    }
}

fn tokens(code: &str) -> Vec<Token> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut tokens = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            c if c.is_whitespace() => continue,
            c if is_word(c) => {
                let mut word = c.to_string();
                while let Some(&next) = chars.peek().filter(|&&next| is_word(next)) {
                    word.push(next);
                    chars.next();
                }
                Token::Word(word)
            }
            ':' if chars.next_if_eq(&':').is_some() => Token::Sep,
            '{' => Token::Open,
            '}' => Token::Close,
            _ => Token::Other,
        });
    }
    tokens
}

/// Every path in `code` that starts with `crate::`, `super::` or `self::`, as its segments,
/// groups expanded: `use crate::{a::{b, c}}` gives `crate::a::b` and `crate::a::c`.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let tokens = tokens(code);
    let mut trees = UseTrees {
        tokens: &tokens,
        paths: Vec::new(),
    };
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].starts_path() && tokens.get(i + 1) == Some(&Token::Sep) {
            i = trees.tree(i, Vec::new());
        } else {
            i += 1;
        }
    }
    trees.paths
}

/// Reads `use` trees (a path is a tree without groups) into the paths to their leaves.
struct UseTrees<'t> {
    tokens: &'t [Token],
    paths: Vec<Vec<String>>,
}

impl UseTrees<'_> {
    /// Reads the path or group at `tokens[i]` below `prefix`; returns where it ends.
    fn tree(&mut self, mut i: usize, mut prefix: Vec<String>) -> usize {
        loop {
            match self.tokens.get(i) {
                // `a::{self, B}`: `self` is `a` itself.
                Some(Token::Word(w)) if w == "self" && !prefix.is_empty() => {}
                Some(Token::Word(w)) => prefix.push(w.clone()),
                Some(Token::Open) => return self.group(i + 1, &prefix),
                _ => break,
            }
            if self.tokens.get(i + 1) != Some(&Token::Sep) {
                i += 1;
                break;
            }
            i += 2;
        }
        self.paths.push(prefix);
        i
    }

    /// Reads the items of a group opened just before `tokens[i]`, up to its closing brace.
    fn group(&mut self, mut i: usize, prefix: &[String]) -> usize {
        while let Some(token) = self.tokens.get(i) {
            i = match token {
                Token::Close => return i + 1,
                // `B as C`: skip the alias.
                Token::Word(w) if w == "as" => i + 2,
                Token::Word(_) | Token::Open => self.tree(i, prefix.to_vec()),
                _ => i + 1,
            };
        }
        i
    }
}

/// The deepest module of `modules` that `path`, written in `from`, names.
fn resolve(from: &Module, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let (head, mut rest) = path.split_first()?;
    let mut base = match head.as_str() {
        "crate" => Vec::new(),
        "self" => from.clone(),
        "super" => from[..from.len().saturating_sub(1)].to_vec(),
        _ => return None,
    };
    while let Some((_, tail)) = rest.split_first().filter(|(first, _)| *first == "super") {
        base.pop();
        rest = tail;
    }
    (0..=rest.len()).rev().find_map(|n| {
        let candidate = [base.as_slice(), &rest[..n]].concat();
        modules.contains(&candidate).then_some(candidate)
    })
}

/// Whether `a` and `b` are the same module or one is the other's ancestor.
fn related(a: &Module, b: &Module) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

fn edges(sources: &[Source]) -> Vec<Edge<'_>> {
    let modules: BTreeSet<Module> = sources.iter().map(|s| s.module.clone()).collect();
    let mut edges = Vec::new();
    for source in sources {
        for path in paths_in(&code_of(&source.text)) {
            let Some(to) = resolve(&source.module, &path, &modules) else {
                continue;
            };
            if !related(&source.module, &to) {
                let path = path.join("::");
                edges.push(Edge { source, to, path });
            }
        }
    }
    edges
}

/// Tarjan's strongly connected components of the graph, those of more than one module.
#[derive(Default)]
struct Tarjan<'a> {
    next: BTreeMap<&'a Module, BTreeSet<&'a Module>>,
    index: BTreeMap<&'a Module, usize>,
    stack: Vec<&'a Module>,
    components: Vec<Vec<Module>>,
}

impl<'a> Tarjan<'a> {
    fn components(edges: &'a [Edge<'_>]) -> Vec<Vec<Module>> {
        let mut tarjan = Tarjan::default();
        for Edge { source, to, .. } in edges {
            tarjan.next.entry(&source.module).or_default().insert(to);
        }
        for Edge { source, .. } in edges {
            if !tarjan.index.contains_key(&source.module) {
                tarjan.visit(&source.module);
            }
        }
        tarjan.components
    }

    /// Visits `v`; returns its low link.
    fn visit(&mut self, v: &'a Module) -> usize {
        let own = self.index.len();
        let mut low = own;
        self.index.insert(v, own);
        self.stack.push(v);
        let next: Vec<&Module> = self.next.get(v).into_iter().flatten().copied().collect();
        for w in next {
            low = match self.index.get(w) {
                None => low.min(self.visit(w)),
                Some(&w_index) if self.stack.contains(&w) => low.min(w_index),
                Some(_) => low,
            };
        }
        if low == own {
            let at = self.stack.iter().position(|m| *m == v).expect("on stack");
            let mut component: Vec<Module> = self.stack.drain(at..).cloned().collect();
            if component.len() > 1 {
                component.sort();
                self.components.push(component);
            }
        }
        low
    }
}

/// One message per import cycle: its modules, then each edge inside it with its file and path.
fn cycles(sources: &[Source]) -> Vec<String> {
    let edges = edges(sources);
    let name = |m: &Module| format!("crate::{}", m.join("::"));
    Tarjan::components(&edges)
        .into_iter()
        .map(|component| {
            let names: Vec<String> = component.iter().map(name).collect();
            let mut message = format!("cycle between {}:", names.join(", "));
            let inside =
                |e: &&Edge| component.contains(&e.source.module) && component.contains(&e.to);
            for Edge { source, to, path } in edges.iter().filter(inside) {
                let to = name(to);
                message.push_str(&format!("\n    {}: {path} (-> {to})", source.file));
            }
            message
        })
        .collect()
}

fn crate_sources(root: &Path, krate: &str) -> Vec<Source> {
    let src = Path::new(krate).join("src");
    let source = |rel: PathBuf| {
        let file = src.join(&rel);
        Source::new(&rel, file.display().to_string(), read(&root.join(&file)))
    };
    rust_files(&root.join(&src))
        .into_iter()
        .map(source)
        .collect()
}

#[test]
fn no_import_cycles_between_modules() {
    let root = workspace_root();
    let mut found = String::new();
    for krate in CRATES {
        let sources = crate_sources(&root, krate);
        assert!(!sources.is_empty(), "no sources found in {krate}/src");
        for cycle in cycles(&sources) {
            found.push_str(&format!("\n  {krate}: {cycle}"));
        }
    }
    assert!(found.is_empty(), "import cycles (issue #15):{found}");
}

// The checkers themselves, on small in-memory crates.

fn sources(files: &[(&str, &str)]) -> Vec<Source> {
    let source =
        |&(file, text): &(&str, &str)| Source::new(Path::new(file), file.into(), text.into());
    files.iter().map(source).collect()
}

/// Each edge as `from -> to`, modules written with `::`.
fn edge_names(files: &[(&str, &str)]) -> Vec<String> {
    let name = |e: &Edge| format!("{} -> {}", e.source.module.join("::"), e.to.join("::"));
    edges(&sources(files)).iter().map(name).collect()
}

#[test]
fn a_long_file_is_reported_unless_it_is_a_test_file() {
    let long = "fn f() {}\n".repeat(MAX_LINES + 1);
    let at_limit = "fn f() {}\n".repeat(MAX_LINES);
    assert_eq!(too_long(Path::new("model/case.rs"), &long), Some(601));
    assert_eq!(too_long(Path::new("model/case.rs"), &at_limit), None);
    assert_eq!(too_long(Path::new("model/case/tests.rs"), &long), None);
    assert_eq!(too_long(Path::new("engine/tests/stories.rs"), &long), None);
    assert_eq!(too_long(Path::new("contests.rs"), &long), Some(601));
}

#[test]
fn a_two_module_cycle_is_found_with_its_files_and_paths() {
    let crate_ = [
        ("lib.rs", "mod a;\nmod b;\nmod c;"),
        ("a.rs", "use crate::b::Thing;"),
        ("b/mod.rs", "pub fn f() { super::a::g(); }"),
        ("c.rs", "use crate::a::G;"),
    ];
    let found = cycles(&sources(&crate_));
    let expected = "cycle between crate::a, crate::b:\n    \
                    a.rs: crate::b::Thing (-> crate::b)\n    \
                    b/mod.rs: super::a::g (-> crate::a)";
    assert_eq!(found, [expected]);
}

#[test]
fn a_parent_re_exporting_its_children_is_not_a_cycle() {
    let model = "mod case;\npub use self::case::Case;\npub use crate::model::case::read;";
    let case = "use super::Editor;\nuse crate::model::Editor as E;";
    let crate_ = [
        ("lib.rs", "pub use crate::model::Case;"),
        ("model/mod.rs", model),
        ("model/case.rs", case),
    ];
    assert_eq!(edge_names(&crate_), Vec::<String>::new());
    assert_eq!(cycles(&sources(&crate_)), Vec::<String>::new());
}

#[test]
fn comments_and_test_items_make_no_edges() {
    let a = "//! See crate::b.\n/// Like crate::b::X.\nfn f() {} // crate::b::y()\n\
             #[cfg(test)]\nmod tests {\n    use crate::b::Y;\n}\n\
             #[cfg(test)]\nmod testing;\nuse crate::c::Z;";
    let crate_ = [("a.rs", a), ("b.rs", ""), ("c.rs", "")];
    assert_eq!(edge_names(&crate_), ["a -> c"]);
}

#[test]
fn each_item_of_a_nested_group_is_an_edge() {
    let x = "pub use crate::{a::{b, c::{self, D}}, e as f};\nuse super::super::g::H;";
    let crate_ = [
        ("x.rs", x),
        ("a/mod.rs", ""),
        ("a/b.rs", ""),
        ("a/c.rs", ""),
        ("e.rs", ""),
        ("f.rs", ""),
        ("g.rs", ""),
    ];
    assert_eq!(
        edge_names(&crate_),
        ["x -> a::b", "x -> a::c", "x -> a::c", "x -> e", "x -> g"]
    );
}
