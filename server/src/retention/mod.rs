//! Retention of finished cases: a case closed or handed over (the two final stages of the
//! workflow, `Stage::Closed` and `Stage::HandedOver`) is kept for a configurable period
//! (`serve --retention-months`, default [`DEFAULT_MONTHS`]), then erased through the same path
//! as an administrator's erasure (`crate::erasure`).
//!
//! The period counts, as Polish archival practice counts it (the *instrukcja kancelaryjna*),
//! from 1 January of the year after the case was closed: a case closed in March 2021 with ten
//! years' retention is erased from 1 January 2032. Its owner is told a month before
//! ([`NOTICE_MONTHS`]), and a case is never erased sooner than a month after that notice, even
//! when the server was down when the notice was due. An administrator may hold a case (court
//! proceedings): kept until the hold is lifted, or extended to a day; either way a new notice
//! comes a month before the new date.
//!
//! Each step is a record in the audit log: `retention-scheduled` (the closing date read from
//! the case's history, once), `retention-notified`, `retention-hold` / `retention-hold-lifted`,
//! `retention-erased` (beside the erasure's own `erase`). What is decided is kept in the case's
//! access record ([`crate::access::Retention`]), so a restart loses nothing; [`next_step`] is
//! the whole rule, [`sweep`] carries it out (every hour, and on `POST
//! /api/v1/admin/retention/sweep`) and [`schedule`] shows it to the ROPS. Time comes from a
//! [`Clock`], which tests set.

pub mod schedule;
pub mod sweep;

use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

pub use schedule::{schedule, Schedule, ScheduleEntry};
pub use sweep::{sweep, Swept};

use crate::access::Retention;
use crate::error::ServerError;

/// The default period: ten years, what an OPS's file list (*jednolity rzeczowy wykaz akt*)
/// commonly gives the files of people supported (category B10).
pub const DEFAULT_MONTHS: u32 = 120;
/// The shortest period the server accepts: a typo (`0`, `1`) must not erase every closed case.
pub const MIN_MONTHS: u32 = 12;
/// How long before the erasure the owner is told, and the least time between notice and
/// erasure.
pub const NOTICE_MONTHS: u32 = 1;
/// Who the audit log names for what the sweep does.
pub const SWEEPER: &str = "retencja";

/// The configured period, checked: none gives [`DEFAULT_MONTHS`], less than [`MIN_MONTHS`]
/// is refused.
pub fn months(configured: Option<u32>) -> Result<u32, ServerError> {
    match configured {
        None => Ok(DEFAULT_MONTHS),
        Some(m) if m >= MIN_MONTHS => Ok(m),
        Some(m) => Err(ServerError::Config(format!(
            "--retention-months {m}: the period must be at least {MIN_MONTHS} months (the \
             default, {DEFAULT_MONTHS}, keeps closed cases ten years); to keep one case longer, \
             set a hold on it"
        ))),
    }
}

/// The clock the retention reads (and tests set).
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self(Arc::new(Utc::now))
    }

    /// A clock that asks `now`.
    pub fn from_fn(now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// The day retention ends for a case closed at `closed_at`: `months` after 1 January of the
/// following year, the year as the calendar in Poland has it (a case closed on New Year's night
/// after midnight in Warsaw, still 31 December in UTC, belongs to the new year).
pub fn due_date(closed_at: DateTime<Utc>, months: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(polish_day(closed_at).year() + 1, 1, 1)
        .and_then(|start| start.checked_add_months(Months::new(months)))
        .unwrap_or(NaiveDate::MAX)
}

/// The retention calendar's days and months are Polish ones.
pub use sync_core::model::warsaw::{day as polish_day, month as polish_month};

/// The day the case is to be erased: its due date, later when a hold extends it or when its
/// owner was told less than a month before; `None` while its closing date is not yet read or a
/// hold keeps it with no end.
pub fn erase_on(retention: &Retention, months: u32) -> Option<NaiveDate> {
    let day = planned_day(retention, months)?;
    let notice_ends = retention
        .notified_at
        .and_then(|at| DateTime::from_timestamp(at, 0))
        .and_then(|at| at.checked_add_months(Months::new(NOTICE_MONTHS)))
        .map(polish_day);
    Some(notice_ends.map_or(day, |end| end.max(day)))
}

/// The due date, or a hold's: what the notice counts back from.
fn planned_day(retention: &Retention, months: u32) -> Option<NaiveDate> {
    let closed_at = DateTime::from_timestamp(retention.closed_at?, 0)?;
    let due = due_date(closed_at, months);
    match &retention.hold {
        None => Some(due),
        Some(hold) => hold.until.map(|until| until.max(due)),
    }
}

/// What the sweep does next for a finished case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Read its closing date from its history.
    Schedule,
    /// Tell its owner.
    Notify,
    /// Erase it.
    Erase,
    /// Nothing yet.
    Wait,
}

