//! The bundled rule set as the build compiled it (`bundled::load`) gives, for every case
//! of the corpus, byte for byte the ruling the project's `rules/` folder gives — with
//! every explanation, which names rule files and places in them — and so do its embedded
//! files loaded from text, the way the binary falls back when the build could not compile
//! them.

use std::path::{Path, PathBuf};

use yakkan::corpus::case_files;
use yakkan::eval::{Settings, evaluate_with};
use yakkan::{RuleSet, bundled};

/// Every ruling of the corpus under `rules`, explained, as one text per case.
fn rulings(rules: &RuleSet, files: &[PathBuf]) -> Vec<String> {
    let settings = Settings {
        explain: true,
        explain_all: true,
    };
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            let name = file.display().to_string();
            match yakkan::expect::case_from_str(rules, &text, Some(&name)) {
                Ok(case) => match evaluate_with(rules, &case, settings) {
                    Ok((ruling, _)) => format!("{name}\n{}", ruling.to_json()),
                    Err(error) => format!("{name}: {error}"),
                },
                Err(diagnostic) => format!("{name}: {diagnostic}"),
            }
        })
        .collect()
}

#[test]
fn the_compiled_bundled_set_rules_as_the_project_folder_does() {
    // Relative, as the build loads it: the files are named `rules/iij-secure-access/…`.
    let project = RuleSet::load(Path::new("rules")).expect("the project's rules load");
    let compiled = bundled::load_compiled().expect("the build compiled the bundled rules");
    assert_eq!(compiled.digest, project.digest);
    let files = case_files(&[PathBuf::from("tests/cases"), PathBuf::from("examples")]).unwrap();
    assert!(files.len() > 60, "the corpus: {} cases", files.len());
    let expected = rulings(&project, &files);
    assert!(
        expected
            .iter()
            .any(|r| r.contains("\"file\": \"rules/iij-secure-access/")),
        "explanations name the rule files"
    );
    assert_eq!(rulings(&compiled, &files), expected);

    let from_text = bundled::load_uncompiled().unwrap();
    assert_eq!(rulings(&from_text, &files), expected);
}

#[test]
fn a_compiled_set_places_run_time_errors_in_its_files() {
    let project = RuleSet::load(Path::new("rules")).unwrap();
    let compiled = bundled::load_compiled().unwrap();
    for (a, b) in project.rules.iter().zip(&compiled.rules) {
        for (x, y) in a.when.iter().zip(&b.when) {
            let pos = yakkan::expr::Pos { line: 1, column: 2 };
            assert_eq!(x.place(pos), y.place(pos), "{}", a.id);
            assert_ne!(x.place(pos), "1:2", "{}: placed in its file", a.id);
        }
    }
}
