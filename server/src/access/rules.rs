//! The access rules: what a user may do with a document (the table in [`super`]'s doc), and
//! which documents a user may hold.

use sync_core::engine::Access;
use sync_core::DocumentId;

use super::record::{DocRecord, Kind};
use super::registry::Registry;
use crate::identity::{Role, Team, User};

impl Registry {
    /// What a user may do with a document.
    pub fn access_of(&self, login: &str, document: &DocumentId, exists: bool) -> Access {
        let Some(user) = self.user(login) else {
            return Access::None;
        };
        match self.record(document) {
            None if exists => Access::None,
            None => {
                // Members of an institution may write referrals and their own "seen" document;
                // which kinds a role may create is decided when the first change shows what
                // the document is.
                let creates = user.roles.iter().any(|r| {
                    matches!(
                        r,
                        Role::SocialWorker | Role::Animator | Role::Admin | Role::RopsAdviser
                    )
                }) || user.institution.is_some();
                if creates || self.inner.allow_untyped {
                    Access::ReadWrite
                } else {
                    Access::None
                }
            }
            Some(record) => self.rule(&user, &record),
        }
    }

    fn rule(&self, user: &User, record: &DocRecord) -> Access {
        self.rule_with(user, record, &|id| self.record(id))
    }

    /// The rule, with `records` to look up a justice document's case (`visible_to` holds the
    /// table's lock already).
    fn rule_with(
        &self,
        user: &User,
        record: &DocRecord,
        records: &dyn Fn(&DocumentId) -> Option<DocRecord>,
    ) -> Access {
        if record.erased {
            return Access::None;
        }
        let is = |login: &str| user.login == login;
        let in_institution = |i: &str| user.institution.as_deref() == Some(i);
        match record.kind {
            Kind::Untyped | Kind::Seen => {
                if is(&record.owner) {
                    Access::ReadWrite
                } else {
                    Access::None
                }
            }
            Kind::Pzk => {
                let Some(team) = record.team.as_deref().and_then(|t| self.team(t)) else {
                    return if is(&record.owner) {
                        Access::ReadWrite
                    } else {
                        Access::None
                    };
                };
                // Member institutions write too, but only the parts anyone of the team may
                // change (consultations' answers): `validate::check_pzk_parts` refuses the rest.
                if writes_pzk(user, &team) || team.institutions.iter().any(|i| in_institution(i)) {
                    Access::ReadWrite
                } else if user
                    .roles
                    .iter()
                    .any(|r| matches!(r, Role::Coordinator | Role::RopsAdviser))
                {
                    Access::Read
                } else {
                    Access::None
                }
            }
            Kind::Justice => {
                let case = record
                    .of_case
                    .as_deref()
                    .and_then(|c| DocumentId::parse(c).ok())
                    .and_then(|c| records(&c));
                match case {
                    Some(case) if case.kind == Kind::Case => self.justice_rule(user, &case),
                    _ => Access::None,
                }
            }
            Kind::Referral => {
                let decides = user
                    .roles
                    .iter()
                    .any(|r| matches!(r, Role::SocialWorker | Role::Animator));
                if decides && record.referred_to.as_deref().is_some_and(in_institution) {
                    Access::ReadWrite
                } else if is(&record.owner) {
                    Access::Read
                } else {
                    Access::None
                }
            }
            Kind::Case => {
                let team_member = || {
                    let teams = self.inner.teams.read();
                    let Ok(teams) = teams else { return false };
                    let lead = record.institution.as_deref();
                    teams.iter().any(|t| {
                        lead.is_some_and(|l| t.institutions.iter().any(|i| i == l))
                            && t.institutions.iter().any(|i| in_institution(i))
                    })
                };
                let worker = is(&record.owner)
                    || record.assigned_users.contains(&user.login)
                    || record
                        .assigned_institutions
                        .iter()
                        .any(|i| in_institution(i));
                if record.handed_to.as_deref().is_some_and(in_institution) {
                    return Access::ReadWrite;
                }
                if record.finished {
                    return if worker { Access::Read } else { Access::None };
                }
                if worker {
                    Access::ReadWrite
                } else if record.consents.iter().any(|i| in_institution(i)) && team_member() {
                    Access::Read
                } else {
                    Access::None
                }
            }
        }
    }

