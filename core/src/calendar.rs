//! Calendar arithmetic as the Civil Code (民法 第140条–第143条) counts periods, and
//! Japan-time timestamps.
//!
//! These are generic: no period length or date of any service's terms is fixed here.
//! Rules call them with the numbers their rule set holds.

use chrono::{
    DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
};

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

/// Of versions each in force from its day on, oldest first, the one in force on `day`;
/// `None` before the first. Timelines, dated params and texts by revision all read so.
pub fn version_on<T>(versions: &[(NaiveDate, T)], day: NaiveDate) -> Option<&T> {
    let after = versions.partition_point(|(from, _)| *from <= day);
    versions
        .get(after.checked_sub(1)?)
        .map(|(_, version)| version)
}

/// How many whole months of a period whose first day `start` is counted (起算日) have
/// ended by `day`, that day included: the most `n` whose [`period_end`] is on or before
/// it (民法 第143条), 0 before the first has.
///
/// Start 2026-04-15: on 2026-05-13 → 0, on 2026-05-14 → 1; start 2026-01-31: on
/// 2026-02-28 → 1 (February has no 31st: the month ends on its last day).
pub fn whole_months(start: NaiveDate, day: NaiveDate) -> i64 {
    if day < start {
        return 0;
    }
    let guess = i64::from(day.year() - start.year()) * 12 + i64::from(day.month())
        - i64::from(start.month());
    // The guess is the answer or one too many: step down until its period has ended.
    let mut n = guess.max(0) + 1;
    while n > 0 && period_end(start, n).is_none_or(|end| end > day) {
        n -= 1;
    }
    n
}

/// How many whole years of such a period have ended by `day`: years end as months do
/// (民法 第143条), twelve months to a year.
pub fn whole_years(start: NaiveDate, day: NaiveDate) -> i64 {
    whole_months(start, day) / 12
}

/// Which year of a contract whose first day is `start` the day `day` lies in, from 1: the
/// first runs from `start` through `period_end(start, 12)`. 0 before `start`.
pub fn contract_year(start: NaiveDate, day: NaiveDate) -> i64 {
    if day < start {
        return 0;
    }
    day.pred_opt()
        .map_or(0, |before| whole_years(start, before))
        + 1
}

