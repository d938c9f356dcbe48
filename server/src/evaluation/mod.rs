//! The region's evaluation (stage IV, K9–K10) while the server runs: de-identified figures by
//! PZK, gmina, powiat and month (and for the whole region), built from the cases and the PZK
//! documents, for the scope a [`Filter`] gives. A case belongs to the gmina and powiat of its
//! lead institution (TERYT codes, [`crate::place`]) and to every PZK that institution is a
//! member of; a PZK document to its team's gmina and powiat.
//!
//! De-identification: a figure about families is shown only when at least `min_group` cases
//! (default [`DEFAULT_MIN_GROUP`], set per server, never under [`LEAST_MIN_GROUP`]) stand
//! behind it and its group has that many cases; other
//! cells are marked `suppressed` with no value. When exactly one count of a breakdown is
//! suppressed, the next smallest is suppressed too, so it cannot be worked out from the total.
//! No free text, no names, no document ids; the only dates are months (`YYYY-MM`). PZK figures
//! (meetings held, attendance by sector, work-plan progress) are about institutions, not
//! people, and are not suppressed.

mod aggregate;
mod filter;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sync_core::model::case::{self, CaseView, ServiceStatus};
use sync_core::model::pzk::{self, Attendance};
use sync_core::model::timeline::{self, StageSpan};

use crate::access::{DocRecord, Kind, Registry};
use crate::at_rest::SealedStore;
use crate::error::ServerError;
use crate::identity::{Directory, Team};
use crate::place::Place;
use aggregate::aggregate;
pub use aggregate::to_csv;
pub use filter::{min_group, Filter, DEFAULT_MIN_GROUP, LEAST_MIN_GROUP};

/// One figure.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Cell {
    /// `region`, `pzk`, `gmina`, `powiat` or `month`.
    pub dimension: String,
    /// The group: `region`, a PZK team's id, a gmina's or powiat's TERYT code (`unknown` when
    /// not set), or a month `YYYY-MM`.
    pub group: String,
    /// What is measured, e.g. `cases_by_stage`, `days_in_stage`, `contacts_by_mode`.
    pub measure: String,
    /// The breakdown's key (a stage, a mode, a sector, a status), empty when none.
    pub key: String,
    /// The count, or the mean for `days_in_stage` and `institutions_per_case`; `null` when
    /// suppressed.
    pub value: Option<f64>,
    /// Too few cases stand behind this figure to show it.
    pub suppressed: bool,
}

/// The evaluation's figures.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// The smallest group shown.
    pub min_group: usize,
    /// Every figure, by dimension, group, measure and key.
    pub cells: Vec<Cell>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum How {
    Count,
    Mean,
}

/// What one case (or one PZK document) adds to the figures of the groups it belongs to.
#[derive(Debug, Default)]
struct Facts {
    groups: Vec<(&'static str, String)>,
    measures: Vec<(&'static str, String, f64, How)>,
}

/// The figures from the store as it is now.
pub fn figures(
    storage: &SealedStore,
    registry: &Registry,
    directory: &Directory,
    now: DateTime<Utc>,
    min_group: usize,
    filter: &Filter,
) -> Result<Figures, ServerError> {
    filter.check()?;
    let teams = directory.teams()?;
    let mut sectors = Sectors::new(directory);
    let mut cases = Vec::new();
    let mut teams_work = Vec::new();
    for id in storage.list_now()? {
        let Some(record) = registry.record(&id) else {
            continue;
        };
        if record.erased || !matches!(record.kind, Kind::Case | Kind::Pzk) {
            continue;
        }
        let Some(stored) = storage.load_now(id)? else {
            continue;
        };
        let doc = sync_core::engine::load_stored(&stored)?;
        if record.kind == Kind::Pzk {
            let team = record
                .team
                .as_ref()
                .and_then(|id| teams.iter().find(|t| &t.id == id));
            if let (Ok(view), Some(team)) = (pzk::read_pzk(&doc), team) {
                if filter.place(&team.place, std::iter::once(team.id.as_str())) {
                    teams_work.extend(pzk_facts(&view, team, now, filter));
                }
            }
            continue;
        }
        let Ok(view) = case::read_case(&doc) else {
            continue;
        };
        let place = sectors.place(&view.lead_institution)?;
        let member_of = teams
            .iter()
            .filter(|t| t.institutions.contains(&view.lead_institution))
            .map(|t| t.id.as_str());
        if !filter.place(&place, member_of)
            || !filter.month(&view.created_at.format("%Y-%m").to_string())
        {
            continue;
        }
        let spans = timeline::stage_timeline(&doc, view.created_at)
            .map_err(|e| ServerError::Corrupt(format!("the history of {id}: {e}")))?;
        cases.push(case_facts(&view, &spans, &record, &teams, &mut sectors)?);
    }
    let mut cells = aggregate(&cases, min_group);
    cells.extend(aggregate(&teams_work, 0));
    Ok(Figures { min_group, cells })
}

/// Institutions' sectors and places as the directory gives them (sector `unknown` for one it
/// does not know).
struct Sectors<'a> {
    directory: &'a Directory,
    known: BTreeMap<String, (String, Place)>,
}

impl<'a> Sectors<'a> {
    fn new(directory: &'a Directory) -> Self {
        Self {
            directory,
            known: BTreeMap::new(),
        }
    }

