//! The retention schedule the ROPS sees (`GET /api/v1/retention`): every finished case with
//! its pseudonym, lead institution, closing month, the day it is to be erased, whether its
//! owner was told, and any hold. Administrators also see the document id and the hold's reason
//! (they act on a case by its id); coordinators see neither.

use chrono::DateTime;
use serde::Serialize;

use super::erase_on;
use crate::access::Registry;

/// One finished case in the schedule.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ScheduleEntry {
    /// The case's pseudonym (as in the evaluation's export), not its id.
    pub case: String,
    /// The document id: for administrators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The lead institution.
    pub institution: Option<String>,
    /// The month it was closed or handed over (`YYYY-MM`); none until the sweep has read it.
    pub closed: Option<String>,
    /// The day it is to be erased (`YYYY-MM-DD`); none while not yet scheduled or held with
    /// no end.
    pub erase_on: Option<String>,
    /// Whether its owner was told.
    pub notified: bool,
    /// The day its owner was told (`YYYY-MM-DD`).
    pub notified_on: Option<String>,
    /// Whether an administrator holds it.
    pub held: bool,
    /// The day a hold extends it to (`YYYY-MM-DD`); none for a hold with no end.
    pub hold_until: Option<String>,
    /// Why it is held: for administrators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
}

/// The schedule.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Schedule {
    /// The retention period in months (`--retention-months`).
    pub months: u32,
    /// Finished cases, the soonest to be erased first (those with no day last).
    pub cases: Vec<ScheduleEntry>,
}

/// The schedule of every finished case (`salt`: the export's pseudonym salt; `admin`: whether
/// the reader is an administrator).
pub fn schedule(registry: &Registry, salt: &[u8], months: u32, admin: bool) -> Schedule {
    let day = |at: i64| DateTime::from_timestamp(at, 0).map(|t| super::polish_day(t).to_string());
    let mut cases: Vec<ScheduleEntry> = registry
        .finished_cases()
        .into_iter()
        .map(|(id, record)| {
            let r = &record.retention;
            ScheduleEntry {
                case: crate::export::pseudonym(salt, &id),
                document: admin.then(|| id.to_string()),
                institution: record.institution.clone(),
                closed: r
                    .closed_at
                    .and_then(|at| DateTime::from_timestamp(at, 0))
                    .map(super::polish_month),
                erase_on: erase_on(r, months).map(|d| d.to_string()),
                notified: r.notified_at.is_some(),
                notified_on: r.notified_at.and_then(day),
                held: r.hold.is_some(),
                hold_until: r.hold.as_ref().and_then(|h| h.until).map(|d| d.to_string()),
                hold_reason: r.hold.as_ref().filter(|_| admin).map(|h| h.reason.clone()),
            }
        })
        .collect();
    cases.sort_by(|a, b| {
        (a.erase_on.is_none(), &a.erase_on, &a.case).cmp(&(
            b.erase_on.is_none(),
            &b.erase_on,
            &b.case,
        ))
    });
    Schedule { months, cases }
}
