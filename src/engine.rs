//! The expression engine: one sandboxed Rhai [`Engine`] per rule set, with the domain
//! functions rules call (calendar periods, yen rounding, contract state).
//!
//! The engine is built once when a rule set loads; expressions are compiled once into
//! ASTs and reused. Rules get no file, network, clock or `eval` access, and every
//! evaluation is bounded in operations, call depth, sizes and wall-clock time.

use std::cell::Cell;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use rhai::module_resolvers::DummyModuleResolver;
use rhai::{AST, Array, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Map, Scope};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::calendar;
use crate::ruling::Value;

/// A calendar date, as Rhai sees it.
pub type Date = NaiveDate;
/// A point in time with its offset, as Rhai sees it.
pub type Timestamp = DateTime<FixedOffset>;

/// Bounds on what one rule evaluation may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations per expression.
    pub max_operations: u64,
    /// Nested function calls.
    pub max_call_levels: usize,
    /// Characters in one string.
    pub max_string_size: usize,
    /// Elements in one array.
    pub max_array_size: usize,
    /// Entries in one object map.
    pub max_map_size: usize,
    /// Wall-clock time for one whole case.
    pub time_budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 100_000,
            max_call_levels: 32,
            max_string_size: 10_000,
            max_array_size: 10_000,
            max_map_size: 1_000,
            time_budget: Duration::from_secs(2),
        }
    }
}

thread_local! {
    /// When the evaluation running on this thread must stop.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// How often (in operations) the wall clock is read: reading it costs more than an
/// operation, and a budget of seconds does not need finer checks.
const CLOCK_EVERY: u64 = 1024;

/// Runs `work` with a wall-clock deadline for every expression it evaluates on this thread.
pub fn with_deadline<T>(budget: Duration, work: impl FnOnce() -> T) -> T {
    let previous = DEADLINE.replace(Some(Instant::now() + budget));
    let result = work();
    DEADLINE.set(previous);
    result
}

/// Builds the sandboxed engine with the domain functions registered.
pub fn new_engine(limits: &Limits) -> Engine {
    let mut engine = Engine::new();
    // `Engine::new` resolves `import` from the file system; rules may import nothing,
    // so the keyword is refused at compile time and nothing could be resolved anyway.
    engine.set_module_resolver(DummyModuleResolver::new());
    engine.disable_symbol("import");
    engine.disable_symbol("eval");
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    engine.set_max_operations(limits.max_operations);
    engine.set_max_call_levels(limits.max_call_levels);
    engine.set_max_expr_depths(64, 32);
    engine.set_max_string_size(limits.max_string_size);
    engine.set_max_array_size(limits.max_array_size);
    engine.set_max_map_size(limits.max_map_size);
    engine.on_progress(|operations| {
        if operations % CLOCK_EVERY != 0 {
            return None;
        }
        let late = DEADLINE
            .get()
            .is_some_and(|deadline| Instant::now() > deadline);
        late.then(|| Dynamic::from("the evaluation's time budget ran out"))
    });
    register_dates(&mut engine);
    register_timestamps(&mut engine);
    register_money(&mut engine);
    register_state(&mut engine);
    engine
}

type Fallible<T> = Result<T, Box<EvalAltResult>>;

fn failure<T>(message: impl Into<String>) -> Fallible<T> {
    Err(message.into().into())
}

fn out_of_range(what: &str) -> Box<EvalAltResult> {
    format!("{what} is out of the calendar's range").into()
}

/// `==`, `!=`, `<`, `<=`, `>`, `>=` between two values of a custom type.
fn register_ordering<T: PartialOrd + Clone + Send + Sync + 'static>(engine: &mut Engine) {
    engine
        .register_fn("==", |a: T, b: T| a == b)
        .register_fn("!=", |a: T, b: T| a != b)
        .register_fn("<", |a: T, b: T| a < b)
        .register_fn("<=", |a: T, b: T| a <= b)
        .register_fn(">", |a: T, b: T| a > b)
        .register_fn(">=", |a: T, b: T| a >= b);
}

fn register_dates(engine: &mut Engine) {
    register_ordering::<Date>(engine);
    engine
        .register_type_with_name::<Date>("Date")
        .register_fn("date", |text: &str| -> Fallible<Date> {
            calendar::parse_date(text)
                .map_or_else(|| failure(format!("`{text}` is not a YYYY-MM-DD date")), Ok)
        })
        .register_fn("to_string", |d: &mut Date| d.to_string())
        .register_fn("to_debug", |d: &mut Date| d.to_string())
        .register_get("year", |d: &mut Date| INT::from(d.year()))
        .register_get("month", |d: &mut Date| INT::from(d.month()))
        .register_get("day", |d: &mut Date| INT::from(d.day()))
        .register_fn("later", |a: Date, b: Date| a.max(b))
        .register_fn("earlier", |a: Date, b: Date| a.min(b))
        .register_fn("add_days", |d: Date, n: INT| -> Fallible<Date> {
            calendar::add_days(d, n).ok_or_else(|| out_of_range("add_days"))
        })
        .register_fn("add_months", |d: Date, n: INT| -> Fallible<Date> {
            calendar::add_months(d, n).ok_or_else(|| out_of_range("add_months"))
        })
        .register_fn("period_end", |start: Date, months: INT| -> Fallible<Date> {
            calendar::period_end(start, months).ok_or_else(|| out_of_range("period_end"))
        })
        .register_fn("days_after", |d: Date, n: INT| -> Fallible<Date> {
            calendar::days_after(d, n).ok_or_else(|| out_of_range("days_after"))
        })
        .register_fn("days_inclusive", |from: Date, to: Date| {
            calendar::days_inclusive(from, to)
        });
}