    fn known(&mut self, institution: &str) -> Result<&(String, Place), ServerError> {
        if !self.known.contains_key(institution) {
            let known = self.directory.institution(institution)?.map_or_else(
                || ("unknown".to_string(), Place::default()),
                |i| (i.sector, i.place),
            );
            self.known.insert(institution.to_string(), known);
        }
        self.known
            .get(institution)
            .ok_or_else(|| ServerError::Corrupt(format!("institution {institution:?} not kept")))
    }

    fn of(&mut self, institution: &str) -> Result<String, ServerError> {
        Ok(self.known(institution)?.0.clone())
    }

    fn place(&mut self, institution: &str) -> Result<Place, ServerError> {
        Ok(self.known(institution)?.1.clone())
    }
}

fn case_facts(
    view: &CaseView,
    spans: &[StageSpan],
    record: &DocRecord,
    teams: &[Team],
    sectors: &mut Sectors<'_>,
) -> Result<Facts, ServerError> {
    let mut facts = Facts::default();
    facts.groups.push(("region", "region".to_string()));
    facts
        .groups
        .push(("month", view.created_at.format("%Y-%m").to_string()));
    for team in teams
        .iter()
        .filter(|t| t.institutions.contains(&view.lead_institution))
    {
        facts.groups.push(("pzk", team.id.clone()));
    }
    facts
        .groups
        .extend(place_groups(&sectors.place(&view.lead_institution)?));
    let m = &mut facts.measures;
    m.push(("cases", String::new(), 1.0, How::Count));
    m.push((
        "cases_by_stage",
        view.stage.value.to_string(),
        1.0,
        How::Count,
    ));
    let mut days: BTreeMap<String, i64> = BTreeMap::new();
    for span in spans {
        if let Some(to) = span.to {
            *days.entry(span.stage.to_string()).or_default() += (to - span.from).num_days();
        }
    }
    for (stage, days) in days {
        m.push(("days_in_stage", stage, days as f64, How::Mean));
    }
    let mut institutions: BTreeSet<&str> = BTreeSet::new();
    institutions.insert(&view.lead_institution);
    institutions.extend(record.assigned_institutions.iter().map(String::as_str));
    institutions.extend(view.services.values().map(|s| s.provider.as_str()));
    institutions.extend(view.goals.values().map(|g| g.plan.responsible.as_str()));
    let involved = institutions.len() as f64;
    m.push(("institutions_per_case", String::new(), involved, How::Mean));
    for note in &view.monitoring {
        m.push((
            "contacts_by_mode",
            note.note.mode.to_string(),
            1.0,
            How::Count,
        ));
    }
    for goal in view.goals.values() {
        m.push((
            "goals_by_status",
            goal.status.value.to_string(),
            1.0,
            How::Count,
        ));
    }
    for service in view.services.values() {
        if matches!(
            service.status.value,
            ServiceStatus::Active | ServiceStatus::Finished
        ) {
            let sector = sectors.of(&service.provider)?;
            m.push(("services_used_by_sector", sector, 1.0, How::Count));
        }
    }
    // Referrals by the referring institution's sector: the case's own referral. The referrals
    // between institutions (issue #19) add theirs here when the case model holds them.
    let referring = sectors.of(&view.referral.institution)?;
    m.push(("referrals_by_sector", referring, 1.0, How::Count));
    Ok(facts)
}

/// The gmina and powiat groups of a place (`unknown` where it is not set).
fn place_groups(place: &Place) -> [(&'static str, String); 2] {
    let code = |c: &Option<String>| c.clone().unwrap_or_else(|| "unknown".to_string());
    [
        ("gmina", code(&place.gmina)),
        ("powiat", code(&place.powiat)),
    ]
}

/// A PZK's facts: one per meeting held in the filter's months (grouped by its month too), and
/// one for the work plan.
fn pzk_facts(view: &pzk::PzkView, team: &Team, now: DateTime<Utc>, filter: &Filter) -> Vec<Facts> {
    let mut groups = vec![("region", "region".to_string()), ("pzk", team.id.clone())];
    groups.extend(place_groups(&team.place));
    let mut all = Vec::new();
    for meeting in view.meetings.values().filter(|mt| mt.plan.date <= now) {
        let month = meeting.plan.date.format("%Y-%m").to_string();
        if !filter.month(&month) {
            continue;
        }
        let mut facts = Facts {
            groups: groups.clone(),
            ..Facts::default()
        };
        facts.groups.push(("month", month));
        let m = &mut facts.measures;
        m.push(("meetings_held", String::new(), 1.0, How::Count));
        for (person, attendance) in &meeting.attendance {
            if attendance.value == Attendance::Absent {
                continue;
            }
            let sector = view
                .members
                .values()
                .find(|member| member.representatives.contains_key(person))
                .map_or_else(|| "other".to_string(), |i| i.member.sector.to_string());
            m.push(("attendance_by_sector", sector, 1.0, How::Count));
        }
        all.push(facts);
    }
    let mut plan = Facts {
        groups,
        ..Facts::default()
    };
    for milestone in view.work_plan.values() {
        let status = milestone.status.value.to_string();
        plan.measures
            .push(("work_plan_milestones", status, 1.0, How::Count));
    }
    all.push(plan);
    all
}
