//! The app's layers, checked on its sources: pages compose components and
//! never import each other; components and server functions never import
//! pages.

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn src(part: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(part)
}

#[test]
fn components_and_server_functions_never_import_pages() {
    let mut files = sources(&src("components"));
    files.extend(sources(&src("server_fns")));
    files.push(src("server_fns.rs"));
    for file in files {
        let text = fs::read_to_string(&file).expect("readable");
        assert!(!text.contains("crate::pages"), "{} imports a page", file.display());
    }
}

#[test]
fn pages_never_import_each_other() {
    let pages: Vec<String> = fs::read_dir(src("pages"))
        .expect("pages")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_stem()?.to_str()?.to_string();
            (name != "mod").then_some(name)
        })
        .collect();
    for file in sources(&src("pages")) {
        let text = fs::read_to_string(&file).expect("readable");
        for page in &pages {
            for spelling in
                [format!("super::{page}::"), format!("crate::pages::{page}::"), format!("super::super::{page}::")]
            {
                assert!(!text.contains(&spelling), "{} imports the page {page}", file.display());
            }
        }
    }
}
