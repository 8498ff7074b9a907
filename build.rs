//! Embeds the bundled rule sets (`rules/`) into the crate, so a copied or installed
//! `yakkan` has them wherever it runs (see `src/bundled.rs`), and compiles the default
//! one — the only folder of `rules/` holding a `ruleset.yaml` — into the form the
//! evaluator runs (`ruleset::image`), so a process needs not read YAML or Rhai at all.
//!
//! The compiling is done by the engine itself (`yakkan-core`, a build dependency), so the
//! bundled set is checked and compiled by exactly the code that loads any other set. A set
//! that does not load embeds no compiled form and prints a warning; the binary then loads
//! the embedded files at run time and reports their diagnostics.
//! Only file contents are embedded: no path of the build machine is used at run time.

use std::fs;
use std::path::Path;

use yakkan_core::RuleSet;
use yakkan_core::ruleset;

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
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out_dir = Path::new(&out_dir);
    fs::write(out_dir.join("bundled.rs"), out).expect("OUT_DIR is writable");

    // The default set's folder, as the loader picks it: `rules` or one folder in it.
    let set = ruleset::resolve_dir(root)
        .ok()
        .and_then(|dir| Some(dir.to_str()?.replace('\\', "/")));
    fs::write(out_dir.join("bundled_set.rs"), format!("{set:?}")).expect("OUT_DIR is writable");
    // Loaded as `rules` relative to the package, so that its files are named as in the
    // project (`rules/iij-secure-access/…`), whichever folder the build ran in.
    let compiled = match RuleSet::load(root) {
        Ok(rules) => ruleset::image::write(&rules).unwrap_or_else(|error| {
            println!("cargo:warning=the bundled rule set is embedded uncompiled: {error}");
            Vec::new()
        }),
        Err(error) => {
            println!(
                "cargo:warning=the bundled rule set does not load; `yakkan check` shows why: {}",
                error.to_string().lines().next().unwrap_or_default()
            );
            Vec::new()
        }
    };
    fs::write(out_dir.join("bundled.compiled"), compiled).expect("OUT_DIR is writable");
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
