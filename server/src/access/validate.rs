//! Validating a document a peer changed: its type, its first record when it is new, and what
//! the server derives from a case (consents, closing, hand-over), read only after validation.

use std::collections::{BTreeMap, BTreeSet};

use automerge::Automerge;
use sync_core::engine::{Access, Principal};
use sync_core::model::{self, DocumentKind};
use sync_core::{DocumentId, Refusal};

use super::pzk_parts;
use super::record::{DocRecord, Kind};
use super::registry::Registry;
use super::rules::writes_pzk;
use crate::identity::{Role, Team, User};

/// The consent purpose that opens a case to the PZK's member institutions.
pub const PZK_PURPOSE: &str = "pzk";

impl Registry {
    /// Validates a document peers changed (`writers`: who sent the batch's new changes; none
    /// known when empty), registers a new one, and updates what the server derives from it
    /// (consents, stage, hand-over, a PZK document's guarded parts).
    pub(super) fn check(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        created_by: Option<&Principal>,
        writers: &[&Principal],
    ) -> Result<(), Refusal> {
        let existing = self.record(document);
        let kind = match model::validate(doc) {
            Ok(DocumentKind::Case) => Kind::Case,
            Ok(DocumentKind::Pzk) => Kind::Pzk,
            Ok(DocumentKind::Referral) => Kind::Referral,
            Ok(DocumentKind::Seen) => Kind::Seen,
            Ok(DocumentKind::Justice) => Kind::Justice,
            Err(sync_core::SchemaError::UnknownType(_))
                if self.inner.allow_untyped
                    && existing.as_ref().is_none_or(|r| r.kind == Kind::Untyped) =>
            {
                Kind::Untyped
            }
            Err(e) => return Err(Refusal::Invalid(e)),
        };
        let mut record = match (existing, created_by) {
            (Some(r), _) => {
                if r.kind != kind {
                    return Err(Refusal::TypeChanged);
                }
                r
            }
            (None, Some(principal)) => self.new_record(kind, principal, doc)?,
            (None, None) => return Err(Refusal::NoOwner),
        };
        let before = record.clone();
        if kind == Kind::Referral {
            let status = referral_facts(doc, &record)?;
            record.referral_status = Some(status);
        }
        if kind == Kind::Pzk {
            self.check_addressed(doc, &mut record)?;
            record.approved_meetings = self.checked_approvals(doc, &record)?;
            record.pzk_parts = self.check_pzk_parts(doc, &record, created_by, writers)?;
        }
        if kind == Kind::Seen {
            // Its owner is the user who created it, for good.
            let view = model::seen::read_seen(doc).map_err(Refusal::Invalid)?;
            if view.owner != record.owner {
                return Err(Refusal::Rule(
                    "a seen document belongs to the user who created it".to_owned(),
                ));
            }
        }
        if kind == Kind::Justice {
            // It stays with the case it was created for.
            let view = model::justice::read_justice(doc).map_err(Refusal::Invalid)?;
            if record.of_case.as_deref() != Some(view.case.as_str()) {
                return Err(Refusal::JusticeCaseChanged);
            }
        }
        if kind == Kind::Case {
            record.attachments = kept_attachments(doc, &record)?;
            let facts = case_facts(doc);
            record.consents = facts.consents;
            record.finished = facts.finished;
            record.handed_to = facts.handed_to;
        }
        if created_by.is_some() || record != before {
            if record.referral_status != before.referral_status {
                self.inner.audit.note(
                    "referral",
                    created_by.map(|p| p.user.as_str()),
                    None,
                    Some(document.to_string()),
                    serde_json::json!({
                        "to": record.referred_to,
                        "from": record.institution,
                        "status": record.referral_status,
                    }),
                );
            }
            if record.consents != before.consents && created_by.is_none() {
                self.inner.audit.note(
                    "consent",
                    None,
                    None,
                    Some(document.to_string()),
                    serde_json::json!({ "institutions": record.consents }),
                );
            }
            let finished_changed = record.finished != before.finished;
            // What the document decides, onto the record as stored now: the assignments,
            // erasure and retention are the API's and the sweep's (`crate::retention`).
            self.save_validated(*document, &record)
                .map_err(|e| Refusal::HostFailed(e.to_string()))?;
            self.touched(*document);
            if finished_changed {
                // A justice document's access follows its case's.
                for part in self.justice_parts_of(document) {
                    self.touched(part);
                }
            }
        }
        Ok(())
    }

