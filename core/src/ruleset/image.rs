//! A compiled rule set as bytes. The build compiles the bundled rule set once and embeds
//! it so (`bundled::load`): a process then runs it without reading YAML or Rhai again.
//!
//! The bytes are read only by the build that wrote them (the same source, so the same
//! types): they carry no format version, only a mark that they are a rule set and the
//! digest of the rule files they were compiled from.

use super::RuleSet;

/// What the bytes start with.
const MARK: &[u8] = b"yakkan compiled rule set\n";

/// The rule set as bytes.
pub fn write(rules: &RuleSet) -> Result<Vec<u8>, String> {
    let bytes = MARK.to_vec();
    postcard::to_extend(rules, bytes).map_err(|e| format!("cannot write the rule set: {e}"))
}

/// The rule set written as `bytes` by [`write`].
pub fn read(bytes: &[u8]) -> Result<RuleSet, String> {
    let body = bytes.strip_prefix(MARK).ok_or("not a compiled rule set")?;
    let mut rules: RuleSet = postcard::from_bytes(body)
        .map_err(|e| format!("cannot read the compiled rule set: {e}"))?;
    // What the bytes leave out: which file each expression places its errors in (its
    // part's, shared), and the rules by subject.
    for rule in &mut rules.rules {
        let file = &rules.parts[rule.part].locator;
        let expressions = rule.when.iter_mut().chain(rule.require.iter_mut());
        for expression in expressions.chain(rule.values.iter_mut().map(|(_, e)| e)) {
            expression.file = file.clone();
        }
    }
    for fact in &mut rules.facts {
        fact.value.file = rules.parts[fact.part].locator.clone();
    }
    rules.retain_rules(|_| true);
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_set_reads_back_as_written() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules"));
        let loaded = RuleSet::load(dir).unwrap();
        let bytes = write(&loaded).unwrap();
        let back = read(&bytes).unwrap();
        assert_eq!(back.digest, loaded.digest);
        assert_eq!(format!("{:?}", back.rules), format!("{:?}", loaded.rules));
        assert_eq!(format!("{:?}", back.facts), format!("{:?}", loaded.facts));
        assert_eq!(format!("{:?}", back.model), format!("{:?}", loaded.model));
        assert_eq!(format!("{:?}", back.params), format!("{:?}", loaded.params));
        assert!(read(&bytes[1..]).is_err(), "without its mark");
        assert!(read(&bytes[..bytes.len() / 2]).is_err(), "cut short");
    }

    #[test]
    fn every_function_a_model_declares_can_be_written() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
        for dir in [root.clone(), root.join("samples/managed-network")] {
            let rules = RuleSet::load(&dir).unwrap();
            let mut schema = crate::expr::Schema::default();
            crate::expr::builtins::register(&mut schema);
            rules.model.register(&mut schema);
            for function in schema.functions.values().flatten() {
                // Its id reads back as the same code.
                let found = crate::expr::builtins::by_id(function.id);
                assert!(
                    found.is_some_and(|b| b.run as usize == function.run as usize),
                    "{} ({})",
                    function.signature(),
                    function.id
                );
            }
        }
    }
}
