//! The rule sets shipped with yakkan (`rules/` of the project), embedded in the binary at
//! build time so that an installed or copied `yakkan` and a container image carry them.
//!
//! The default set (the one `rules/` names) is also embedded compiled: [`load`] reads it
//! back in a tenth of the time a load from YAML takes, and names its files as the
//! project does (`rules/iij-secure-access/…`), so its rulings are byte for byte those of
//! the project's folder. Commands that need a folder (`check`, `test`, `book`, `serve`)
//! get one from [`dir`]: the embedded files written once to a folder of the system's
//! temporary directory named by their digest.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::LoadError;
use crate::ruleset::RuleSet;

/// Every bundled rule file: its path under `rules/` (with `/`) and its text.
pub static FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The default set compiled by the build (`ruleset::image`); empty when it did not load.
static COMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundled.compiled"));

/// The default set's folder, `rules` or one folder in it, as the loader picked it at
/// build time (see `ruleset::resolve_dir`); none when it found no single set.
const DEFAULT_SET: Option<&str> = include!(concat!(env!("OUT_DIR"), "/bundled_set.rs"));

/// A folder holding the bundled rule files, written on first use. Its name carries a
/// digest of their text, so a different build never reads another build's files.
pub fn dir() -> io::Result<PathBuf> {
    let mut hasher = Sha256::new();
    for (name, text) in FILES {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    let digest: String = hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let target = std::env::temp_dir().join(format!("yakkan-rules-{digest}"));
    if target.is_dir() && matches_files(&target) {
        return Ok(target);
    }
    // Written beside the target, then renamed into place: another process reading the
    // folder never sees it half written.
    let staging =
        std::env::temp_dir().join(format!("yakkan-rules-{digest}.{}.tmp", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    write_files(&staging)?;
    if !matches_files(&staging) {
        return Err(io::Error::other(format!(
            "{} holds files other than the bundled rules",
            staging.display()
        )));
    }
    match fs::rename(&staging, &target) {
        Ok(()) => Ok(target),
        Err(_) if target.is_dir() && matches_files(&target) => {
            // Another process got there first with the same files.
            let _ = fs::remove_dir_all(&staging);
            Ok(target)
        }
        Err(_) => {
            // A stale or altered folder: use this process's own copy.
            Ok(staging)
        }
    }
}

fn write_files(root: &Path) -> io::Result<()> {
    for (name, text) in FILES {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, text)?;
    }
    Ok(())
}

/// Whether a folder holds exactly the bundled files and texts, nothing more: the shared
/// temporary folder may hold a copy someone edited or added to.
fn matches_files(root: &Path) -> bool {
    let Ok(found) = crate::corpus::case_files(&[root.to_path_buf()]) else {
        return false;
    };
    found.len() == FILES.len()
        && FILES
            .iter()
            .all(|(name, text)| fs::read_to_string(root.join(name)).is_ok_and(|t| t == *text))
}

/// Whether `dir` is a folder [`dir`] unpacked the bundled rules into (or a rule set
/// inside one): such a copy carries the rule files alone, not the cases they list.
pub fn is_unpacked(dir: &Path) -> bool {
    let temp = std::env::temp_dir();
    dir.ancestors().take(2).any(|folder| {
        folder.parent() == Some(temp.as_path())
            && folder
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("yakkan-rules-"))
    })
}

/// Loads the bundled rule set: the form the build compiled, or, when the build could not
/// compile it, its embedded files, whose diagnostics then say why.
pub fn load() -> Result<RuleSet, LoadError> {
    match load_compiled() {
        Ok(rules) => Ok(rules),
        Err(_) => load_uncompiled(),
    }
}

/// The bundled rule set as the build compiled it, or why there is none.
pub fn load_compiled() -> Result<RuleSet, String> {
    crate::ruleset::image::read(COMPILED)
}

/// Loads the bundled rule set from its embedded files, as [`load`] does when the build
/// could not compile it.
pub fn load_uncompiled() -> Result<RuleSet, LoadError> {
    let Some(folder) = DEFAULT_SET else {
        return Err(LoadError::Invalid(vec![crate::Diagnostic::new(
            Some("rules"),
            "",
            "the bundled rules hold no single rule set",
        )]));
    };
    // FILES are named from inside `rules/`; the set's are those right in its folder.
    let inside = folder.strip_prefix("rules").unwrap_or_default();
    let files: Vec<(&str, &str)> = FILES
        .iter()
        .filter_map(|&(name, text)| {
            let name = match inside.strip_prefix('/') {
                Some(set) => name.strip_prefix(set)?.strip_prefix('/')?,
                None => name,
            };
            (!name.contains('/')).then_some((name, text))
        })
        .collect();
    RuleSet::load_texts(folder, &files)
}

/// Where a command finds its rules when none is given.
pub enum DefaultRules {
    /// A `rules/` folder (see [`default_dir`]).
    Folder(PathBuf),
    /// None: the bundled rules.
    Bundled,
}

/// The `rules/` folder a command uses when none is given, or [`DefaultRules::Bundled`] when
/// there is none (see [`default_dir`]).
pub fn default_rules() -> DefaultRules {
    let here = PathBuf::from("rules");
    if here.is_dir() {
        return DefaultRules::Folder(here);
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        for candidate in [exe_dir.join("rules"), exe_dir.join("../share/yakkan/rules")] {
            if candidate.is_dir() {
                return DefaultRules::Folder(candidate);
            }
        }
    }
    DefaultRules::Bundled
}

/// The rules folder a command uses when none is given: `rules/` in the current folder;
/// else `rules/` beside the executable, or `../share/yakkan/rules` from it (an installed
/// layout); else the bundled rules. Never a path fixed when the binary was built.
pub fn default_dir() -> io::Result<PathBuf> {
    match default_rules() {
        DefaultRules::Folder(dir) => Ok(dir),
        DefaultRules::Bundled => dir(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_every_rule_file_of_the_project() {
        let on_disk = crate::corpus::case_files(&[PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/rules"
        ))])
        .unwrap();
        assert_eq!(FILES.len(), on_disk.len());
        assert!(FILES.iter().any(|(name, text)| {
            *name == "iij-secure-access/ruleset.yaml" && text.contains("name: iij-secure-access")
        }));
    }

    #[test]
    fn an_altered_copy_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path()).unwrap();
        assert!(matches_files(dir.path()));
        let (name, _) = FILES[0];
        fs::write(
            dir.path().join("iij-secure-access/extra.yaml"),
            "rules: []\n",
        )
        .unwrap();
        assert!(!matches_files(dir.path()), "an added file");
        fs::remove_file(dir.path().join("iij-secure-access/extra.yaml")).unwrap();
        fs::write(dir.path().join(name), "edited").unwrap();
        assert!(!matches_files(dir.path()), "an edited file");
    }

    #[test]
    fn the_bundled_set_loads_with_the_digest_of_the_project_folder() {
        let bundled = load().unwrap();
        let project =
            RuleSet::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"))).unwrap();
        assert_eq!(bundled.digest, project.digest);
        assert_eq!(bundled.rules.len(), project.rules.len());
    }
}
