//! De-identified exports of cases for the ROPS evaluation (K9/K10): stages, services used and
//! durations, without names, free text or document ids (a case appears under a salted hash).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sync_core::model::{case, timeline};

use crate::access::{Kind, Registry};
use crate::error::ServerError;

/// One case, de-identified.
#[derive(Clone, Debug, Serialize)]
pub struct CaseRow {
    /// A stable pseudonym: not the document id, and not reversible without the server's salt.
    pub case: String,
    /// The lead institution (an institution, not a person).
    pub institution: String,
    /// The stage shown (the deterministic resolution of any conflict).
    pub stage: String,
    /// The month the case was opened (`YYYY-MM`, in Poland), not the day.
    pub opened: String,
    /// The month the case was closed or handed over (`YYYY-MM`, in Poland), while open `None`.
    pub closed: Option<String>,
    /// Whole days from opening to closing, or to now while the case is open.
    pub days_open: i64,
    /// IPP goals by status.
    pub goals: BTreeMap<String, usize>,
    /// Services used: service id → status.
    pub services: BTreeMap<String, String>,
}

/// The export: one row per case, and counts per stage.
#[derive(Clone, Debug, Serialize)]
pub struct Export {
    /// Cases.
    pub cases: Vec<CaseRow>,
    /// Number of cases per stage.
    pub per_stage: BTreeMap<String, usize>,
}

/// Builds the export from the store (erased cases are not in it).
pub fn cases(
    storage: &crate::at_rest::SealedStore,
    registry: &Registry,
    salt: &[u8],
    now: DateTime<Utc>,
) -> Result<Export, ServerError> {
    let mut rows = Vec::new();
    for id in storage.list_now()? {
        let Some(record) = registry.record(&id) else {
            continue;
        };
        if record.kind != Kind::Case || record.erased {
            continue;
        }
        let Some(stored) = storage.load_now(id)? else {
            continue;
        };
        let doc = sync_core::engine::load_stored(&stored)?;
        let Ok(view) = case::read_case(&doc) else {
            continue;
        };
        let mut goals = BTreeMap::new();
        for goal in view.goals.values() {
            *goals.entry(goal.status.value.to_string()).or_insert(0) += 1;
        }
        let services = view
            .services
            .iter()
            .map(|(id, s)| (id.clone(), s.status.value.to_string()))
            .collect();
        let spans = timeline::stage_timeline(&doc, view.created_at)
            .map_err(|e| ServerError::Corrupt(format!("the history of {id}: {e}")))?;
        let closed_at = timeline::closed_at(&spans);
        let pseudonym = pseudonym(salt, &id);
        rows.push(CaseRow {
            case: pseudonym,
            institution: view.lead_institution.clone(),
            stage: view.stage.value.to_string(),
            opened: sync_core::model::warsaw::month(view.created_at),
            closed: closed_at.map(sync_core::model::warsaw::month),
            days_open: (closed_at.unwrap_or(now) - view.created_at).num_days(),
            goals,
            services,
        });
    }
    rows.sort_by(|a, b| a.case.cmp(&b.case));
    let mut per_stage = BTreeMap::new();
    for row in &rows {
        *per_stage.entry(row.stage.clone()).or_insert(0) += 1;
    }
    Ok(Export {
        cases: rows,
        per_stage,
    })
}

/// A case's stable pseudonym in exports and the retention schedule: not its document id, and
/// not reversible without the server's salt.
pub fn pseudonym(salt: &[u8], id: &sync_core::DocumentId) -> String {
    hex::encode(
        &Sha256::new()
            .chain_update(salt)
            .chain_update(id.as_bytes())
            .finalize()[..8],
    )
}

/// The export as CSV: `case,institution,stage,opened,closed,days_open,goals,services` (goals and
/// services as `key=value` lists separated by `;`).
pub fn to_csv(export: &Export) -> String {
    let mut out = String::from("case,institution,stage,opened,closed,days_open,goals,services\n");
    let list = |m: Vec<String>| m.join(";");
    for r in &export.cases {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            r.case,
            csv_field(&r.institution),
            r.stage,
            r.opened,
            r.closed.as_deref().unwrap_or(""),
            r.days_open,
            list(r.goals.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            csv_field(&list(
                r.services.iter().map(|(k, v)| format!("{k}={v}")).collect()
            )),
        ));
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