fn register_timestamps(engine: &mut Engine) {
    register_ordering::<Timestamp>(engine);
    engine
        .register_type_with_name::<Timestamp>("Timestamp")
        .register_fn("to_string", |t: &mut Timestamp| t.to_rfc3339())
        .register_fn("to_debug", |t: &mut Timestamp| t.to_rfc3339())
        .register_fn("jst_date", |t: Timestamp| calendar::jst_date(&t))
        .register_fn(
            "add_hours",
            |t: Timestamp, hours: INT| -> Fallible<Timestamp> {
                t.checked_add_signed(chrono::Duration::hours(hours))
                    .ok_or_else(|| out_of_range("add_hours"))
            },
        )
        // Exact hours as a decimal: seconds ÷ 3600, never a float.
        .register_fn("hours_between", |from: Timestamp, to: Timestamp| {
            Decimal::from((to - from).num_seconds()) / Decimal::from(3600)
        });
}

fn register_money(engine: &mut Engine) {
    engine
        .register_fn("floor_yen", |amount: Decimal| amount.floor())
        .register_fn("floor_yen", |amount: INT| Decimal::from(amount))
        .register_fn("yen", |amount: INT| Decimal::from(amount))
        .register_fn("yen", |amount: Decimal| amount)
        .register_fn("whole", |amount: Decimal| -> Fallible<INT> {
            amount
                .floor()
                .to_i64()
                .ok_or_else(|| format!("{amount} is too large for a whole number").into())
        })
        .register_fn("whole", |amount: INT| amount)
        .register_fn("is_whole", |n: Decimal| n.fract().is_zero())
        .register_fn("is_whole", |_: INT| true);
}

/// The case model's notion of being in force (SPEC §1): generic, read from the maps the
/// evaluator builds, so rules can ask without rebuilding it in Rhai. Arguments are taken
/// as `Dynamic` and read in place: the evaluator hands Rhai shared values, and a typed
/// `Map` argument would copy the whole map at every call.
fn register_state(engine: &mut Engine) {
    engine
        .register_fn(
            "contract_in_force",
            |contract: Dynamic, day: Date| -> Fallible<bool> {
                contract_in_force(&*as_map(&contract)?, day)
            },
        )
        .register_fn(
            "option_in_force",
            |option: Dynamic, day: Date| -> Fallible<bool> {
                dated_in_force(&*as_map(&option)?, "billing_start", day)
            },
        )
        .register_fn(
            "count_in_force",
            |contracts: Dynamic, kind: &str, day: Date| -> Fallible<INT> {
                let mut count = 0;
                for contract in as_array(&contracts)?.iter() {
                    let contract = as_map(contract)?;
                    if text_field(&contract, "kind")? == kind && contract_in_force(&contract, day)?
                    {
                        count += 1;
                    }
                }
                Ok(count)
            },
        )
        .register_fn(
            "holds_any",
            |contracts: Dynamic, kinds: Array, day: Date| -> Fallible<bool> {
                for contract in as_array(&contracts)?.iter() {
                    let contract = as_map(contract)?;
                    let kind = text_field(&contract, "kind")?;
                    let listed = kinds
                        .iter()
                        .any(|k| k.read_lock::<ImmutableString>().is_some_and(|k| *k == kind));
                    if listed && contract_in_force(&contract, day)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            },
        );
}

fn as_array(value: &Dynamic) -> Fallible<rhai::DynamicReadLock<'_, Array>> {
    value.read_lock::<Array>().map_or_else(
        || failure(format!("expected an array, got {}", value.type_name())),
        Ok,
    )
}

fn as_map(value: &Dynamic) -> Fallible<rhai::DynamicReadLock<'_, Map>> {
    value.read_lock::<Map>().map_or_else(
        || failure(format!("expected a map, got {}", value.type_name())),
        Ok,
    )
}

fn text_field(map: &Map, field: &str) -> Fallible<String> {
    match map.get(field) {
        Some(value) if value.is_string() => Ok(value.to_string()),
        Some(value) if value.is_unit() => Ok(String::new()),
        Some(value) => failure(format!("`{field}` is a {}, not text", value.type_name())),
        None => failure(format!("the map has no `{field}`")),
    }
}

