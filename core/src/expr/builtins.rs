//! Functions every rule set may call: Civil Code periods, Japan time, yen rounding.
//! Each is total on its types; only a date past the calendar's range fails.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::types::{FunctionSig, Schema, Type};
use super::value::Value;
use crate::calendar;

fn date(v: &Value) -> Result<chrono::NaiveDate, String> {
    v.as_date().ok_or_else(|| "expected a date".to_owned())
}

fn int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(n) => Ok(*n),
        _ => Err("expected a whole number".to_owned()),
    }
}

fn number(v: &Value) -> Result<Decimal, String> {
    v.as_decimal().ok_or_else(|| "expected a number".to_owned())
}

fn stamp(v: &Value) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    match v {
        Value::Timestamp(t) => Ok(*t),
        _ => Err("expected a timestamp".to_owned()),
    }
}

fn out_of_range(what: &str) -> String {
    format!("{what} goes past the calendar's range")
}

/// A computed date; only chrono's own range fails here. A ruling whose dates leave the
/// years 0001–9999 is refused as an input error when it is written
/// (`batch::in_range`), since only the case's dates can lead there.
fn dated(what: &str, day: Option<chrono::NaiveDate>) -> Result<Value, String> {
    day.map(Value::Date).ok_or_else(|| out_of_range(what))
}

