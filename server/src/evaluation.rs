//! The region's evaluation (stage IV, K9–K10) while the server runs: de-identified figures by
//! PZK and by month (and for the whole region), built from the cases and the PZK documents.
//!
//! De-identification: a figure about families is shown only when at least `min_group` cases
//! (default [`DEFAULT_MIN_GROUP`]) stand behind it and its group has that many cases; other
//! cells are marked `suppressed` with no value. When exactly one count of a breakdown is
//! suppressed, the next smallest is suppressed too, so it cannot be worked out from the total.
//! No free text, no names, no document ids; the only dates are months (`YYYY-MM`). PZK figures
//! (meetings held, attendance by sector, work-plan progress) are about institutions, not
//! people, and are not suppressed.

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

/// The smallest group a figure about families may describe, unless the server says more.
pub const DEFAULT_MIN_GROUP: usize = 5;

/// One figure.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Cell {
    /// `region`, `pzk` or `month`.
    pub dimension: String,
    /// The group: `region`, a PZK team's id, or a month `YYYY-MM`.
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
) -> Result<Figures, ServerError> {
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
            if let (Ok(view), Some(team)) = (pzk::read_pzk(&doc), record.team.as_ref()) {
                teams_work.push(pzk_facts(&view, team, now));
            }
            continue;
        }
        let Ok(view) = case::read_case(&doc) else {
            continue;
        };
        let spans = timeline::stage_timeline(&doc, view.created_at)
            .map_err(|e| ServerError::Corrupt(format!("the history of {id}: {e}")))?;
        cases.push(case_facts(&view, &spans, &record, &teams, &mut sectors)?);
    }
    let mut cells = aggregate(&cases, min_group);
    cells.extend(aggregate(&teams_work, 0));
    Ok(Figures { min_group, cells })
}

/// Institutions' sectors as the directory gives them (`unknown` for one it does not know).
struct Sectors<'a> {
    directory: &'a Directory,
    known: BTreeMap<String, String>,
}

impl<'a> Sectors<'a> {
    fn new(directory: &'a Directory) -> Self {
        Self {
            directory,
            known: BTreeMap::new(),
        }
    }

    fn of(&mut self, institution: &str) -> Result<String, ServerError> {
        if let Some(sector) = self.known.get(institution) {
            return Ok(sector.clone());
        }
        let sector = self
            .directory
            .institution(institution)?
            .map_or_else(|| "unknown".to_string(), |i| i.sector);
        self.known.insert(institution.to_string(), sector.clone());
        Ok(sector)
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

fn pzk_facts(view: &pzk::PzkView, team: &str, now: DateTime<Utc>) -> Facts {
    let mut facts = Facts::default();
    facts.groups.push(("pzk", team.to_string()));
    let m = &mut facts.measures;
    for meeting in view.meetings.values().filter(|mt| mt.plan.date <= now) {
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
    }
    for milestone in view.work_plan.values() {
        let status = milestone.status.value.to_string();
        m.push(("work_plan_milestones", status, 1.0, How::Count));
    }
    facts
}

type CellKey = (&'static str, String, &'static str, String);

#[derive(Debug, Default)]
struct Sum {
    total: f64,
    contributions: usize,
    cases: BTreeSet<usize>,
    mean: bool,
}

/// Sums the facts by group; suppresses figures with fewer than `min_group` cases behind them.
fn aggregate(facts: &[Facts], min_group: usize) -> Vec<Cell> {
    let mut sizes: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
    let mut sums: BTreeMap<CellKey, Sum> = BTreeMap::new();
    for (index, fact) in facts.iter().enumerate() {
        for (dimension, group) in &fact.groups {
            *sizes.entry((dimension, group.clone())).or_default() += 1;
            for (measure, key, value, how) in &fact.measures {
                let sum = sums
                    .entry((dimension, group.clone(), measure, key.clone()))
                    .or_default();
                sum.total += value;
                sum.contributions += 1;
                sum.cases.insert(index);
                sum.mean = *how == How::Mean;
            }
        }
    }
    let mut cells: Vec<Cell> = sums
        .into_iter()
        .map(|((dimension, group, measure, key), sum)| {
            let size = sizes.get(&(dimension, group.clone())).copied().unwrap_or(0);
            let suppressed = size < min_group || sum.cases.len() < min_group;
            let value = if sum.mean {
                (sum.total / sum.contributions.max(1) as f64 * 10.0).round() / 10.0
            } else {
                sum.total
            };
            Cell {
                dimension: dimension.to_string(),
                group,
                measure: measure.to_string(),
                key,
                value: (!suppressed).then_some(value),
                suppressed,
            }
        })
        .collect();
    suppress_complements(&mut cells);
    cells
}

/// Where a breakdown has exactly one suppressed count, suppresses its smallest shown count too.
fn suppress_complements(cells: &mut [Cell]) {
    let mut breakdowns: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
    for (i, cell) in cells.iter().enumerate() {
        if !cell.key.is_empty() && cell.measure != "days_in_stage" {
            breakdowns
                .entry((
                    cell.dimension.clone(),
                    cell.group.clone(),
                    cell.measure.clone(),
                ))
                .or_default()
                .push(i);
        }
    }
    for members in breakdowns.values() {
        if members.iter().filter(|i| cells[**i].suppressed).count() != 1 {
            continue;
        }
        let smallest = members
            .iter()
            .filter(|i| !cells[**i].suppressed)
            .min_by(|a, b| {
                let (a, b) = (cells[**a].value, cells[**b].value);
                a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal)
            })
            .copied();
        if let Some(i) = smallest {
            cells[i].suppressed = true;
            cells[i].value = None;
        }
    }
}

/// The figures as CSV: `dimension,group,measure,key,value,suppressed` (an empty value where
/// suppressed).
pub fn to_csv(figures: &Figures) -> String {
    let mut out = String::from("dimension,group,measure,key,value,suppressed\n");
    for c in &figures.cells {
        let value = c.value.map(|v| v.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            c.dimension,
            field(&c.group),
            c.measure,
            field(&c.key),
            value,
            c.suppressed
        ));
    }
    out
}

fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
