//! The case: a customer's contracts and requests, as docs/reference/case.md describes their frame.
//!
//! What a contract holds and which requests there are is the rule set's model
//! (`crate::model`): a case is read against the model of the rule set that judges it
//! ([`Case::read`]). Reading is strict: unknown fields, impossible dates and non-numeric
//! money are errors naming the field path, line and column. Money is read as `Decimal`
//! and never passes through floating point: JSON numbers are read from their text; YAML
//! hands fractions over as floats, so there a fractional yen amount must be written as
//! a string.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::error::Diagnostic;
use crate::expr::{Record, Value};
use crate::model::{CONTRACT_FIELD, DATE_FIELD, TYPE_FIELD};
use crate::yaml::Locator;

/// How large a case may be: what one document may make the reader and the evaluator do
/// is bounded by these, and a case past one is an input error naming the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseLimits {
    /// Bytes of the document.
    pub max_bytes: usize,
    /// Nesting of mappings and sequences.
    pub max_depth: usize,
    /// Contracts the case lists.
    pub max_contracts: usize,
    /// Requests in the case.
    pub max_requests: usize,
    /// Items of one list inside a record (a contract's options).
    pub max_options: usize,
}

impl Default for CaseLimits {
    /// Far above any real customer's case; a case at every limit evaluates in well under
    /// a second (see docs/reliability.md).
    fn default() -> Self {
        CaseLimits {
            max_bytes: 1 << 20,
            max_depth: 32,
            max_contracts: 100,
            max_requests: 100,
            max_options: 10,
        }
    }
}

/// A case: the state to judge and the requests to decide, read from a document against
/// a rule set's model.
#[derive(Debug, Clone)]
pub struct Case {
    /// The date the state is judged on.
    pub as_of: NaiveDate,
    /// The customer, as the model's `customer` record.
    pub customer: Arc<Record>,
    /// The contracts the customer already has, as the model's `contract` records.
    pub contracts: Vec<Arc<Record>>,
    /// Requests, evaluated in order.
    pub requests: Vec<Request>,
    /// The top-level entries the caller owns, as it named them when reading (a test
    /// harness's expected results), unread: as JSON, in document order.
    pub owned: Vec<(String, serde_json::Value)>,
    /// Where each field stands in the source, for errors found after reading.
    pub source: Source,
}

/// A request: its type in the model, and the request as rules read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Index of its type in the model's requests.
    pub kind: usize,
    /// Its fields: `type`, `date`, `contract`, then those its type declares.
    pub record: Arc<Record>,
}

impl Request {
    /// The request's `type`.
    pub fn kind(&self) -> &str {
        self.record.at(TYPE_FIELD).as_text().unwrap_or_default()
    }

    /// The date that selects the rule versions for this request (docs/reference/case.md).
    pub fn date(&self) -> NaiveDate {
        self.record
            .at(DATE_FIELD)
            .as_date()
            .unwrap_or(NaiveDate::MIN)
    }

    /// The contract a request of `contract: new` proposes.
    pub fn proposal(&self) -> Option<&Arc<Record>> {
        self.record.at(CONTRACT_FIELD).as_record()
    }

    /// The id of the contract the request names; for a proposal, its key.
    pub fn contract_id(&self) -> &str {
        match self.record.at(CONTRACT_FIELD) {
            Value::Text(id) => id,
            Value::Record(proposal) => proposal.key(),
            _ => "",
        }
    }
}

/// The origin of a case document.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The file name, when read from a file.
    pub file: Option<String>,
    /// The document's text.
    text: Arc<str>,
    /// Field positions, indexed on the first error: a case that reads cleanly never pays
    /// for the index.
    locator: std::sync::OnceLock<Locator>,
}

impl Source {
    /// The source of a document read from `file`.
    pub(crate) fn new(file: Option<&str>, text: &str) -> Source {
        Source {
            file: file.map(str::to_owned),
            text: text.into(),
            locator: std::sync::OnceLock::new(),
        }
    }

    /// A diagnostic about the field at `path` of this document.
    pub fn error(&self, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        let path = path.into();
        let position = self
            .locator
            .get_or_init(|| Locator::new(&self.text))
            .find(&path);
        Diagnostic::new(self.file.as_deref(), path, message).at(position)
    }
}