/// Adds the generic functions to `schema`.
pub fn register(schema: &mut Schema) {
    use Type::*;
    let f = |name, params: Vec<Type>, result, run, doc| FunctionSig {
        name,
        id: name,
        params,
        result,
        run,
        bound: Vec::new(),
        names_field: None,
        doc,
    };
    for sig in [
        f(
            "later",
            vec![Date, Date],
            Date,
            |a| Ok(Value::Date(date(&a[0])?.max(date(&a[1])?))),
            "the later of two dates",
        ),
        f(
            "earlier",
            vec![Date, Date],
            Date,
            |a| Ok(Value::Date(date(&a[0])?.min(date(&a[1])?))),
            "the earlier of two dates",
        ),
        f(
            "add_days",
            vec![Date, Int],
            Date,
            |a| dated("add_days", calendar::add_days(date(&a[0])?, int(&a[1])?)),
            "the date n days later (earlier for negative n)",
        ),
        f(
            "add_months",
            vec![Date, Int],
            Date,
            |a| {
                dated(
                    "add_months",
                    calendar::add_months(date(&a[0])?, int(&a[1])?),
                )
            },
            "the corresponding day n months later, or that month's last day when there is none (民法 第143条第2項)",
        ),
        f(
            "period_end",
            vec![Date, Int],
            Date,
            |a| {
                dated(
                    "period_end",
                    calendar::period_end(date(&a[0])?, int(&a[1])?),
                )
            },
            "the last day of a period of n months whose first day is counted (起算日)",
        ),
        f(
            "months_elapsed_from",
            vec![Timestamp, Int],
            Date,
            |a| {
                dated(
                    "months_elapsed_from",
                    calendar::months_elapsed_from(&stamp(&a[0])?, int(&a[1])?),
                )
            },
            "the day a period of n months from a moment ends: the moment's day (Japan time) not counted unless the moment is 00:00 (民法 第140条), then as period_end (第143条)",
        ),
        f(
            "days_after",
            vec![Date, Int],
            Date,
            |a| {
                dated(
                    "days_after",
                    calendar::days_after(date(&a[0])?, int(&a[1])?),
                )
            },
            "the day n days pass after an event on the given day, that day not counted (初日不算入)",
        ),
        f(
            "days_inclusive",
            vec![Date, Date],
            Int,
            |a| {
                Ok(Value::Int(calendar::days_inclusive(
                    date(&a[0])?,
                    date(&a[1])?,
                )))
            },
            "the days from the first date through the second, both counted",
        ),
        f(
            "whole_months",
            vec![Date, Date],
            Int,
            |a| {
                Ok(Value::Int(calendar::whole_months(
                    date(&a[0])?,
                    date(&a[1])?,
                )))
            },
            "the whole months of a period whose first day is counted (起算日) that have ended by the second date (民法 第143条)",
        ),
        f(
            "whole_years",
            vec![Date, Date],
            Int,
            |a| {
                Ok(Value::Int(calendar::whole_years(
                    date(&a[0])?,
                    date(&a[1])?,
                )))
            },
            "the whole years of such a period ended by the second date, a year ending as twelve months do (民法 第143条)",
        ),
        f(
            "contract_year",
            vec![Date, Date],
            Int,
            |a| {
                Ok(Value::Int(calendar::contract_year(
                    date(&a[0])?,
                    date(&a[1])?,
                )))
            },
            "which year, from 1, of a contract whose first day is the first date the second lies in (0 before it)",
        ),
        f(
            "jst_date",
            vec![Timestamp],
            Date,
            |a| Ok(Value::Date(calendar::jst_date(&stamp(&a[0])?))),
            "the calendar date of a timestamp in Japan time",
        ),
        f(
            "add_hours",
            vec![Timestamp, Int],
            Timestamp,
            |a| {
                stamp(&a[0])?
                    .checked_add_signed(chrono::Duration::hours(int(&a[1])?))
                    .map(Value::Timestamp)
                    .ok_or_else(|| out_of_range("add_hours"))
            },
            "the timestamp n hours later",
        ),
        f(
            "hours_between",
            vec![Timestamp, Timestamp],
            Decimal,
            |a| {
                let seconds = (stamp(&a[1])? - stamp(&a[0])?).num_seconds();
                Ok(Value::Decimal(
                    rust_decimal::Decimal::from(seconds) / rust_decimal::Decimal::from(3600),
                ))
            },
            "the exact hours from the first timestamp to the second",
        ),
        f(
            "end_of_day",
            vec![Date],
            Timestamp,
            |a| {
                calendar::end_of_day_jst(date(&a[0])?)
                    .map(Value::Timestamp)
                    .ok_or_else(|| out_of_range("end_of_day"))
            },
            "the moment a day ends, 24:00 Japan time (the next day's 00:00)",
        ),
        f(
            "floor_yen",
            vec![Number],
            Yen,
            |a| Ok(Value::Decimal(number(&a[0])?.floor())),
            "rounds down to the whole yen",
        ),
        f(
            "yen",
            vec![Int],
            Yen,
            |a| Ok(Value::Decimal(number(&a[0])?)),
            "a whole number as yen",
        ),
        f(
            "whole",
            vec![Number],
            Int,
            |a| {
                let n = number(&a[0])?;
                n.floor()
                    .to_i64()
                    .map(Value::Int)
                    .ok_or_else(|| format!("{n} is too large for a whole number"))
            },
            "rounds down to a whole number",
        ),
        f(
            "is_whole",
            vec![Number],
            Bool,
            |a| Ok(Value::Bool(number(&a[0])?.fract().is_zero())),
            "whether a number has no fraction",
        ),
    ] {
        schema.function(sig);
    }
}

pub use super::types::Run;

/// Functions over the records a rule set's model declares: the model adds a signature of
/// each per record type, with this code.
pub mod records {
    use std::sync::Arc;

    use chrono::NaiveDate;

    use super::super::value::{Record, Value};

    fn record(v: &Value) -> Result<&Record, String> {
        v.as_record()
            .map(|r| &**r)
            .ok_or_else(|| "expected a record".to_owned())
    }

    fn day(v: &Value) -> Result<NaiveDate, String> {
        v.as_date().ok_or_else(|| "expected a date".to_owned())
    }

    /// `at(timeline, day)`.
    pub fn at(a: &[Value]) -> Result<Value, String> {
        Ok(a[0].on_day(day(&a[1])?))
    }

    /// `in_force(record, day)`.
    pub fn in_force(a: &[Value]) -> Result<Value, String> {
        Ok(Value::Bool(record(&a[0])?.in_force_on(day(&a[1])?)))
    }