    fn new_record(
        &self,
        kind: Kind,
        principal: &Principal,
        doc: &Automerge,
    ) -> Result<DocRecord, Refusal> {
        let user = self.user(&principal.user).ok_or(Refusal::UnknownUser)?;
        let team = match kind {
            Kind::Pzk => {
                let teams = self
                    .inner
                    .teams
                    .read()
                    .map_err(|_| Refusal::HostFailed("team table poisoned".into()))?;
                let led: Vec<&Team> = teams.iter().filter(|t| writes_pzk(&user, t)).collect();
                let name = model::pzk::read_pzk(doc).ok().map(|v| v.name);
                let chosen = match led.as_slice() {
                    [one] => Some(one.id.clone()),
                    many => many
                        .iter()
                        .find(|t| Some(&t.name) == name.as_ref())
                        .map(|t| t.id.clone()),
                };
                Some(chosen.ok_or(Refusal::NotTeamAnimator)?)
            }
            Kind::Case => {
                let allowed = user
                    .roles
                    .iter()
                    .any(|r| matches!(r, Role::SocialWorker | Role::Animator | Role::Admin));
                if !allowed {
                    return Err(Refusal::MayNotOpenCases);
                }
                None
            }
            Kind::Referral => {
                self.may_refer(&user, doc)?;
                None
            }
            Kind::Justice => {
                self.may_keep_justice(&user, doc)?;
                None
            }
            Kind::Seen | Kind::Untyped => None,
        };
        let of_case = match kind {
            Kind::Justice => model::justice::read_justice(doc).ok().map(|v| v.case),
            _ => None,
        };
        let referred_to = match kind {
            Kind::Referral => model::referral::read_referral(doc).ok().map(|v| v.to),
            _ => None,
        };
        Ok(DocRecord {
            kind,
            owner: user.login.clone(),
            institution: user.institution.clone(),
            team,
            assigned_users: BTreeSet::new(),
            assigned_institutions: BTreeSet::new(),
            consents: BTreeSet::new(),
            finished: false,
            handed_to: None,
            erased: false,
            referred_to,
            referral_status: None,
            addressed_checked: BTreeSet::new(),
            approved_meetings: BTreeSet::new(),
            pzk_parts: BTreeMap::new(),
            attachments: BTreeSet::new(),
            retention: Default::default(),
            of_case,
        })
    }

    /// Whether `user` may create the justice document `doc` for the case it names: they may
    /// write it by the justice rule (the case's owner, or a user of a justice-sector
    /// institution assigned to it, while the case is open); an unknown case is refused alike.
    fn may_keep_justice(&self, user: &User, doc: &Automerge) -> Result<(), Refusal> {
        let view = model::justice::read_justice(doc).map_err(Refusal::Invalid)?;
        let case = DocumentId::parse(&view.case)
            .ok()
            .and_then(|id| self.record(&id))
            .filter(|r| r.kind == Kind::Case);
        match case {
            Some(case) if self.justice_rule(user, &case) == Access::ReadWrite => Ok(()),
            _ => Err(Refusal::JusticeNotAllowed),
        }
    }

    /// A PZK document's guarded parts after a batch: refused if one changed and a writer of
    /// the batch is not one of the team's editors (its animator, its assigned ROPS advisers;
    /// the creator of a document of no team). A record made before the digests were kept
    /// takes them as they are.
    fn check_pzk_parts(
        &self,
        doc: &Automerge,
        record: &DocRecord,
        created_by: Option<&Principal>,
        writers: &[&Principal],
    ) -> Result<BTreeMap<String, String>, Refusal> {
        let after = pzk_parts::digests(doc);
        if created_by.is_some() || record.pzk_parts.is_empty() {
            return Ok(after);
        }
        let Some(part) = pzk_parts::changed(&record.pzk_parts, &after) else {
            return Ok(after);
        };
        let edits = |login: &str| match record.team.as_deref() {
            Some(team) => self.writes_pzk_of(login, team),
            None => login == record.owner,
        };
        if writers.iter().all(|w| edits(&w.user)) {
            Ok(after)
        } else {
            Err(Refusal::PzkPartNotEditable(part))
        }
    }