impl Source {
    /// For a field missing from the entry at `path`: a diagnostic at the place its key is
    /// written after all, outside the entry's fields (see [`crate::yaml::misplaced`]).
    pub(crate) fn misplaced(&self, path: &str, key: &str, missing: &str) -> Option<Diagnostic> {
        let entry = self
            .locator
            .get_or_init(|| Locator::new(&self.text))
            .find(path)?;
        let (position, why) = crate::yaml::misplaced(&self.text, entry, key)?;
        Some(
            Diagnostic::new(self.file.as_deref(), path, format!("{missing}: {why}"))
                .at(Some(position)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar;
    use crate::ruleset::RuleSet;
    use rust_decimal::Decimal;

    fn rules() -> &'static RuleSet {
        static RULES: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
        RULES.get_or_init(|| {
            RuleSet::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules"))
                .expect("the bundled rules load")
        })
    }

    fn read(text: &str, file: Option<&str>) -> Result<Case, Diagnostic> {
        Case::from_str(rules(), text, file)
    }

    /// The number at a dotted field path of a record (a timeline's first value).
    fn number(record: &Record, path: &str) -> Decimal {
        let mut value = Value::Record(Arc::new(record.clone()));
        for field in path.split('.') {
            value = value.as_record().expect("a record").field(field);
        }
        value.on_day(NaiveDate::MIN).as_decimal().expect("a number")
    }

    const MINIMAL: &str = "\
as_of: 2026-05-01
contracts:
  - id: WG-1
    kind: web_gateway
    accounts: 120
    formed: 2026-03-01
    billing_start: 2026-03-10
    fees: { basic_monthly: \"20000\", per_account_monthly: 300 }
requests:
  - { type: change_accounts, date: 2026-05-02, contract: WG-1, accounts: 40 }
  - { type: terminate, contract: WG-1, notice_arrived: 2026-05-10, requested_end: null }
";

    fn error_of(text: &str) -> Diagnostic {
        read(text, Some("case.yaml")).unwrap_err()
    }

    /// An editor's byte order mark before the first key is no part of the case, in YAML
    /// and JSON alike, whether the text arrives as bytes or as a string.
    #[test]
    fn a_byte_order_mark_before_the_first_key_is_read_past() {
        let yaml = format!("\u{feff}{MINIMAL}");
        assert_eq!(read(&yaml, None).expect("read").contracts.len(), 1);
        let json = "\u{feff}{\"as_of\": \"2026-05-01\"}";
        let case = Case::read(
            &rules().model,
            json,
            None,
            crate::yaml::Syntax::Json,
            &CaseLimits::default(),
        )
        .expect("read");
        assert_eq!(case.as_of.to_string(), "2026-05-01");
        let bytes = crate::yaml::document_text(json.as_bytes().to_vec()).expect("UTF-8");
        assert!(bytes.starts_with('{'));
    }

    #[test]
    fn reads_a_case_with_money_as_decimal() {
        let case = read(MINIMAL, None).unwrap();
        assert_eq!(
            number(&case.contracts[0], "fees.basic_monthly"),
            Decimal::from(20000)
        );
        assert_eq!(
            number(&case.contracts[0], "fees.per_account_monthly"),
            Decimal::from(300)
        );
        assert_eq!(
            case.requests[1].date(),
            calendar::parse_date("2026-05-10").unwrap()
        );
    }

    #[test]
    fn unknown_fields_are_errors_with_their_place() {
        let text = MINIMAL.replace("requested_end: null", "requested_end: null, reason: x");
        let error = error_of(&text);
        assert_eq!(error.path, "requests[1].reason");
        assert!(error.message.contains("unknown field `reason`"), "{error}");
        assert_eq!(error.position.map(|at| at.line), Some(11));
    }

    #[test]
    fn invalid_dates_name_the_field() {
        let error =
            error_of(&MINIMAL.replace("notice_arrived: 2026-05-10", "notice_arrived: 2026-02-30"));
        assert_eq!(error.path, "requests[1].notice_arrived");
        assert!(error.message.contains("2026-02-30"), "{error}");
        assert!(error.to_string().starts_with("case.yaml:11:"), "{error}");
    }

    #[test]
    fn money_must_be_numeric_and_never_a_float() {
        let error = error_of(&MINIMAL.replace("\"20000\"", "\"twenty\""));
        assert_eq!(error.path, "contracts[0].fees.basic_monthly");
        assert_eq!(error.position.map(|at| at.line), Some(8));
        let error = error_of(&MINIMAL.replace("\"20000\"", "20000.5"));
        assert!(error.message.contains("as a string"), "{error}");
        let case = read(&MINIMAL.replace("\"20000\"", "\"20000.5\""), None).unwrap();
        assert_eq!(
            number(&case.contracts[0], "fees.basic_monthly"),
            Decimal::new(200005, 1)
        );
    }

    #[test]
    fn json_money_is_exact_and_whole_floats_are_whole() {
        let json = r#"{"as_of": "2026-05-01", "contracts": [{"id": "WG-1", "kind": "web_gateway",
            "accounts": 50.5, "formed": "2026-04-01", "billing_start": "2026-04-10",
            "fees": {"basic_monthly": 20000.15, "per_account_monthly": 1e2}}]}"#;
        let case = read(json, Some("c.json")).unwrap();
        let contract = &case.contracts[0];
        // Read from the text, not through a float: 20000.15 is not representable in binary.
        assert_eq!(
            number(contract, "fees.basic_monthly"),
            "20000.15".parse::<Decimal>().unwrap()
        );
        assert_eq!(
            number(contract, "fees.per_account_monthly"),
            Decimal::from(100)
        );
        assert_eq!(number(contract, "accounts"), Decimal::new(505, 1));
        let yaml = MINIMAL.replace("\"20000\"", "20000.0");
        let case = read(&yaml, None).unwrap();
        assert_eq!(
            number(&case.contracts[0], "fees.basic_monthly"),
            Decimal::from(20000)
        );
    }

