//! What the case targets share: the bundled rule set, loaded once.

use std::path::Path;
use std::sync::OnceLock;

use yakkan::RuleSet;
use yakkan::case::CaseLimits;
use yakkan::yaml::Syntax;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
        RuleSet::load(&dir).expect("the bundled rule set loads")
    })
}

/// Reads `data` as a case in `syntax` and, if it reads, evaluates it.
pub fn check_case(data: &[u8], syntax: Syntax) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(case) =
        yakkan::expect::read_case(rules(), text, Some("fuzz"), syntax, &CaseLimits::default())
    {
        let _ = yakkan::batch::evaluate_case(rules(), &case);
    }
}
