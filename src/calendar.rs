//! Calendar arithmetic as the Civil Code (民法 第140条–第143条) counts periods, and
//! Japan-time timestamps.
//!
//! These are generic: no period length or date of any service's terms is fixed here.
//! Rules call them with the numbers their rule set holds.

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, NaiveDateTime, TimeZone};

/// A point in time with its offset.
pub type Timestamp = DateTime<FixedOffset>;

/// The offset of Japan Standard Time; timestamps without an offset are read in it.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// `date` plus `months` calendar months; when the target month has no such day the
/// result is that month's last day (2026-01-31 + 1 month = 2026-02-28).
pub fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    let magnitude = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        date.checked_add_months(magnitude)
    } else {
        date.checked_sub_months(magnitude)
    }
}

/// `date` plus `days` days (negative goes back).
pub fn add_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    let magnitude = Days::new(days.unsigned_abs());
    if days >= 0 {
        date.checked_add_days(magnitude)
    } else {
        date.checked_sub_days(magnitude)
    }
}

/// The last day of a period of `months` months whose start day is counted (起算日 given):
/// the day before the corresponding day of the last month, or that month's last day when
/// it has no corresponding day (民法 第143条第2項).
///
/// Start 2026-04-15 → 2026-05-14; 2026-04-01 → 2026-04-30; 2026-01-31 → 2026-02-28.
pub fn period_end(start: NaiveDate, months: i64) -> Option<NaiveDate> {
    let target = add_months(start, months)?;
    if target.day() == start.day() {
        // The corresponding day exists: the period ends the day before it.
        target.pred_opt()
    } else {
        // `add_months` clamped to the month end: no corresponding day, so the period
        // ends on that last day itself.
        Some(target)
    }
}

/// The last day of a period of `days` days counted from an event on `date` whose own day
/// is not counted (初日不算入, 民法 第140条): notice on 2026-04-01 + 30 days → 2026-05-01.
pub fn days_after(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    add_days(date, days)
}

/// Days from `from` through `to`, both counted; 0 when `to` is before `from`.
pub fn days_inclusive(from: NaiveDate, to: NaiveDate) -> i64 {
    ((to - from).num_days() + 1).max(0)
}

/// Parses a timestamp: RFC 3339, or the same without offset, which is Japan time.
pub fn parse_timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(stamp) = DateTime::parse_from_rfc3339(text) {
        return Some(stamp);
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .and_then(|local| jst().from_local_datetime(&local).single())
}

/// The calendar date of a timestamp in Japan time.
pub fn jst_date(stamp: &DateTime<FixedOffset>) -> NaiveDate {
    stamp.with_timezone(&jst()).date_naive()
}

/// Parses a `YYYY-MM-DD` date, refusing impossible days such as 2026-02-30.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-';
    shape_ok
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