/// The day on which a period of `months` months counted from the moment `from` ends
/// (「…から N ヶ月を経過する日」), as 民法 第140条 and 第143条 count it, the moment's day taken
/// in Japan time. That day is not counted (初日不算入) unless the moment is exactly 00:00
/// (第140条ただし書), so the period starts on the next day; it then ends as [`period_end`]
/// says: the day before the corresponding day of the last month, or that month's last day
/// when it has none.
///
/// From 2026-04-15 10:00, 3 months → 2026-07-15; 2026-04-30 10:00 → 2026-07-31;
/// 2026-06-02 00:00 → 2026-09-01.
pub fn months_elapsed_from(from: &Timestamp, months: i64) -> Option<NaiveDate> {
    let local = from.with_timezone(&jst());
    let day = local.date_naive();
    let first = if local.time() == NaiveTime::MIN {
        day
    } else {
        day.succ_opt()?
    };
    period_end(first, months)
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

/// The moment `day` ends in Japan time: 24:00, the next day's 00:00 (+09:00).
pub fn end_of_day_jst(day: NaiveDate) -> Option<DateTime<FixedOffset>> {
    day.succ_opt()?
        .and_hms_opt(0, 0, 0)?
        .and_local_timezone(jst())
        .single()
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

    /// Hand-derived by 民法 第143条: a month from 04-15 (counted) ends 05-14; from 01-31
    /// ends 02-28; a year from 2024-02-29 ends 2025-02-28.
    #[test]
    fn whole_months_and_years_and_the_contract_year() {
        assert_eq!(whole_months(d("2026-04-15"), d("2026-05-13")), 0);
        assert_eq!(whole_months(d("2026-04-15"), d("2026-05-14")), 1);
        assert_eq!(whole_months(d("2026-04-15"), d("2027-04-14")), 12);
        assert_eq!(whole_months(d("2026-01-31"), d("2026-02-27")), 0);
        assert_eq!(whole_months(d("2026-01-31"), d("2026-02-28")), 1);
        assert_eq!(whole_months(d("2026-01-31"), d("2026-03-30")), 2);
        assert_eq!(whole_months(d("2026-04-15"), d("2026-04-01")), 0);
        assert_eq!(whole_years(d("2024-02-29"), d("2025-02-27")), 0);
        assert_eq!(whole_years(d("2024-02-29"), d("2025-02-28")), 1);
        assert_eq!(whole_years(d("2026-04-01"), d("2028-03-31")), 2);
        assert_eq!(contract_year(d("2026-04-01"), d("2026-04-01")), 1);
        assert_eq!(contract_year(d("2026-04-01"), d("2027-03-31")), 1);
        assert_eq!(contract_year(d("2026-04-01"), d("2027-04-01")), 2);
        assert_eq!(contract_year(d("2026-04-01"), d("2026-03-31")), 0);
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

    fn at(text: &str) -> Timestamp {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn months_elapsed_from_counts_as_the_civil_code() {
        // The moment's day is not counted; the period starts the next day (民法 第140条).
        let rows = [
            ("2026-04-15T10:00:00", "2026-07-15"),
            ("2026-04-30T10:00:00", "2026-07-31"),
            ("2027-02-28T10:00:00", "2027-05-31"),
            ("2026-09-30T10:00:00", "2026-12-31"),
            // Exactly 00:00: the day counts (第140条ただし書).
            ("2026-06-02T00:00:00", "2026-09-01"),
        ];
        for (moment, deadline) in rows {
            assert_eq!(
                months_elapsed_from(&at(moment), 3),
                Some(d(deadline)),
                "{moment}"
            );
        }
    }

    #[test]
    fn months_elapsed_from_reads_the_moment_in_japan_time() {
        // 2026-06-01T15:00Z is 2026-06-02 00:00 JST: the day counts.
        assert_eq!(
            months_elapsed_from(&at("2026-06-01T15:00:00Z"), 3),
            Some(d("2026-09-01"))
        );
        // One second later it is not 00:00 any more: the period starts on 06-03.
        assert_eq!(
            months_elapsed_from(&at("2026-06-02T00:00:01+09:00"), 3),
            Some(d("2026-09-02"))
        );
        // 00:00 in UTC is 09:00 in Japan: not the start of a Japanese day.
        assert_eq!(
            months_elapsed_from(&at("2026-06-02T00:00:00Z"), 3),
            Some(d("2026-09-02"))
        );
        // A fraction of a second past midnight is past midnight.
        assert_eq!(
            months_elapsed_from(&at("2026-06-02T00:00:00.5+09:00"), 3),
            Some(d("2026-09-02"))
        );
    }

    #[test]
    fn months_elapsed_from_at_month_and_year_ends() {
        // From the last day of a month: the period starts on the 1st of the next, so it
        // ends on a month's last day, whatever its length.
        assert_eq!(
            months_elapsed_from(&at("2027-11-30T10:00:00"), 3),
            Some(d("2028-02-29"))
        );
        assert_eq!(
            months_elapsed_from(&at("2026-11-30T10:00:00"), 3),
            Some(d("2027-02-28"))
        );
        assert_eq!(
            months_elapsed_from(&at("2026-12-31T23:59:59"), 1),
            Some(d("2027-01-31"))
        );
        // From the 29th of November: starts 11-30, no 02-30, so February's last day.
        assert_eq!(
            months_elapsed_from(&at("2026-11-29T10:00:00"), 3),
            Some(d("2027-02-28"))
        );
        // From 00:00 on the 1st: that day counts, the period is the whole months.
        assert_eq!(
            months_elapsed_from(&at("2026-10-01T00:00:00"), 3),
            Some(d("2026-12-31"))
        );
        assert_eq!(
            months_elapsed_from(&at("2026-05-31T00:00:00"), 3),
            Some(d("2026-08-30"))
        );
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