/// The rule: schedule a case whose closing date is unknown; tell the owner from a month before
/// the day; erase it from the day, and not sooner than a month after the notice; nothing while
/// a hold with no end keeps it.
pub fn next_step(retention: &Retention, months: u32, now: DateTime<Utc>) -> Step {
    if retention.closed_at.is_none() {
        return Step::Schedule;
    }
    let Some(day) = planned_day(retention, months) else {
        return Step::Wait;
    };
    let today = polish_day(now);
    let notice_from = day
        .checked_sub_months(Months::new(NOTICE_MONTHS))
        .unwrap_or(day);
    match retention
        .notified_at
        .and_then(|at| DateTime::from_timestamp(at, 0))
    {
        None if today >= notice_from => Step::Notify,
        None => Step::Wait,
        Some(notified) => {
            let notice_served = notified
                .checked_add_months(Months::new(NOTICE_MONTHS))
                .is_some_and(|end| now >= end);
            if today >= day && notice_served {
                Step::Erase
            } else {
                Step::Wait
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Hold;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a date")
            .and_utc()
    }

    fn closed(y: i32, m: u32, d: u32) -> Retention {
        Retention {
            closed_at: Some(at(y, m, d).timestamp()),
            ..Retention::default()
        }
    }

    #[test]
    fn the_period_counts_from_the_first_of_january_after_closing() {
        assert_eq!(
            due_date(at(2021, 3, 15), 120),
            NaiveDate::from_ymd_opt(2032, 1, 1).expect("date")
        );
        assert_eq!(
            due_date(at(2021, 12, 31), 12),
            NaiveDate::from_ymd_opt(2023, 1, 1).expect("date")
        );
    }

    /// `hh:mm` UTC on a day.
    fn at_utc(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(hh, mm, 0))
            .expect("a time")
            .and_utc()
    }

    #[test]
    fn the_calendar_is_polish_time_not_utc() {
        // Closed at 00:30 on 1 January 2022 in Warsaw (23:30 UTC on New Year's Eve): a case
        // of 2022, whose period starts on 1 January 2023, not a year sooner.
        let new_years_night = at_utc(2021, 12, 31, 23, 30);
        assert_eq!(polish_month(new_years_night), "2022-01");
        assert_eq!(
            due_date(new_years_night, 12),
            NaiveDate::from_ymd_opt(2024, 1, 1).expect("date")
        );
        // The erasure day begins at midnight in Warsaw (22:00 UTC in summer, 23:00 in winter).
        let mut r = closed(2021, 3, 15);
        r.notified_at = Some(at(2022, 11, 1).timestamp());
        assert_eq!(next_step(&r, 12, at_utc(2022, 12, 31, 22, 59)), Step::Wait);
        assert_eq!(next_step(&r, 12, at_utc(2022, 12, 31, 23, 0)), Step::Erase);
    }

    #[test]
    fn a_case_is_told_a_month_before_and_erased_only_after_a_full_months_notice() {
        let mut r = closed(2021, 3, 15);
        assert_eq!(
            next_step(&Retention::default(), 12, at(2030, 1, 1)),
            Step::Schedule
        );
        assert_eq!(next_step(&r, 12, at(2022, 11, 30)), Step::Wait);
        assert_eq!(next_step(&r, 12, at(2022, 12, 1)), Step::Notify);
        // Down all December: told on 3 January, erased a month later, not on the due day.
        r.notified_at = Some(at(2023, 1, 3).timestamp());
        assert_eq!(next_step(&r, 12, at(2023, 1, 4)), Step::Wait);
        assert_eq!(next_step(&r, 12, at(2023, 2, 3)), Step::Erase);
    }

    #[test]
    fn a_hold_keeps_a_case_or_extends_its_retention() {
        let mut r = closed(2021, 3, 15);
        r.hold = Some(Hold {
            reason: "Sąd Rejonowy, III RC 12/23".into(),
            until: None,
            by: "admin".into(),
            at: 0,
        });
        assert_eq!(erase_on(&r, 12), None);
        assert_eq!(next_step(&r, 12, at(2040, 1, 1)), Step::Wait);
        r.hold.as_mut().expect("hold").until = NaiveDate::from_ymd_opt(2024, 6, 30);
        assert_eq!(erase_on(&r, 12), NaiveDate::from_ymd_opt(2024, 6, 30));
        assert_eq!(next_step(&r, 12, at(2024, 5, 29)), Step::Wait);
        assert_eq!(next_step(&r, 12, at(2024, 5, 30)), Step::Notify);
    }

    #[test]
    fn a_period_shorter_than_a_year_is_refused() {
        assert_eq!(months(None).expect("default"), DEFAULT_MONTHS);
        assert_eq!(months(Some(12)).expect("a year"), 12);
        for bad in [0, 1, 11] {
            let refused = months(Some(bad));
            assert!(
                matches!(&refused, Err(ServerError::Config(m)) if m.contains("at least 12")),
                "{refused:?}"
            );
        }
    }
}
