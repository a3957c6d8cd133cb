//! Compiles the message catalogs (`locales/*.ftl`) into Rust (`catalog.rs` in `OUT_DIR`), with
//! the compiler of `build/catalogs.rs`; any problem fails the build, naming the file and the
//! message. docs/I18N.md describes the format.

#[path = "build/catalogs.rs"]
mod catalogs;

use std::path::{Path, PathBuf};

fn main() {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("locales");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ftl"))
        .collect();
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        files.push((path, text));
    }
    match catalogs::compile(&files) {
        Ok(code) => {
            let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalog.rs");
            std::fs::write(&out, code).unwrap();
        }
        Err(errors) => {
            for e in &errors {
                println!("cargo:warning={e}");
            }
            panic!(
                "the message catalogs have {} problem(s):\n{}",
                errors.len(),
                errors.join("\n")
            );
        }
    }
}
