//! The access report (GDPR art. 15): everything the region holds about the people of one case,
//! gathered for an administrator who answers an access request: the case's contents as they are
//! now, its whole history (who changed what, when), its attachments' list, and every record of
//! the audit log about it (who read, received, shared or changed it). As JSON, and as a
//! readable HTML page in Polish.

use serde::Serialize;
use sync_core::model::history;
use sync_core::DocumentId;

use crate::access::{Kind, Registry};
use crate::at_rest::SealedStore;
use crate::audit::{AuditQuery, AuditRecord};
use crate::error::ServerError;

/// One change of the case's history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// When (RFC 3339, as the author's device said).
    pub at: String,
    /// The author's login, when the change names it.
    pub author: Option<String>,
    /// The author's institution, when the change names it.
    pub institution: Option<String>,
    /// What changed, e.g. `stage: referral -> screening`.
    pub summary: String,
}

/// The report.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AccessReport {
    /// The case's id.
    pub document: String,
    /// When the report was made (RFC 3339).
    pub made_at: String,
    /// The case as it is now, every field.
    #[schema(value_type = Object)]
    pub contents: serde_json::Value,
    /// Its history, oldest first.
    pub history: Vec<Change>,
    /// Its attachments (name, type, size, who attached them and when), by id.
    #[schema(value_type = Object)]
    pub attachments: serde_json::Value,
    /// Its rectifications (GDPR art. 16) by id: the field, the old and new value, the reason,
    /// who and when.
    #[schema(value_type = Object)]
    pub rectifications: serde_json::Value,
    /// The audit log's records about it, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub audit: Vec<AuditRecord>,
    /// Its police and court information (GDPR art. 10), kept apart from the case: each
    /// justice document with its entries, history and audit records.
    pub justice: Vec<JusticePart>,
}

/// One justice document of the case, in the report.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct JusticePart {
    /// The justice document's id.
    pub document: String,
    /// Its entries by id: procedure, number, who informed, the day, the content, who wrote it
    /// down and when.
    #[schema(value_type = Object)]
    pub entries: serde_json::Value,
    /// Its history, oldest first.
    pub history: Vec<Change>,
    /// The audit log's records about it, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub audit: Vec<AuditRecord>,
}

