//! Fixtures shared by the model's tests: fixed times, actors and fresh documents.

use automerge::{ActorId, Automerge};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::case::{self, CaseInit, GoalPlan, Referral};
use super::pzk::{self, PzkInit};
use super::Editor;

/// 1 March 2021 (the first month of remote cooperation), at `hour`:00 UTC.
pub(crate) fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 3, 1, hour, 0, 0)
        .single()
        .expect("a valid fixed time")
}

/// A calendar date in 2021.
pub(crate) fn day(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, month, day).expect("a valid fixed date")
}

/// A fixed actor, so tests do not depend on random actor ids.
pub(crate) fn actor(name: &str) -> ActorId {
    ActorId::from(name.as_bytes())
}

/// The editor `login`, acting for the institution the fixtures give them: `jan` and `pedagog`
/// for the school `sp-1`, `nurse` for the health centre `poz`, `ewa` for the PZK's GOPS, anyone
/// else for `gops`.
pub(crate) fn editor(login: &str) -> Editor {
    let institution = match login {
        "jan" | "pedagog" => "sp-1",
        "nurse" => "poz",
        _ => "gops",
    };
    Editor::new(login, institution).expect("a valid fixture editor")
}

/// A fork of `doc` editing as `name`.
pub(crate) fn fork_as(doc: &Automerge, name: &str) -> Automerge {
    doc.fork().with_actor(actor(name))
}

/// Merges `from` into a copy of `into`.
pub(crate) fn merged(into: &Automerge, from: &Automerge) -> Automerge {
    let mut result = into.clone();
    let mut from = from.clone();
    result
        .merge(&mut from)
        .expect("forks of one document merge");
    result
}

/// A new case owned by `anna` of the GOPS.
pub(crate) fn new_case() -> Automerge {
    let init = CaseInit {
        actor: actor("anna-tablet"),
        owner: "anna".to_owned(),
        lead_institution: "gops".to_owned(),
        referral: Referral {
            by: "pedagog".to_owned(),
            institution: "sp-1".to_owned(),
            reason: "Frequent absences at school.".to_owned(),
            at: at(8),
        },
        household: Default::default(),
    };
    case::new_case(&init, &editor("anna"), at(9)).expect("a new case")
}

/// A SMART goal plan.
pub(crate) fn goal_plan(specific: &str) -> GoalPlan {
    GoalPlan {
        specific: specific.to_owned(),
        measurable: "Absences under 10% a month".to_owned(),
        achievable: "With the day centre's help".to_owned(),
        relevant: "The child wants to pass the year".to_owned(),
        deadline: day(6, 25),
        responsible: "sp-1".to_owned(),
        services: ["svc-day-centre".to_owned()].into(),
    }
}

/// A new case with goal `g1`.
pub(crate) fn case_with_goal() -> Automerge {
    let mut doc = new_case();
    case::upsert_goal(
        &mut doc,
        "g1",
        &goal_plan("Regular school attendance"),
        &editor("anna"),
        at(10),
    )
    .expect("goal added");
    doc
}

/// A new PZK document led by animator `ewa`.
pub(crate) fn new_pzk() -> Automerge {
    let init = PzkInit {
        actor: actor("ewa-laptop"),
        name: "PZK Gminy Przykładowo".to_owned(),
        animator: "ewa".to_owned(),
        agreement_text: "Porozumienie o współpracy.".to_owned(),
    };
    pzk::new_pzk(&init, at(9)).expect("a new PZK document")
}
