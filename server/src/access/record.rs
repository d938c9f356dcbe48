//! The server's record of one document: its [`Kind`] and who it belongs to, is assigned to,
//! has consent for, and whether it is finished or erased ([`DocRecord`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// What kind of document a record is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A case (*sprawa*).
    Case,
    /// A PZK document.
    Pzk,
    /// A partner's referral of a person or family to a GOPS/PCPR.
    Referral,
    /// What a user has seen of "Co nowego": their own document, nobody else's.
    Seen,
    /// A case's police and court information (GDPR art. 10): read and written by the case's
    /// owner and its assigned justice-sector institutions only.
    Justice,
    /// A document of no known type (development, other apps).
    Untyped,
}

/// The server's record of one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocRecord {
    /// Its kind.
    pub kind: Kind,
    /// The user who created it.
    pub owner: String,
    /// The owner's institution at creation (the case's lead institution).
    pub institution: Option<String>,
    /// For a PZK document: its team.
    pub team: Option<String>,
    /// Users assigned to the case.
    #[serde(default)]
    pub assigned_users: BTreeSet<String>,
    /// Institutions assigned to the case.
    #[serde(default)]
    pub assigned_institutions: BTreeSet<String>,
    /// Institutions the case records consent for (purpose `pzk`), as last validated.
    #[serde(default)]
    pub consents: BTreeSet<String>,
    /// Closed or handed over.
    #[serde(default)]
    pub finished: bool,
    /// The institution the case was handed over to, once recorded.
    #[serde(default)]
    pub handed_to: Option<String>,
    /// Erased (GDPR art. 17): its history is gone and its id may never be used again.
    #[serde(default)]
    pub erased: bool,
    /// For a referral: the receiving institution (whose social workers decide on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_to: Option<String>,
    /// For a referral: its status as last validated (`submitted`, `accepted`, `declined`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_status: Option<String>,
    /// For a PZK document: the questions and answers of consultations addressed to an
    /// institution already checked (`k1`, `k1/a1`; see `consultations.rs`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub addressed_checked: BTreeSet<String>,
    /// For a PZK document: the meetings whose minutes approval the server has checked (its
    /// author was the team's animator when it arrived).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub approved_meetings: BTreeSet<String>,
    /// For a PZK document: the digest of each part only its editors change, as last validated
    /// (see `pzk_parts`); empty for records made before they were kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pzk_parts: BTreeMap<String, String>,
    /// For a finished case: its retention (closing date, notice, legal hold; see
    /// `crate::retention`).
    #[serde(default, skip_serializing_if = "Retention::is_empty")]
    pub retention: Retention,
    /// For a case: the ids of its attachment entries as last validated. An entry never leaves
    /// the case (its file would be collected as an orphan), so a change removing one is refused.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub attachments: BTreeSet<String>,
    /// For a justice document: the case it belongs to, whose record its access derives from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of_case: Option<String>,
}

impl DocRecord {
    /// Takes from `validated` what a document's own content decides of its record (as
    /// `validate.rs` derives it): consents, finished, the hand-over, a referral's status, the
    /// checked consultations and approvals, the PZK parts' digests, the attachment ids. The
    /// rest (who it is assigned to, erasure, retention, who made it) stays.
    pub fn take_validated(&mut self, validated: &DocRecord) {
        self.consents.clone_from(&validated.consents);
        self.finished = validated.finished;
        self.handed_to.clone_from(&validated.handed_to);
        self.referral_status.clone_from(&validated.referral_status);
        self.addressed_checked
            .clone_from(&validated.addressed_checked);
        self.approved_meetings
            .clone_from(&validated.approved_meetings);
        self.pzk_parts.clone_from(&validated.pzk_parts);
        self.attachments.clone_from(&validated.attachments);
    }
}

/// A finished case's retention as the server keeps it: when it was closed (read once from its
/// history), when its owner was told it will be erased, and an administrator's legal hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Retention {
    /// When the case was closed or handed over (Unix seconds), from its history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    /// When its owner was told that the case will be erased (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<i64>,
    /// A legal hold or extension set by an administrator (court proceedings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
}

impl Retention {
    /// Nothing known yet (an open case, or a record made before retention).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A legal hold on a case's erasure (*wstrzymanie usunięcia*), e.g. while court proceedings
/// need the file: without `until` the case is kept until the hold is lifted, with it the
/// retention is extended to that day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hold {
    /// Why (e.g. the court's file number); shown to administrators only.
    pub reason: String,
    /// Kept at least until this day (`YYYY-MM-DD`); none: until the hold is lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub until: Option<chrono::NaiveDate>,
    /// The administrator who set it.
    pub by: String,
    /// When it was set (Unix seconds).
    pub at: i64,
}