fn date_field(map: &Map, field: &str) -> Fallible<Option<Date>> {
    match map.get(field) {
        Some(value) if value.is_unit() => Ok(None),
        Some(value) => value
            .clone()
            .try_cast::<Date>()
            .map(Some)
            .map_or_else(|| failure(format!("`{field}` is not a date")), Ok),
        None => failure(format!("the map has no `{field}`")),
    }
}

fn dated_in_force(map: &Map, start_field: &str, day: Date) -> Fallible<bool> {
    let started = date_field(map, start_field)?.is_some_and(|start| start <= day);
    let not_ended = date_field(map, "ended")?.is_none_or(|end| day <= end);
    Ok(started && not_ended)
}

fn contract_in_force(contract: &Map, day: Date) -> Fallible<bool> {
    dated_in_force(contract, "formed", day)
}

/// A Rhai value as a ruling writes it, for explanations: dates and decimals as text.
pub fn to_value(value: &Dynamic) -> Value {
    if let Some(day) = value.clone().try_cast::<Date>() {
        return Value::Text(day.to_string());
    }
    if let Some(stamp) = value.clone().try_cast::<Timestamp>() {
        return Value::Text(stamp.to_rfc3339());
    }
    if let Ok(amount) = value.as_decimal() {
        return Value::Text(amount.normalize().to_string());
    }
    if let Ok(n) = value.as_int() {
        return Value::Integer(n);
    }
    if let Ok(b) = value.as_bool() {
        return Value::Bool(b);
    }
    if value.is_unit() {
        return Value::Null;
    }
    if let Some(items) = value.read_lock::<Array>() {
        return Value::List(items.iter().map(to_value).collect());
    }
    if let Some(map) = value.read_lock::<Map>() {
        return Value::Map(
            map.iter()
                .map(|(k, v)| (k.to_string(), to_value(v)))
                .collect(),
        );
    }
    Value::Text(value.to_string())
}

/// Evaluates a compiled expression to a `Dynamic`, restoring the scope afterwards.
pub fn run(engine: &Engine, scope: &mut Scope, ast: &AST) -> Result<Dynamic, String> {
    let depth = scope.len();
    let result = engine.eval_ast_with_scope::<Dynamic>(scope, ast);
    scope.rewind(depth);
    result.map_err(|error| describe(&error))
}

/// An evaluation error in words; a stop by `on_progress` says why it stopped.
pub fn describe(error: &EvalAltResult) -> String {
    // A stop inside a function or closure comes wrapped in the calls it happened in.
    match error.unwrap_inner() {
        EvalAltResult::ErrorTerminated(reason, _) => format!("stopped: {reason} ({error})"),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(script: &str) -> Result<Dynamic, String> {
        let engine = new_engine(&Limits::default());
        engine.eval::<Dynamic>(script).map_err(|e| e.to_string())
    }

    #[test]
    fn dates_compare_and_count_like_the_civil_code() {
        let r = eval(r#"period_end(date("2026-01-31"), 1) == date("2026-02-28")"#).unwrap();
        assert!(r.as_bool().unwrap());
        let r = eval(r#"days_after(date("2026-04-01"), 30).to_string()"#).unwrap();
        assert_eq!(r.to_string(), "2026-05-01");
        let r = eval(r#"later(date("2026-05-01"), date("2026-06-30")).month"#).unwrap();
        assert_eq!(r.as_int().unwrap(), 6);
        assert!(
            eval(r#"date("2026-02-30")"#)
                .unwrap_err()
                .contains("2026-02-30")
        );
    }

    #[test]
    fn money_is_decimal_and_floors_to_the_yen() {
        let r = eval("floor_yen(yen(20000) * 17 / 30)").unwrap();
        assert_eq!(r.as_decimal().unwrap(), Decimal::from(11333));
        let r = eval("1.5 + 1").unwrap();
        assert_eq!(r.as_decimal().unwrap(), Decimal::new(25, 1));
    }

    #[test]
    fn the_sandbox_refuses_io_eval_and_runaway_loops() {
        let import = eval(r#"import "/etc/passwd" as p; 1"#).unwrap_err();
        assert!(import.contains("import"), "{import}");
        assert!(eval(r#"eval("1")"#).is_err());
        let looped = eval("let i = 0; loop { i += 1; }").unwrap_err();
        assert!(looped.contains("Too many operations"), "{looped}");
        let huge = eval(r#"let s = "x"; loop { s += s; }"#).unwrap_err();
        assert!(huge.contains("Length of string"), "{huge}");
        let nested = eval("[1, 2].map(|x| { loop { x += 1; } })").unwrap_err();
        assert!(nested.contains("Too many operations"), "{nested}");
    }

    #[test]
    fn the_deadline_stops_a_long_evaluation() {
        let limits = Limits {
            max_operations: 0, // unlimited: only the clock can stop it
            time_budget: Duration::from_millis(50),
            ..Limits::default()
        };
        let engine = new_engine(&limits);
        let started = Instant::now();
        let result = with_deadline(limits.time_budget, || {
            engine.eval::<Dynamic>("let i = 0; loop { i += 1; }")
        });
        let message = describe(&result.unwrap_err());
        assert!(message.contains("time budget"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
