//! Embeds the built web assets (wasm, its JS glue, CSS, icons) so that the
//! `mltrack` binary serves its UI from any working directory.
//!
//! `scripts/build.sh` builds the site into `target/site` first; without it
//! (a plain `cargo build`), the server still renders pages, unhydrated.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=MLTRACK_SITE_DIR");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let site = std::env::var("MLTRACK_SITE_DIR").map(PathBuf::from).unwrap_or_else(|_| manifest.join("../target/site"));
    println!("cargo:rerun-if-changed={}", site.display());
    let mut files = Vec::new();
    collect(&site, &mut files);
    files.sort();
    let mut code = String::from("pub static ASSETS: &[(&str, &[u8])] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file.strip_prefix(&site).unwrap().to_string_lossy().replace('\\', "/");
        let abs = std::fs::canonicalize(file).unwrap();
        writeln!(code, "    ({rel:?}, include_bytes!({:?})),", abs.display().to_string()).unwrap();
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("site_assets.rs");
    std::fs::write(out, code).unwrap();
}
