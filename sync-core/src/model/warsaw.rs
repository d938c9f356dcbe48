//! Local time in Poland (*czas polski*, the `Europe/Warsaw` zone) without a time-zone database.
//!
//! Documents store times in UTC; people read them in Polish local time. This crate takes no
//! time-zone database (`chrono-tz`), so the zone's rule is written out here: the EU summer-time
//! rule that Poland has followed since 1996.
//!
//! - *Czas środkowoeuropejski* (CET) is UTC+1.
//! - *Czas letni* (CEST) is UTC+2, from the last Sunday of March at 01:00 UTC to the last
//!   Sunday of October at 01:00 UTC.
//!
//! Times before 1996 are shown with the same rule, which differs from the historical one in some
//! years; the model's documents start in 2018. Should the EU end clock changes, this is the one
//! function to change.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use sync_core::model::warsaw;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let winter = Utc.with_ymd_and_hms(2021, 3, 1, 9, 0, 0).single().ok_or("time")?;
//! assert_eq!(warsaw::display(winter), "2021-03-01 10:00 CET");
//! let summer = Utc.with_ymd_and_hms(2021, 7, 1, 9, 0, 0).single().ok_or("time")?;
//! assert_eq!(warsaw::display(summer), "2021-07-01 11:00 CEST");
//! # Ok(())
//! # }
//! ```

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Utc};

/// Seconds in an hour.
const HOUR: i32 = 3600;

/// Whether summer time (CEST) is in force in Poland at `at`.
pub fn is_summer_time(at: DateTime<Utc>) -> bool {
    let year = at.year();
    match (switch(year, 3), switch(year, 10)) {
        (Some(start), Some(end)) => start <= at && at < end,
        _ => false,
    }
}

/// The offset of Polish local time from UTC at `at`: +01:00 in winter, +02:00 in summer.
pub fn offset(at: DateTime<Utc>) -> FixedOffset {
    let hours = if is_summer_time(at) { 2 } else { 1 };
    FixedOffset::east_opt(hours * HOUR).unwrap_or_else(|| Utc.fix())
}

/// `at` in Polish local time.
pub fn local(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&offset(at))
}

/// The day `at` falls on in Poland.
pub fn day(at: DateTime<Utc>) -> chrono::NaiveDate {
    local(at).date_naive()
}

/// The month `at` falls in in Poland, `YYYY-MM`.
pub fn month(at: DateTime<Utc>) -> String {
    local(at).format("%Y-%m").to_string()
}

/// `at` as Polish local time for display: `2021-03-01 10:00 CET` or `2021-07-01 11:00 CEST`.
pub fn display(at: DateTime<Utc>) -> String {
    let zone = if is_summer_time(at) { "CEST" } else { "CET" };
    format!("{} {zone}", local(at).format("%Y-%m-%d %H:%M"))
}

/// The moment of the clock change in `month` of `year`: its last Sunday at 01:00 UTC.
fn switch(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let sunday = last_sunday(year, month)?;
    Some(Utc.from_utc_datetime(&sunday.and_hms_opt(1, 0, 0)?))
}

/// The last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_of_next = match month {
        12 => NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?,
        _ => NaiveDate::from_ymd_opt(year, month + 1, 1)?,
    };
    let last = first_of_next.pred_opt()?;
    let back = i64::from(last.weekday().num_days_from_sunday());
    last.checked_sub_signed(Duration::days(back))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("a valid fixed time")
    }

    #[test]
    fn last_sundays_are_found() {
        let table = [
            (2021, 3, (2021, 3, 28)),
            (2021, 10, (2021, 10, 31)),
            (2020, 3, (2020, 3, 29)),
            (2020, 10, (2020, 10, 25)),
            (2024, 3, (2024, 3, 31)),
            (2023, 12, (2023, 12, 31)),
        ];
        for (year, month, (y, m, d)) in table {
            assert_eq!(
                last_sunday(year, month),
                NaiveDate::from_ymd_opt(y, m, d),
                "{year}-{month}"
            );
        }
    }

    #[test]
    fn the_clock_changes_at_one_utc_on_the_last_sundays() {
        let table = [
            (utc(2021, 3, 28, 0, 59), "2021-03-28 01:59 CET"),
            (utc(2021, 3, 28, 1, 0), "2021-03-28 03:00 CEST"),
            (utc(2021, 10, 31, 0, 59), "2021-10-31 02:59 CEST"),
            (utc(2021, 10, 31, 1, 0), "2021-10-31 02:00 CET"),
            (utc(2020, 12, 31, 23, 30), "2021-01-01 00:30 CET"),
            (utc(2020, 6, 30, 22, 30), "2020-07-01 00:30 CEST"),
        ];
        for (at, shown) in table {
            assert_eq!(display(at), shown, "{at}");
        }
        assert_eq!(offset(utc(2021, 7, 1, 0, 0)).local_minus_utc(), 2 * HOUR);
        assert_eq!(offset(utc(2021, 1, 1, 0, 0)).local_minus_utc(), HOUR);
        assert_eq!(
            local(utc(2021, 1, 1, 0, 0)).to_rfc3339(),
            "2021-01-01T01:00:00+01:00"
        );
    }
}