/// Gathers the report on `document` (a case that is held and not erased).
pub fn gather(
    storage: &SealedStore,
    registry: &Registry,
    document: DocumentId,
) -> Result<AccessReport, ServerError> {
    registry
        .record(&document)
        .filter(|r| r.kind == Kind::Case && !r.erased)
        .ok_or_else(|| ServerError::NotFound("no such case".into()))?;
    let stored = storage
        .load_now(document)?
        .ok_or_else(|| ServerError::NotFound("no such case".into()))?;
    let doc = sync_core::engine::load_stored(&stored)?;
    let contents = serde_json::to_value(automerge::AutoSerde::from(&doc))
        .map_err(|e| ServerError::Corrupt(format!("the case {document}: {e}")))?;
    let history = history_of(&doc, document)?;
    let attachments = contents
        .get("attachments")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    let rectifications = sync_core::model::case::read_rectifications(&doc)
        .map_err(|e| ServerError::Corrupt(format!("the rectifications of {document}: {e}")))?
        .into_iter()
        .map(|(id, r)| {
            let entry = serde_json::json!({
                "field": r.field.path(),
                "old": r.old,
                "new": r.new,
                "reason": r.reason,
                "by": r.by,
                "institution": r.institution,
                "at": r.at.to_rfc3339(),
            });
            (id, entry)
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    let audit = audit_of(registry, document)?;
    let justice = registry
        .justice_parts_of(&document)
        .into_iter()
        .filter(|part| registry.record(part).is_some_and(|r| !r.erased))
        .map(|part| justice_part(storage, registry, part))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AccessReport {
        document: document.to_string(),
        made_at: chrono::Utc::now().to_rfc3339(),
        contents,
        history,
        attachments,
        rectifications,
        audit,
        justice,
    })
}

/// One justice document as the report shows it (one not stored yet is shown empty).
fn justice_part(
    storage: &SealedStore,
    registry: &Registry,
    document: DocumentId,
) -> Result<JusticePart, ServerError> {
    let (entries, history) = match storage.load_now(document)? {
        Some(stored) => {
            let doc = sync_core::engine::load_stored(&stored)?;
            let view = sync_core::model::justice::read_justice(&doc)
                .map_err(|e| ServerError::Corrupt(format!("the document {document}: {e}")))?;
            let entries = view
                .entries
                .into_iter()
                .map(|(id, e)| {
                    let entry = serde_json::json!({
                        "procedure": e.entry.procedure.as_str(),
                        "number": e.entry.number,
                        "informedBy": e.entry.informed_by,
                        "date": e.entry.date.to_string(),
                        "content": e.entry.content,
                        "author": e.author,
                        "institution": e.institution,
                        "at": e.at.to_rfc3339(),
                    });
                    (id, entry)
                })
                .collect::<serde_json::Map<_, _>>();
            (entries.into(), history_of(&doc, document)?)
        }
        None => (serde_json::json!({}), Vec::new()),
    };
    Ok(JusticePart {
        document: document.to_string(),
        entries,
        history,
        audit: audit_of(registry, document)?,
    })
}

fn history_of(
    doc: &automerge::Automerge,
    document: DocumentId,
) -> Result<Vec<Change>, ServerError> {
    Ok(history::changes_between(doc, &[], &doc.get_heads())
        .map_err(|e| ServerError::Corrupt(format!("the history of {document}: {e}")))?
        .into_iter()
        .map(|entry| Change {
            at: entry.at.to_rfc3339(),
            author: entry.author,
            institution: entry.institution,
            summary: entry.summary,
        })
        .collect())
}

fn audit_of(registry: &Registry, document: DocumentId) -> Result<Vec<AuditRecord>, ServerError> {
    registry.audit().query(&AuditQuery {
        document: Some(document.to_string()),
        ..Default::default()
    })
}

/// The report as a readable page (Polish headings; every value escaped).
pub fn to_html(report: &AccessReport) -> String {
    let mut out = String::from(
        "<!doctype html><html lang=\"pl\"><head><meta charset=\"utf-8\">\
         <title>Raport dostępu (art. 15 RODO)</title></head><body>",
    );
    out.push_str(&format!(
        "<h1>Raport dostępu do danych (art. 15 RODO)</h1><p>Sprawa {} — raport z {}</p>",
        escape(&report.document),
        escape(&report.made_at)
    ));
    out.push_str("<h2>Treść sprawy</h2><pre>");
    out.push_str(&escape(
        &serde_json::to_string_pretty(&report.contents).unwrap_or_default(),
    ));
    out.push_str("</pre><h2>Załączniki</h2><pre>");
    out.push_str(&escape(
        &serde_json::to_string_pretty(&report.attachments).unwrap_or_default(),
    ));
    out.push_str("</pre>");
    rectifications_html(&mut out, &report.rectifications);
    justice_html(&mut out, &report.justice);
    out.push_str("<h2>Historia zmian</h2><table><tr><th>Kiedy</th><th>Kto</th><th>Instytucja</th><th>Co</th></tr>");
    for c in &report.history {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.at),
            escape(c.author.as_deref().unwrap_or("")),
            escape(c.institution.as_deref().unwrap_or("")),
            escape(&c.summary)
        ));
    }
    out.push_str("</table><h2>Kto czytał i zmieniał (dziennik audytu)</h2><table><tr><th>Kiedy</th><th>Zdarzenie</th><th>Użytkownik</th><th>Urządzenie</th></tr>");
    for r in &report.audit {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.at),
            escape(&r.kind),
            escape(r.user.as_deref().unwrap_or("")),
            escape(r.device.as_deref().unwrap_or(""))
        ));
    }
    out.push_str("</table></body></html>");
    out
}

/// The rectifications as a table: when, who, which field, what it was and is, why.
fn rectifications_html(out: &mut String, rectifications: &serde_json::Value) {
    out.push_str("<h2>Sprostowania (art. 16 RODO)</h2><table><tr><th>Kiedy</th><th>Kto</th><th>Instytucja</th><th>Pole</th><th>Było</th><th>Jest</th><th>Uzasadnienie</th></tr>");
    let entries = rectifications.as_object().into_iter().flatten();
    for entry in entries.map(|(_, entry)| entry) {
        let cell = |key: &str| escape(entry[key].as_str().unwrap_or("—"));
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            cell("at"),
            cell("by"),
            cell("institution"),
            cell("field"),
            cell("old"),
            cell("new"),
            cell("reason")
        ));
    }
    out.push_str("</table>");
}

/// The police and court information: one table of entries per justice document.
fn justice_html(out: &mut String, parts: &[JusticePart]) {
    out.push_str("<h2>Informacje z procedur prawnych (art. 10 RODO)</h2>");
    if parts.is_empty() {
        out.push_str("<p>Brak.</p>");
    }
    for part in parts {
        out.push_str(&format!(
            "<p>Dokument {}</p><table><tr><th>Data</th><th>Procedura</th><th>Numer</th>\
             <th>Kto poinformował</th><th>Treść</th><th>Zapisał(a)</th><th>Kiedy</th></tr>",
            escape(&part.document)
        ));
        let entries = part.entries.as_object().into_iter().flatten();
        for entry in entries.map(|(_, entry)| entry) {
            let cell = |key: &str| escape(entry[key].as_str().unwrap_or("—"));
            let procedure = entry["procedure"].as_str().unwrap_or("");
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                cell("date"),
                escape(sync_core::catalogue::label_pl("justiceProcedure", procedure)),
                cell("number"),
                cell("informedBy"),
                cell("content"),
                cell("author"),
                cell("at")
            ));
        }
        out.push_str("</table>");
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
