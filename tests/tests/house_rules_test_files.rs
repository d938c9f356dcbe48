//! A house rule for the test folders (docs/ci.md): the files of `tests/tests`, `sync-core/tests`
//! and `client-sdk/tests` are modules of one test binary per crate (`main.rs` of the folder,
//! `autotests = false` in the crate's Cargo.toml), so a file nobody declared would never be
//! compiled nor run. Every file (`name.rs`) and every folder with a `mod.rs` or `main.rs` must be
//! declared in the folder's `main.rs` by a `mod name;` line, those lines sorted, unless the
//! crate's Cargo.toml gives the file a `[[test]]` binary of its own (`path = "tests/name.rs"`).

use std::fs;
use std::path::Path;

/// The test folders, relative to the workspace root, and their crates' directories.
const FOLDERS: [(&str, &str); 3] = [
    ("tests/tests", "tests"),
    ("sync-core/tests", "sync-core"),
    ("client-sdk/tests", "client-sdk"),
];

/// One entry of a test folder: a module name and how its `main.rs` line must read.
#[derive(Debug, PartialEq)]
struct Entry {
    name: String,
    /// The line(s) that declare it: `mod name;`, with a `#[path]` for a folder's `main.rs`.
    declaration: String,
}

/// A file `name.rs` (not `main.rs`), or a folder with `mod.rs` or `main.rs`, as an entry.
fn entry(file_name: &str, folder_files: Option<&[String]>) -> Option<Entry> {
    let (name, declaration) = match folder_files {
        None => {
            let name = file_name.strip_suffix(".rs")?;
            (name, format!("mod {name};"))
        }
        Some(files) if files.iter().any(|f| f == "mod.rs") => {
            (file_name, format!("mod {file_name};"))
        }
        Some(files) if files.iter().any(|f| f == "main.rs") => (
            file_name,
            format!("#[path = \"{file_name}/main.rs\"]\nmod {file_name};"),
        ),
        Some(_) => return None,
    };
    (name != "main").then(|| Entry {
        name: name.to_string(),
        declaration,
    })
}

/// What is wrong with a folder: each entry neither declared in `main_rs` nor given a binary of
/// its own in `cargo_toml`, and `mod` lines out of order. `folder` names them in messages.
fn problems(folder: &str, entries: &[Entry], main_rs: &str, cargo_toml: &str) -> Vec<String> {
    let declared: Vec<&str> = main_rs
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let mut found = Vec::new();
    for entry in entries {
        let own_binary = format!("path = \"tests/{}.rs\"", entry.name);
        if !declared.contains(&entry.name.as_str()) && !cargo_toml.contains(&own_binary) {
            found.push(format!(
                "{folder}/{name} is never compiled: add the line\n{declaration}\nto \
                 {folder}/main.rs, in alphabetical order",
                name = entry.name,
                declaration = entry.declaration,
            ));
        }
    }
    let mut sorted = declared.clone();
    sorted.sort_unstable();
    if sorted != declared {
        found.push(format!(
            "the `mod` lines of {folder}/main.rs are not in alphabetical order: {}",
            sorted.join(", ")
        ));
    }
    found
}

fn names_in(dir: &Path) -> Vec<String> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into()
        })
        .collect();
    names.sort();
    names
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn every_test_file_is_compiled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for (folder, krate) in FOLDERS {
        let dir = root.join(folder);
        let entries: Vec<Entry> = names_in(&dir)
            .iter()
            .filter_map(|name| {
                let path = dir.join(name);
                let inside = path.is_dir().then(|| names_in(&path));
                entry(name, inside.as_deref())
            })
            .collect();
        assert!(!entries.is_empty(), "no test files found in {folder}");
        let main_rs = read(&dir.join("main.rs"));
        let cargo_toml = read(&root.join(krate).join("Cargo.toml"));
        found.extend(problems(folder, &entries, &main_rs, &cargo_toml));
    }
    assert!(found.is_empty(), "\n{}", found.join("\n\n"));
}

// The checker on in-memory folders.

fn entries(files: &[(&str, Option<&[&str]>)]) -> Vec<Entry> {
    let to_owned = |inside: &[&str]| inside.iter().map(|f| f.to_string()).collect::<Vec<_>>();
    files
        .iter()
        .filter_map(|&(name, inside)| entry(name, inside.map(to_owned).as_deref()))
        .collect()
}

#[test]
fn a_file_missing_from_main_rs_is_named_with_the_line_to_add() {
    let folder = entries(&[
        ("main.rs", None),
        ("alpha.rs", None),
        ("beta.rs", None),
        ("vectors", Some(&["main.rs", "ops.rs"])),
        ("harness", Some(&["mod.rs"])),
        ("fixtures", Some(&["a.json"])),
        ("notes.md", None),
    ]);
    let main_rs = "//! Stories.\n\nmod alpha;\n";
    let found = problems("tests/tests", &folder, main_rs, "");
    assert_eq!(
        found,
        [
            "tests/tests/beta is never compiled: add the line\nmod beta;\nto \
             tests/tests/main.rs, in alphabetical order",
            "tests/tests/vectors is never compiled: add the line\n\
             #[path = \"vectors/main.rs\"]\nmod vectors;\nto tests/tests/main.rs, in \
             alphabetical order",
            "tests/tests/harness is never compiled: add the line\nmod harness;\nto \
             tests/tests/main.rs, in alphabetical order",
        ]
    );
}

#[test]
fn a_declared_file_or_one_with_its_own_binary_passes_and_order_is_checked() {
    let folder = entries(&[("alpha.rs", None), ("beta.rs", None), ("gamma.rs", None)]);
    let cargo_toml = "[[test]]\nname = \"gamma\"\npath = \"tests/gamma.rs\"\n";
    let sorted = "mod alpha;\nmod beta;\n";
    assert_eq!(
        problems("t", &folder, sorted, cargo_toml),
        Vec::<String>::new()
    );
    let unsorted = "mod beta;\nmod alpha;\n";
    assert_eq!(
        problems("t", &folder, unsorted, cargo_toml),
        ["the `mod` lines of t/main.rs are not in alphabetical order: alpha, beta"]
    );
}