    /// `held_on(record, day)`.
    pub fn held_on(a: &[Value]) -> Result<Value, String> {
        Ok(Value::Bool(record(&a[0])?.held_on(day(&a[1])?)))
    }

    /// `count_in_force_where(list, "field", value, day)`.
    pub fn count_in_force_where(a: &[Value]) -> Result<Value, String> {
        let wanted = |v: &Value| v.same(&a[2]);
        let n = in_force_where(&a[0], &a[1], day(&a[3])?, wanted)?.count();
        Ok(Value::Int(n as i64))
    }

    /// `any_in_force_where(list, "field", [values], day)`.
    pub fn any_in_force_where(a: &[Value]) -> Result<Value, String> {
        let values = a[2].as_list().ok_or("expected a list")?;
        let wanted = |v: &Value| values.iter().any(|w| w.same(v));
        let mut found = in_force_where(&a[0], &a[1], day(&a[3])?, wanted)?;
        Ok(Value::Bool(found.next().is_some()))
    }

    /// The records of `list` in force on `day` whose field `field` (checked by the
    /// compiler to be one of theirs) gives a value `wanted` accepts.
    fn in_force_where<'a>(
        list: &'a Value,
        field: &'a Value,
        day: NaiveDate,
        wanted: impl Fn(&Value) -> bool + 'a,
    ) -> Result<impl Iterator<Item = &'a Record> + 'a, String> {
        let items = list.as_list().ok_or("expected a list of records")?;
        let field = field.as_text().ok_or("expected a field name")?;
        // Records of one list share their shape: the field's place is found once.
        let first = items.first().and_then(Value::as_record);
        let shape = first.map(|r| r.shape.clone());
        let place = first.and_then(|r| r.shape.index(field));
        Ok(items.iter().filter_map(move |item| {
            let record = item.as_record()?;
            let at = match &shape {
                Some(shape) if Arc::ptr_eq(shape, &record.shape) => place,
                _ => record.shape.index(field),
            }?;
            (wanted(record.at(at)) && record.in_force_on(day)).then_some(&**record)
        }))
    }

    /// A record's maker: `a[0]` the prototype, `a[1]` the field places, then the fields'
    /// values.
    pub fn make(a: &[Value]) -> Result<Value, String> {
        let prototype = record(&a[0])?;
        let places = a[1].as_list().ok_or("expected places")?;
        let mut made = prototype.clone();
        for (place, value) in places.iter().zip(&a[2..]) {
            if let Value::Int(i) = place {
                made.values[*i as usize] = value.clone();
            }
        }
        Ok(Value::Record(Arc::new(made)))
    }

    type Moment = chrono::DateTime<chrono::FixedOffset>;

    fn moment(v: &Value) -> Result<Moment, String> {
        match v {
            Value::Timestamp(t) => Ok(*t),
            _ => Err("expected a timestamp".to_owned()),
        }
    }

    /// A record's window `[from, to)` by its shape's span.
    fn window(record: &Record) -> Result<(Moment, Moment), String> {
        let span = record.shape.span.ok_or("expected a record with a span")?;
        Ok((moment(record.at(span.from))?, moment(record.at(span.to))?))
    }

    fn overlap(a: (Moment, Moment), b: (Moment, Moment)) -> bool {
        a.0 < b.1 && b.0 < a.1
    }

    /// `connected(list, from, to)`: the records whose windows overlap `[from, to)`, directly
    /// or through one another, in the list's order. The windows merge into disjoint runs
    /// (sorted by start); `[from, to)` joins every run it overlaps, and no other: a run
    /// between two it overlaps lies inside it.
    pub fn connected(a: &[Value]) -> Result<Value, String> {
        let items = a[0].as_list().ok_or("expected a list of records")?;
        let mut windows = Vec::with_capacity(items.len());
        for item in items {
            windows.push(window(item.as_record().ok_or("expected a record")?)?);
        }
        let wanted = (moment(&a[1])?, moment(&a[2])?);
        // An empty window overlaps nothing.
        let mut order: Vec<usize> = (0..windows.len())
            .filter(|&i| windows[i].0 < windows[i].1)
            .collect();
        order.sort_by_key(|&i| windows[i].0);
        let mut joined = vec![false; items.len()];
        let mut run: Vec<usize> = Vec::new();
        let mut reach = None;
        let mut close = |run: &mut Vec<usize>, hull: Option<(Moment, Moment)>| {
            if wanted.0 < wanted.1 && hull.is_some_and(|hull| overlap(hull, wanted)) {
                for &i in run.iter() {
                    joined[i] = true;
                }
            }
            run.clear();
        };
        for i in order {
            let (from, to) = windows[i];
            match reach {
                Some((start, end)) if from < end => reach = Some((start, end.max(to))),
                hull => {
                    close(&mut run, hull);
                    reach = Some((from, to));
                }
            }
            run.push(i);
        }
        close(&mut run, reach);
        let kept = items
            .iter()
            .zip(joined)
            .filter(|(_, j)| *j)
            .map(|(item, _)| item.clone())
            .collect();
        Ok(Value::list(kept))
    }

    /// `span_hours(list, from, to, until)`: the hours the union of `[from, to)` and the
    /// records' windows covers, each cut at `until` (none when it is `()`).
    pub fn span_hours(a: &[Value]) -> Result<Value, String> {
        let items = a[0].as_list().ok_or("expected a list of records")?;
        let until = match &a[3] {
            Value::Null => None,
            other => Some(moment(other)?),
        };
        let mut windows = vec![(moment(&a[1])?, moment(&a[2])?)];
        for item in items {
            windows.push(window(item.as_record().ok_or("expected a record")?)?);
        }
        let mut cut: Vec<(i64, i64)> = windows
            .into_iter()
            .map(|(from, to)| {
                (
                    from.timestamp(),
                    until.map_or(to, |u| to.min(u)).timestamp(),
                )
            })
            .filter(|(from, to)| from < to)
            .collect();
        cut.sort_unstable();
        let (mut seconds, mut reached) = (0i64, i64::MIN);
        for (from, to) in cut {
            let from = from.max(reached);
            if to > from {
                seconds += to - from;
                reached = to;
            }
        }
        Ok(Value::Decimal(
            rust_decimal::Decimal::from(seconds) / rust_decimal::Decimal::from(3600),
        ))
    }

    /// Each by the name a compiled rule set written to bytes calls it.
    pub(super) const ALL: [(&str, super::Run); 8] = [
        ("record:at", at),
        ("record:in_force", in_force),
        ("record:held_on", held_on),
        ("record:count_in_force_where", count_in_force_where),
        ("record:any_in_force_where", any_in_force_where),
        ("record:make", make),
        ("record:connected", connected),
        ("record:span_hours", span_hours),
    ];
}