    #[test]
    fn references_must_exist() {
        let error =
            error_of(&MINIMAL.replace("contract: WG-1, accounts", "contract: WG-9, accounts"));
        assert_eq!(error.path, "requests[0].contract");
        assert!(error.message.contains("WG-9"));
        let error = error_of(&MINIMAL.replace("    formed: 2026-03-01\n", ""));
        assert_eq!(error.path, "contracts[0].formed");
    }

    #[test]
    fn json_cases_read_the_same() {
        let json = r#"{"as_of": "2026-05-01", "contracts": [], "requests": [
            {"type": "terminate", "contract": "X", "notice_arrived": "2026-05-01"}]}"#;
        let error = read(json, Some("c.json")).unwrap_err();
        assert_eq!(error.path, "requests[0].contract");
        let error = read(r#"{"as_of": "2026-13-01"}"#, Some("c.json")).unwrap_err();
        assert_eq!(error.path, "as_of");
        assert_eq!(error.position.map(|at| at.line), Some(1));
    }

    #[test]
    fn numbers_a_float_cannot_hold_are_refused_not_rounded() {
        // YAML hands these over as floats: 50 and 20000 after rounding.
        let accounts =
            error_of(&MINIMAL.replace("accounts: 120", "accounts: 49.99999999999999999"));
        assert_eq!(accounts.path, "contracts[0].accounts");
        assert!(
            accounts.message.contains("cannot be read exactly"),
            "{accounts}"
        );
        assert_eq!(accounts.position.map(|at| at.line), Some(5));
        let yen = error_of(&MINIMAL.replace(
            "per_account_monthly: 300",
            "per_account_monthly: 19999.999999999999",
        ));
        assert_eq!(yen.path, "contracts[0].fees.per_account_monthly");
        // The advice is taken: the amount as a string reads, exactly.
        assert!(
            yen.message
                .contains("write an amount as a string (\"19999.999999999999\")")
        );
        assert!(accounts.message.contains("a count as a whole number"));
        let quoted = read(
            &MINIMAL.replace(
                "per_account_monthly: 300",
                "per_account_monthly: \"19999.999999999999\"",
            ),
            None,
        )
        .expect("the advice reads");
        assert_eq!(
            number(&quoted.contracts[0], "fees.per_account_monthly").to_string(),
            "19999.999999999999"
        );
        // Integers past 64 bits are still integers, read exactly.
        let case = read(
            &MINIMAL.replace("accounts: 120", "accounts: 99999999999999999999"),
            None,
        )
        .unwrap();
        assert_eq!(
            number(&case.contracts[0], "accounts").to_string(),
            "99999999999999999999"
        );
        // What a float holds exactly is still read: 50.5 accounts (refused by the rules).
        let case = read(&MINIMAL.replace("accounts: 120", "accounts: 50.5"), None).unwrap();
        assert_eq!(number(&case.contracts[0], "accounts"), Decimal::new(505, 1));
        // JSON numbers are read from their text, but not past 28 significant digits.
        let json = |accounts: &str| {
            format!(
                r#"{{"as_of": "2026-05-01", "contracts": [{{"id": "WG-1", "kind": "web_gateway",
            "accounts": {accounts}, "formed": "2026-04-01", "billing_start": "2026-04-10"}}]}}"#
            )
        };
        let error = read(&json("50.00000000000000000000000000001"), None).unwrap_err();
        assert_eq!(error.path, "contracts[0].accounts");
        assert!(error.message.contains("28"), "{error}");
        let case = read(&json("5.000000000000000000000000000000e1"), None).unwrap();
        assert_eq!(number(&case.contracts[0], "accounts"), Decimal::from(50));
        assert!(read(&json("1e999999"), None).is_err());
    }

    #[test]
    fn money_strings_are_plain_decimals() {
        for bad in [
            "\"1__0\"",
            "\"1_000\"",
            "\"1e3\"",
            "\"0x10\"",
            "\".5\"",
            "\"5.\"",
            "\"\"",
        ] {
            let error = error_of(&MINIMAL.replace("\"20000\"", bad));
            assert_eq!(error.path, "contracts[0].fees.basic_monthly", "{bad}");
        }
        let case = read(&MINIMAL.replace("\"20000\"", "\"-0.50\""), None).unwrap();
        assert_eq!(
            number(&case.contracts[0], "fees.basic_monthly"),
            Decimal::new(-50, 2)
        );
    }

    #[test]
    fn anchors_aliases_depth_and_size_are_refused_before_parsing() {
        let alias = MINIMAL.replace("fees: {", "fees: &f {")
            + "  - { type: add_option, date: 2026-05-02, contract: WG-1, option: dedicated_ip, fees: *f }\n";
        let error = error_of(&alias);
        assert!(error.message.contains("anchor"), "{error}");
        assert_eq!(error.path, "contracts[0].fees");
        let error = error_of(
            &MINIMAL
                .replace("fees: {", "fees: !!map {")
                .replace("    accounts: 120", "    accounts: *a"),
        );
        assert!(error.message.contains("anchor"), "{error}");
        let twice = MINIMAL
            .replace("per_account_monthly: 300", "per_account_monthly: &p 300")
            .replace("accounts: 40", "accounts: *p");
        let error = error_of(&twice);
        assert!(error.message.contains("anchor"), "{error}");
        assert_eq!(error.path, "contracts[0].fees.per_account_monthly");

        let deep = format!(
            "as_of: 2026-05-01\ncustomer: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let started = std::time::Instant::now();
        let error = error_of(&deep);
        assert!(error.message.contains("max_depth"), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        let compact = format!("as_of: 2026-05-01\ncontracts:\n{}x\n", "- ".repeat(40));
        assert!(error_of(&compact).message.contains("max_depth"));
        let json = format!(
            "{{\"as_of\": \"2026-05-01\", \"customer\": {}1{}}}",
            "[".repeat(40),
            "]".repeat(40)
        );
        assert!(read(&json, None).unwrap_err().message.contains("max_depth"));
        // Brackets inside quotes and comments are text, not nesting.
        let quoted = MINIMAL
            .replace(
                "as_of: 2026-05-01",
                &format!("as_of: 2026-05-01 # {}", "[".repeat(50)),
            )
            .replace(
                "id: WG-1\n",
                &format!("id: \"WG-1\"\n    item: '{}'\n", "{".repeat(50)),
            );
        assert!(read(&quoted, None).is_ok());

        // A compact entry that ends its line (found by tests/readers_proptest.rs).
        assert!(read("as_of: 2026-05-01\ncontracts:\n -", None).is_err());

        let limits = CaseLimits {
            max_bytes: 100,
            ..CaseLimits::default()
        };
        let error = Case::from_str_with(rules(), MINIMAL, None, &limits).unwrap_err();
        assert!(error.message.contains("max_bytes"), "{error}");
    }

    #[test]
    fn case_sizes_are_capped_naming_the_field() {
        let limits = CaseLimits {
            max_requests: 1,
            ..CaseLimits::default()
        };
        let error = Case::from_str_with(rules(), MINIMAL, None, &limits).unwrap_err();
        assert_eq!(error.path, "requests");
        assert!(error.message.contains("max_requests"), "{error}");
        let limits = CaseLimits {
            max_contracts: 0,
            ..CaseLimits::default()
        };
        assert_eq!(
            Case::from_str_with(rules(), MINIMAL, None, &limits)
                .unwrap_err()
                .path,
            "contracts"
        );
        let options = MINIMAL.replace(
            "    fees: {",
            "    options: [{kind: dedicated_ip}, {kind: dedicated_ip}]\n    fees: {",
        );
        let limits = CaseLimits {
            max_options: 1,
            ..CaseLimits::default()
        };
        let error = Case::from_str_with(rules(), &options, None, &limits).unwrap_err();
        assert_eq!(error.path, "contracts[0].options");
        assert!(error.message.contains("max_options"), "{error}");
        assert!(read(&options, None).is_ok());
    }

    #[test]
    fn text_after_a_json_case_is_an_error() {
        let json = r#"{"as_of": "2026-05-01"} {"as_of": "2026-05-02"}"#;
        let error = read(json, None).unwrap_err();
        assert!(error.message.contains("text after the document"), "{error}");
        assert_eq!(error.position.map(|at| at.column), Some(25));
        assert!(read("{\"as_of\": \"2026-05-01\"}\n  \n", None).is_ok());
    }
}
