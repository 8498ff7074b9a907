//! JSON Schemas of the documents yakkan reads and writes, derived from the Rust types
//! that read them: a case, a ruling, a rule set's `ruleset.yaml` and a rule file. They
//! are committed under `schemas/` (`yakkan schema --out schemas` writes them; a test
//! fails when they drift) and an editor uses them to complete and check fields.
//!
//! Fields read by the core's hand-written readers get their schema beside them
//! (`yakkan_core::de`), so the schema accepts what the reader accepts.

use schemars::Schema;

/// Every schema with the file name it is committed under in `schemas/`; the case's is
/// derived from the model of `rules`.
pub fn all(rules: &crate::RuleSet) -> Vec<(&'static str, Schema)> {
    vec![
        ("case.schema.json", crate::expect::case_schema(rules)),
        (
            "ruling.schema.json",
            schemars::schema_for!(crate::ruling::Ruling),
        ),
        (
            "ruleset.schema.json",
            schemars::schema_for!(crate::ruleset::format::RuleSetFile),
        ),
        (
            "rule-file.schema.json",
            schemars::schema_for!(crate::ruleset::format::PartFile),
        ),
        (
            "model.schema.json",
            schemars::schema_for!(crate::model::format::ModelFile),
        ),
    ]
}

/// A schema as committed: pretty JSON with a final newline.
pub fn to_text(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("schemas serialize");
    text.push('\n');
    text
}

/// Writes every schema into `dir`.
pub fn write_all(rules: &crate::RuleSet, dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, schema) in all(rules) {
        std::fs::write(dir.join(name), to_text(&schema))?;
    }
    Ok(())
}
