//! Every ruling of the examples and the case corpus, as a reviewable YAML snapshot under
//! `snapshots/`. The rule-set digest is redacted, so a diff shows only a change of ruling.
//! A reviewer accepts a changed ruling with `cargo insta review` after reading its diff.

use std::path::Path;
use std::sync::OnceLock;

use yakkan::RuleSet;

fn bundled() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        RuleSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))
            .expect("the bundled rules load")
    })
}

/// Snapshots the ruling of the case at `path` as `{kind}@{path}.snap`.
fn snapshot_ruling(kind: &str, path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let case =
        yakkan::expect::case_from_str(bundled(), &text, Some(&path.display().to_string())).unwrap();
    let ruling = yakkan::evaluate(bundled(), &case).unwrap();
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_yaml_snapshot!(kind, ruling, { ".ruleset.digest" => "[digest]" });
    });
}

#[test]
fn example() {
    insta::glob!("../examples", "*.yaml", |path| snapshot_ruling(
        "example", path
    ));
}

#[test]
fn case() {
    insta::glob!("../tests/cases", "**/*.yaml", |path| snapshot_ruling(
        "case", path
    ));
}
