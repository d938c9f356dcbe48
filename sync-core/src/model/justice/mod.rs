//! Police and court information about a case (*informacje z procedur prawnych*, GDPR art. 10):
//! what the police, a court or a probation officer told the social worker, e.g. from the
//! "Niebieska Karta" procedure, kept in a document of its own beside the case, so that it is
//! read only by the case's owner and the justice-sector institutions assigned to the case (the
//! server's rule), not by every reader of the case. An Automerge document syncs whole, so a
//! narrower part cannot live inside the case; the case holds only the link
//! ([`crate::model::case::link_justice_document`]), never the content.
//!
//! # Layout
//!
//! | key | type | notes |
//! | --- | --- | --- |
//! | `type` | string `"justice"` | with the header's `schemaVersion`, `createdAt` |
//! | `case` | string | the case's document id; never changes (the server checks it) |
//! | `entries` | map: entry id → entry | append-only, like the case's logs |
//!
//! An entry is `{procedure, number, informedBy, date: "YYYY-MM-DD", content: Text, author,
//! institution, at}`: the procedure ([`JusticeProcedure`]), its number (e.g. the Niebieska
//! Karta's, may be empty), the institution that informed, the day it informed, what it said,
//! and who wrote the entry down, for which institution and when. Entries are written once:
//! the same id twice is [`RuleViolation::EntryExists`], so a retried upload cannot duplicate one.

mod edit;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use automerge::Automerge;
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::SchemaError;
use crate::model::header::{self, DocumentKind};
use crate::model::reader::check_id;

pub use self::edit::{add_justice_entry, new_justice};

/// The keys of the justice document.
mod key {
    pub(super) const CASE: &str = "case";
    pub(super) const ENTRIES: &str = "entries";
    pub(super) const PROCEDURE: &str = "procedure";
    pub(super) const NUMBER: &str = "number";
    pub(super) const INFORMED_BY: &str = "informedBy";
    pub(super) const DATE: &str = "date";
    pub(super) const CONTENT: &str = "content";
    pub(super) const AUTHOR: &str = "author";
    pub(super) const INSTITUTION: &str = "institution";
    pub(super) const AT: &str = "at";
}

wire_enum! {
    /// The procedure the information comes from.
    JusticeProcedure {
        /// *Procedura „Niebieskie Karty”* (domestic violence).
        BlueCard = "blue_card",
        /// *Postępowanie karne* (criminal proceedings).
        Criminal = "criminal",
        /// *Postępowanie przed sądem rodzinnym* (family court).
        FamilyCourt = "family_court",
        /// *Nadzór kuratora* (probation officer's supervision).
        Probation = "probation",
        /// Another procedure.
        Other = "other",
    }
}

/// One piece of information, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JusticeEntry {
    /// The procedure.
    pub procedure: JusticeProcedure,
    /// Its number (e.g. of the Niebieska Karta form); may be empty.
    pub number: String,
    /// The institution that informed (e.g. `kpp-wadowice`, or its name).
    pub informed_by: String,
    /// The day it informed.
    pub date: NaiveDate,
    /// What it said.
    pub content: String,
}

/// One entry as read, with who wrote it down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JusticeEntryView {
    /// The information.
    pub entry: JusticeEntry,
    /// The login of who wrote it down.
    pub author: String,
    /// The institution they wrote it for.
    pub institution: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A justice document as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JusticeView {
    /// The case's document id.
    pub case: String,
    /// When the document was created.
    pub created_at: DateTime<Utc>,
    /// The entries, by id.
    pub entries: BTreeMap<String, JusticeEntryView>,
}

/// Reads a justice document, checked against its layout.
pub fn read_justice(doc: &Automerge) -> Result<JusticeView, SchemaError> {
    let root = header::open(doc, DocumentKind::Justice)?;
    let case = root.str(key::CASE)?;
    check_id(key::CASE, &case)?;
    let entries = root.map(key::ENTRIES)?.read_map(|node| {
        Ok(JusticeEntryView {
            entry: JusticeEntry {
                procedure: node.enumeration(key::PROCEDURE)?,
                number: node.str(key::NUMBER)?,
                informed_by: node.str(key::INFORMED_BY)?,
                date: node.date(key::DATE)?,
                content: node.text(key::CONTENT)?,
            },
            author: node.str(key::AUTHOR)?,
            institution: node.str(key::INSTITUTION)?,
            at: node.timestamp(key::AT)?,
        })
    })?;
    Ok(JusticeView {
        case,
        created_at: root.timestamp(header::key::CREATED_AT)?,
        entries,
    })
}
