//! A rule file: the input replaces article 5 of a copy of the bundled rule set, which is
//! then loaded and checked. Any input must give a rule set or diagnostics, never a panic.
#![no_main]

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// A private copy of the bundled set, made once per process.
fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules/iij-secure-access");
        let dir = std::env::temp_dir().join(format!("yakkan-fuzz-rules-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("a temporary folder");
        for entry in fs::read_dir(&source).expect("the bundled rule set") {
            let entry = entry.expect("a rule file");
            fs::copy(entry.path(), dir.join(entry.file_name())).expect("a copy");
        }
        // The shipped cases do not matter to loading; keep the copy self-contained.
        let head = dir.join("ruleset.yaml");
        let text = fs::read_to_string(&head).expect("ruleset.yaml");
        let text: String = text
            .lines()
            .filter(|line| !line.starts_with("cases:"))
            .map(|line| format!("{line}\n"))
            .collect();
        fs::write(&head, text).expect("ruleset.yaml written");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = folder();
    fs::write(dir.join("art-05-accounts.yaml"), text).expect("the rule file written");
    let _ = yakkan::RuleSet::load(dir);
});