/// The Japanese era name and year of a date, for citations (令和8年 for 2026-04-01).
pub fn japanese_era(date: NaiveDate) -> (&'static str, i32) {
    let reiwa = NaiveDate::from_ymd_opt(2019, 5, 1).expect("valid date");
    let heisei = NaiveDate::from_ymd_opt(1989, 1, 8).expect("valid date");
    if date >= reiwa {
        ("令和", date.year() - 2018)
    } else if date >= heisei {
        ("平成", date.year() - 1988)
    } else {
        ("昭和", date.year() - 1925)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        parse_date(text).unwrap()
    }

    #[test]
    fn period_end_matches_the_spec_examples() {
        assert_eq!(period_end(d("2026-04-15"), 1), Some(d("2026-05-14")));
        assert_eq!(period_end(d("2026-04-01"), 1), Some(d("2026-04-30")));
        assert_eq!(period_end(d("2026-01-31"), 1), Some(d("2026-02-28")));
        assert_eq!(period_end(d("2026-01-28"), 1), Some(d("2026-02-27")));
    }

    #[test]
    fn period_end_on_leap_years_and_month_ends() {
        // 2028 is a leap year: 01-29 has a corresponding day 02-29, so the day before.
        assert_eq!(period_end(d("2028-01-29"), 1), Some(d("2028-02-28")));
        assert_eq!(period_end(d("2028-01-30"), 1), Some(d("2028-02-29")));
        assert_eq!(period_end(d("2028-01-31"), 1), Some(d("2028-02-29")));
        assert_eq!(period_end(d("2026-01-29"), 1), Some(d("2026-02-28")));
        assert_eq!(period_end(d("2026-03-31"), 1), Some(d("2026-04-30")));
        assert_eq!(period_end(d("2028-02-29"), 1), Some(d("2028-03-28")));
        assert_eq!(period_end(d("2028-02-29"), 12), Some(d("2029-02-28")));
    }

    #[test]
    fn period_end_across_the_year_end() {
        assert_eq!(period_end(d("2026-12-15"), 1), Some(d("2027-01-14")));
        assert_eq!(period_end(d("2026-12-01"), 1), Some(d("2026-12-31")));
        assert_eq!(period_end(d("2026-12-31"), 1), Some(d("2027-01-30")));
        assert_eq!(period_end(d("2026-11-30"), 3), Some(d("2027-02-28")));
    }

    #[test]
    fn add_months_clamps_to_the_month_end() {
        assert_eq!(add_months(d("2026-11-30"), 3), Some(d("2027-02-28")));
        assert_eq!(add_months(d("2027-11-30"), 3), Some(d("2028-02-29")));
        assert_eq!(add_months(d("2026-06-03"), 3), Some(d("2026-09-03")));
        assert_eq!(add_months(d("2026-03-31"), -1), Some(d("2026-02-28")));
    }

    #[test]
    fn days_after_does_not_count_the_first_day() {
        assert_eq!(days_after(d("2026-04-01"), 30), Some(d("2026-05-01")));
        assert_eq!(days_after(d("2026-01-31"), 30), Some(d("2026-03-02")));
        assert_eq!(days_after(d("2028-02-01"), 30), Some(d("2028-03-02")));
        assert_eq!(days_after(d("2026-12-15"), 30), Some(d("2027-01-14")));
    }

    #[test]
    fn days_inclusive_counts_both_ends() {
        assert_eq!(days_inclusive(d("2026-04-01"), d("2026-04-30")), 30);
        assert_eq!(days_inclusive(d("2026-04-30"), d("2026-04-30")), 1);
        assert_eq!(days_inclusive(d("2026-05-01"), d("2026-04-30")), 0);
        assert_eq!(days_inclusive(d("2028-02-01"), d("2028-02-29")), 29);
    }

    #[test]
    fn dates_must_exist_and_have_the_fixed_shape() {
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-2-3"), None);
        assert_eq!(parse_date("2026-02-28T00:00"), None);
        assert_eq!(
            parse_date("2028-02-29"),
            Some(NaiveDate::from_ymd_opt(2028, 2, 29).unwrap())
        );
    }

    #[test]
    fn timestamps_without_offset_are_japan_time() {
        let explicit = parse_timestamp("2026-06-01T10:00:00+09:00").unwrap();
        let implicit = parse_timestamp("2026-06-01T10:00:00").unwrap();
        assert_eq!(explicit, implicit);
        let utc = parse_timestamp("2026-05-31T20:00:00Z").unwrap();
        assert_eq!(jst_date(&utc), d("2026-06-01"));
        assert_eq!(parse_timestamp("2026-06-01"), None);
    }

    #[test]
    fn era_of_the_revision_dates() {
        assert_eq!(japanese_era(d("2026-04-01")), ("令和", 8));
        assert_eq!(japanese_era(d("2022-09-01")), ("令和", 4));
        assert_eq!(japanese_era(d("2019-04-30")), ("平成", 31));
    }
}