/// A function a compiled expression calls: its stable id, by which a compiled rule set
/// written to bytes names it (`ruleset::image`), and its code.
#[derive(Clone, Copy)]
pub struct Builtin {
    /// Stable from build to build: a generic function's name, `record:NAME` for one the
    /// model declares.
    pub id: &'static str,
    /// What it computes.
    pub run: Run,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

impl serde::Serialize for Builtin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id)
    }
}

impl<'de> serde::Deserialize<'de> for Builtin {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = <&str>::deserialize(deserializer)?;
        by_id(id).ok_or_else(|| serde::de::Error::custom(format!("no function `{id}`")))
    }
}

/// Every function compiled expressions may call, by its stable id: a rule set compiled to
/// bytes (`ruleset::image`) names its calls so, and is read back by them.
fn registry() -> &'static [(&'static str, Run)] {
    static ALL: std::sync::OnceLock<Vec<(&'static str, Run)>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut schema = Schema::default();
        register(&mut schema);
        let generic = schema
            .functions
            .values()
            .flatten()
            .map(|f| (f.id, f.run))
            .collect::<Vec<_>>();
        generic.into_iter().chain(records::ALL).collect()
    })
}

/// The function with the stable id `id`, if there is one.
pub fn by_id(id: &str) -> Option<Builtin> {
    registry()
        .iter()
        .find(|(known, _)| *known == id)
        .map(|&(id, run)| Builtin { id, run })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[Value]) -> Result<Value, String> {
        let mut schema = Schema::default();
        register(&mut schema);
        let sig = &schema.functions[name][0];
        (sig.run)(args)
    }

    fn day(text: &str) -> Value {
        Value::Date(calendar::parse_date(text).unwrap())
    }

    #[test]
    fn calendar_and_money() {
        assert_eq!(
            call("period_end", &[day("2026-01-31"), Value::Int(1)])
                .unwrap()
                .as_date(),
            day("2026-02-28").as_date()
        );
        assert_eq!(
            call("days_after", &[day("2026-04-01"), Value::Int(30)])
                .unwrap()
                .as_date(),
            day("2026-05-01").as_date()
        );
        let moment = |text| Value::Timestamp(calendar::parse_timestamp(text).unwrap());
        for (from, deadline) in [
            ("2026-04-15T10:00:00", "2026-07-15"),
            ("2026-04-30T10:00:00", "2026-07-31"),
            ("2027-02-28T10:00:00", "2027-05-31"),
            ("2026-09-30T10:00:00", "2026-12-31"),
            ("2026-06-02T00:00:00", "2026-09-01"),
        ] {
            assert_eq!(
                call("months_elapsed_from", &[moment(from), Value::Int(3)])
                    .unwrap()
                    .as_date(),
                day(deadline).as_date(),
                "{from}"
            );
        }
        let floor = call("floor_yen", &[Value::Decimal(Decimal::new(39999, 1))]).unwrap();
        assert_eq!(floor.as_decimal(), Some(Decimal::from(3999)));
        let last = Value::Date(chrono::NaiveDate::MAX);
        assert!(
            call("add_days", &[last, Value::Int(1)])
                .unwrap_err()
                .contains("range")
        );
    }

    /// Windows of one outage: `connected` follows overlaps through one another, never
    /// across a gap or a touching end; `span_hours` counts their union once, cut.
    #[test]
    fn windows_connect_through_one_another_and_count_once() {
        use std::sync::Arc;

        use super::super::value::{Record, Shape, Span};

        let shape = Arc::new(Shape {
            name: "outage".into(),
            fields: vec!["from".into(), "to".into()],
            label: None,
            key: None,
            life: None,
            span: Some(Span { from: 0, to: 1 }),
        });
        let at = |hour: i64| {
            let base = calendar::parse_timestamp("2026-06-01T00:00:00").unwrap();
            Value::Timestamp(base + chrono::Duration::hours(hour))
        };
        let window = |from, to| {
            Value::Record(Arc::new(Record {
                shape: shape.clone(),
                values: vec![at(from), at(to)],
                place: None,
            }))
        };
        // [0,30) and [40,70) apart; [25,45) bridges them; [70,80) only touches [40,70).
        let list = Value::list(vec![
            window(0, 30),
            window(40, 70),
            window(25, 45),
            window(70, 80),
        ]);
        let joined = |from, to| {
            records::connected(&[list.clone(), at(from), at(to)])
                .unwrap()
                .as_list()
                .unwrap()
                .len()
        };
        assert_eq!(joined(60, 65), 3, "through the bridge to [0,30)");
        assert_eq!(joined(80, 90), 0, "touching is not overlapping");
        assert_eq!(joined(75, 90), 1, "only [70,80)");
        assert_eq!(joined(31, 31), 0, "an empty window overlaps nothing");
        let hours = |until: Value| {
            records::span_hours(&[list.clone(), at(100), at(124), until])
                .unwrap()
                .as_decimal()
                .unwrap()
        };
        // Union [0,80) and [100,124): 80 + 24 hours; cut at hour 50: 50.
        assert_eq!(hours(Value::Null), rust_decimal::Decimal::from(104));
        assert_eq!(hours(at(50)), rust_decimal::Decimal::from(50));
    }
}