    /// Whether `user` may send the referral `doc`: written as themselves for their own
    /// institution, to a GOPS/MOPS/PCPR (sector `social`) that is in a PZK team with it.
    fn may_refer(&self, user: &User, doc: &Automerge) -> Result<(), Refusal> {
        let view = model::referral::read_referral(doc).map_err(Refusal::Invalid)?;
        let Some(own) = user.institution.as_deref() else {
            return Err(Refusal::ReferralNoPzkRelation);
        };
        if view.by != user.login || view.institution != own {
            return Err(Refusal::ReferralChanged);
        }
        let receiving = self
            .inner
            .directory
            .institution(&view.to)
            .map_err(|e| Refusal::HostFailed(e.to_string()))?;
        if receiving.is_none_or(|i| i.sector != SOCIAL_SECTOR) {
            return Err(Refusal::ReferralNotToSocialServices);
        }
        let teams = self
            .inner
            .teams
            .read()
            .map_err(|_| Refusal::HostFailed("team table poisoned".into()))?;
        let related = teams
            .iter()
            .any(|t| t.institutions.iter().any(|i| i == own) && t.institutions.contains(&view.to));
        if related {
            Ok(())
        } else {
            Err(Refusal::ReferralNoPzkRelation)
        }
    }
}

impl Registry {
    /// The meetings of PZK document `doc` whose minutes are approved, after checking that each
    /// approval new to the server was written by someone who may approve the team's minutes
    /// (its author is bound to the writer by sync-core's `check_frozen` and the server's
    /// authorship check). Approvals checked before stay valid when the team changes animator.
    fn checked_approvals(
        &self,
        doc: &Automerge,
        record: &DocRecord,
    ) -> Result<BTreeSet<String>, Refusal> {
        let view = model::pzk::read_pzk(doc).map_err(Refusal::Invalid)?;
        let team = record.team.as_deref().and_then(|t| self.team(t));
        let mut approved = BTreeSet::new();
        for (id, meeting) in &view.meetings {
            let Some(approval) = &meeting.minutes_approved else {
                continue;
            };
            let known = record.approved_meetings.contains(id);
            let allowed = || {
                let user = self.user(&approval.by);
                team.as_ref()
                    .zip(user.as_ref())
                    .is_some_and(|(team, user)| self.may_approve_minutes(user, team))
            };
            if !known && !allowed() {
                return Err(Refusal::MinutesApprovalNotAllowed(id.clone()));
            }
            approved.insert(id.clone());
        }
        Ok(approved)
    }
}

/// The sector of the institutions that take referrals in (GOPS/MOPS, PCPR).
pub const SOCIAL_SECTOR: &str = "social";

/// A referral's status, after checking that its referrer and receiving institution are still
/// the ones the server recorded when it was written.
fn referral_facts(doc: &Automerge, record: &DocRecord) -> Result<String, Refusal> {
    let view = model::referral::read_referral(doc).map_err(Refusal::Invalid)?;
    let same = view.by == record.owner
        && Some(&view.institution) == record.institution.as_ref()
        && Some(&view.to) == record.referred_to.as_ref();
    if !same {
        return Err(Refusal::ReferralChanged);
    }
    Ok(view.status.value.as_str().to_owned())
}

/// What the server derives from a case: the institutions with consent in force for the PZK
/// purpose, whether it is finished (closed or handed over, and not in conflict), and to whom it
/// was handed over. The case is read once.
struct CaseFacts {
    consents: BTreeSet<String>,
    finished: bool,
    handed_to: Option<String>,
}

/// The ids of the case's attachment entries, refused when one the server saw before is gone:
/// entries are append-only, and a removed entry's file would be collected as an orphan.
fn kept_attachments(doc: &Automerge, record: &DocRecord) -> Result<BTreeSet<String>, Refusal> {
    let now = model::case::attachment_ids(doc).map_err(Refusal::Invalid)?;
    match record.attachments.difference(&now).next() {
        Some(gone) => Err(Refusal::Rule(format!(
            "attachment entry {gone} was removed: attachments are never removed from a case"
        ))),
        None => Ok(now),
    }
}

fn case_facts(doc: &Automerge) -> CaseFacts {
    let Ok(view) = model::case::read_case(doc) else {
        return CaseFacts {
            consents: BTreeSet::new(),
            finished: false,
            handed_to: None,
        };
    };
    let consents = view
        .consents
        .values()
        .map(|c| c.event.institution.clone())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .filter(|i| view.consent_in_force(i, PZK_PURPOSE))
        .collect();
    // A stage in conflict is not settled: nobody loses access until someone resolves it.
    let finished = !view.stage.is_conflicted()
        && matches!(
            view.stage.value,
            model::case::Stage::Closed | model::case::Stage::HandedOver
        );
    let handed_to = finished.then(|| view.handover.map(|h| h.target)).flatten();
    CaseFacts {
        consents,
        finished,
        handed_to,
    }
}
