//! Embeds the bundled rule sets (`rules/`) into the crate, so a copied or installed
//! `yakkan` has them wherever it runs (see `src/bundled.rs`). Only file contents are
//! embedded: no path of the build machine is used at run time.

use std::fs;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let root = Path::new("rules");
    let mut files = Vec::new();
    collect(root, root, &mut files);
    files.sort();
    let mut out = String::from("&[\n");
    for (relative, absolute) in files {
        out.push_str(&format!(
            "    ({relative:?}, include_str!({absolute:?})),\n"
        ));
    }
    out.push(']');
    let target =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled.rs");
    fs::write(target, out).expect("OUT_DIR is writable");
}

/// Every `.yaml` file under `dir`, as (path relative to `rules/` with `/`, absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let relative = path.strip_prefix(root).expect("under root");
            let relative: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let absolute = fs::canonicalize(&path).expect("a file just listed");
            files.push((relative.join("/"), absolute.display().to_string()));
        }
    }
}