    /// Whether a user may change a document's sharing (assign and unassign): a case's owner,
    /// the animator of a PZK team whose member institutions include the case's lead
    /// institution, and admins; for a PZK document, its team's animator and admins; nobody for
    /// an erased document. Whoever may not is answered as for an unknown document.
    pub fn may_share(&self, user: &User, record: &DocRecord) -> bool {
        if record.erased {
            return false;
        }
        if user.roles.contains(&Role::Admin) || user.login == record.owner {
            return true;
        }
        let animates = |team: &Team| animates(user, team);
        match record.kind {
            Kind::Case => {
                let Some(lead) = record.institution.as_deref() else {
                    return false;
                };
                let Ok(teams) = self.inner.teams.read() else {
                    return false;
                };
                teams
                    .iter()
                    .any(|t| animates(t) && t.institutions.iter().any(|i| i == lead))
            }
            Kind::Pzk => record
                .team
                .as_deref()
                .and_then(|t| self.team(t))
                .is_some_and(|t| animates(&t)),
            Kind::Referral | Kind::Seen | Kind::Justice | Kind::Untyped => false,
        }
    }

    /// Whether a user may approve the minutes of a meeting of `team` (*zatwierdzenie
    /// protokołu*): the team's animator.
    pub fn may_approve_minutes(&self, user: &User, team: &Team) -> bool {
        animates(user, team)
    }

    /// Whether `login` writes every part of the PZK document of `team` (see
    /// [`writes_pzk`]); false for an unknown user or team.
    pub(super) fn writes_pzk_of(&self, login: &str, team: &str) -> bool {
        match (self.user(login), self.team(team)) {
            (Some(user), Some(team)) => writes_pzk(&user, &team),
            _ => false,
        }
    }

    /// The documents a user may hold, with their kind.
    pub fn visible_to(&self, login: &str) -> Vec<(DocumentId, Kind, Access)> {
        let Ok(records) = self.inner.records.read() else {
            return Vec::new();
        };
        let Some(user) = self.user(login) else {
            return Vec::new();
        };
        let lookup = |id: &DocumentId| records.get(id).cloned();
        let mut out: Vec<(DocumentId, Kind, Access)> = records
            .iter()
            .map(|(id, r)| (*id, r.kind, self.rule_with(&user, r, &lookup)))
            .filter(|(_, _, a)| *a != Access::None)
            .collect();
        out.sort_by_key(|(id, ..)| *id);
        out
    }
}

impl Registry {
    /// What a user may do with a case's justice document: what they may do with the case
    /// itself, when they are its owner or a user of a justice-sector institution (police,
    /// court, probation) assigned to it, themselves or through their institution; nothing
    /// otherwise. Derived from the case's record, so an assignment or an erasure applies at
    /// once.
    pub(super) fn justice_rule(&self, user: &User, case: &DocRecord) -> Access {
        let justice_user = || {
            user.institution.as_deref().is_some_and(|own| {
                let assigned = case.assigned_institutions.contains(own)
                    || case.assigned_users.contains(&user.login);
                assigned && self.is_justice_institution(own)
            })
        };
        if user.login == case.owner || justice_user() {
            self.rule_with(user, case, &|_| None)
        } else {
            Access::None
        }
    }

    /// Whether an institution is of the justice sector (police, courts and probation).
    pub(super) fn is_justice_institution(&self, institution: &str) -> bool {
        matches!(
            self.inner.directory.institution(institution),
            Ok(Some(i)) if JUSTICE_SECTORS.contains(&i.sector.as_str())
        )
    }

    /// The justice documents of a case.
    pub fn justice_parts_of(&self, case: &DocumentId) -> Vec<DocumentId> {
        let Ok(records) = self.inner.records.read() else {
            return Vec::new();
        };
        let case = case.to_string();
        let mut parts: Vec<DocumentId> = records
            .iter()
            .filter(|(_, r)| r.kind == Kind::Justice && r.of_case.as_deref() == Some(&case))
            .map(|(id, _)| *id)
            .collect();
        parts.sort();
        parts
    }
}

/// The sectors of the institutions that receive a case's police and court information.
pub const JUSTICE_SECTORS: [&str; 2] = ["police", "justice"];

/// Whether `user` is `team`'s animator: named as its animator, with the animator role.
fn animates(user: &User, team: &Team) -> bool {
    team.animator == user.login && user.roles.contains(&Role::Animator)
}

/// Whether `user` writes every part of `team`'s PZK document: its animator, and the ROPS
/// advisers assigned to it.
pub(super) fn writes_pzk(user: &User, team: &Team) -> bool {
    user.login == team.animator
        || (user.roles.contains(&Role::RopsAdviser) && team.advisers.contains(&user.login))
}
