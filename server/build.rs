//! Embeds the built web assets (wasm, its JS glue, CSS, icons) and
//! plotly.js so that the `mltrack` binary serves its UI from any working
//! directory, with no internet.
//!
//! Each file is embedded brotli- and gzip-compressed (made here, once per
//! build) with its uncompressed size and a content hash for its ETag, and
//! the UI files' version (a hash of them) for their names:
//! browsers get the compressed bytes as they are (brotli where they take
//! it, about a fifth smaller), and a repeat visit only revalidates.
//!
//! `scripts/build.sh` builds the site into `target/site` first; without it
//! (a plain `cargo build`), the server still renders pages, unhydrated.

use std::fmt::Write as _;
use std::io::Write as _;
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

/// FNV-1a, 64 bits: a stable content hash for ETags.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| (h ^ *b as u64).wrapping_mul(0x100000001b3))
}

fn main() {
    println!("cargo:rerun-if-env-changed=MLTRACK_SITE_DIR");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let site = std::env::var("MLTRACK_SITE_DIR").map(PathBuf::from).unwrap_or_else(|_| manifest.join("../target/site"));
    println!("cargo:rerun-if-changed={}", site.display());
    let mut files = Vec::new();
    collect(&site, &mut files);
    files.sort();
    let mut named: Vec<(String, PathBuf)> =
        files.into_iter().map(|f| (f.strip_prefix(&site).unwrap().to_string_lossy().replace('\\', "/"), f)).collect();
    named.push((
        "vendor/plotly.min.js".into(),
        manifest.join("../node_modules/plotly.js-basic-dist-min/plotly-basic.min.js"),
    ));
    // Release builds squeeze harder; debug builds rerun this on every UI change.
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let level = if release { flate2::Compression::best() } else { flate2::Compression::fast() };
    let brotli_quality = if release { 11 } else { 4 };
    let mut code = String::from("pub static ASSETS: &[Asset] = &[\n");
    // The version in the UI files' names (`mltrack.<version>.js`): one hash
    // of them all, so a page's JS, wasm and CSS always come from one build.
    let mut ui_version: u64 = 0xcbf29ce484222325;
    for (n, (rel, file)) in named.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", file.display());
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if rel.starts_with("pkg/") {
            ui_version = bytes.iter().fold(ui_version, |h, b| (h ^ *b as u64).wrapping_mul(0x100000001b3));
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), level);
        gz.write_all(&bytes).unwrap();
        let gz_path = out_dir.join(format!("asset-{n}.gz"));
        std::fs::write(&gz_path, gz.finish().unwrap()).unwrap();
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams { quality: brotli_quality, lgwin: 22, ..Default::default() };
        brotli::BrotliCompress(&mut &bytes[..], &mut br, &params).unwrap();
        let br_path = out_dir.join(format!("asset-{n}.br"));
        std::fs::write(&br_path, br).unwrap();
        writeln!(
            code,
            "    Asset {{ path: {rel:?}, gzip: include_bytes!({:?}), brotli: include_bytes!({:?}), size: {}, \
             etag: \"\\\"{:016x}\\\"\" }},",
            gz_path.display().to_string(),
            br_path.display().to_string(),
            bytes.len(),
            fnv(&bytes)
        )
        .unwrap();
    }
    code.push_str("];\n");
    writeln!(code, "pub const UI_VERSION: &str = \"{ui_version:016x}\";").unwrap();
    // plotly.js's files are named by its npm version: the same version is
    // the same file.
    let package = manifest.join("../node_modules/plotly.js-basic-dist-min/package.json");
    println!("cargo:rerun-if-changed={}", package.display());
    let package = std::fs::read_to_string(&package).unwrap_or_else(|e| panic!("{}: {e}", package.display()));
    let version = package
        .split("\"version\"")
        .nth(1)
        .and_then(|rest| rest.split('"').nth(1))
        .expect("plotly.js's package.json names its version");
    writeln!(code, "pub const PLOTLY_VERSION: &str = {version:?};").unwrap();
    std::fs::write(out_dir.join("site_assets.rs"), code).unwrap();
}
