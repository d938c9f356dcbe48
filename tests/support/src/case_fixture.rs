//! The one builder of case documents for tests: "a case at stage X with owner Y, household …,
//! referred by …", made with sync-core's own edit functions, so every fixture is a valid case.
//!
//! ```
//! use kooperacja_test_support::CaseFixture;
//! use sync_core::model::case::{self, Stage};
//!
//! let doc = CaseFixture::nowak().at_stage(Stage::Ipp).build();
//! assert_eq!(case::stage(&doc).expect("stage").value, Stage::Ipp);
//! ```

use std::collections::BTreeMap;

use automerge::{ActorId, Automerge};
use chrono::{DateTime, Utc};
use sync_core::model::case::{self, CaseInit, HouseholdMember, Referral, Stage};
use sync_core::model::Editor;

use crate::case_story;

/// A case to build: who owns it, who referred the family, the household, when it was entered,
/// on which device, and how far along the workflow it is.
#[derive(Clone, Debug)]
pub struct CaseFixture {
    actor: ActorId,
    owner: String,
    institution: String,
    referral: Referral,
    household: BTreeMap<String, HouseholdMember>,
    created: DateTime<Utc>,
    stage: Stage,
}

impl CaseFixture {
    /// A case of `owner` of `institution`, entered now on a device of its own, at referral: the
    /// school's pedagogue refers a child who often misses lessons; no household yet.
    pub fn new(owner: &str, institution: &str) -> Self {
        let now = Utc::now();
        CaseFixture {
            actor: ActorId::random(),
            owner: owner.into(),
            institution: institution.into(),
            referral: Referral {
                by: "pedagog".into(),
                institution: "szkola".into(),
                reason: "Dziecko często opuszcza lekcje.".into(),
                at: now,
            },
            household: BTreeMap::new(),
            created: now,
            stage: Stage::Referral,
        }
    }

    /// The Nowak family of the case-workflow story ([`case_story`]): Jan of the school refers
    /// them on 1 March 2021; Anna of the GOPS enters the referral on her tablet at 9:00.
    pub fn nowak() -> Self {
        CaseFixture::new("anna", "gops")
            .actor(case_story::actor("anna-tablet"))
            .referred(Referral {
                by: "jan".to_owned(),
                institution: "sp-1".to_owned(),
                reason: "Kuba misses school often; his mother is ill.".to_owned(),
                at: case_story::march(1, 8),
            })
            .household(case_story::household())
            .created_at(case_story::march(1, 9))
    }

    /// The device (Automerge actor) the case is entered on.
    pub fn actor(mut self, actor: ActorId) -> Self {
        self.actor = actor;
        self
    }

    /// Who referred the family, why and when.
    pub fn referred(mut self, referral: Referral) -> Self {
        self.referral = referral;
        self
    }

    /// The referral's reason (keeping who referred and when).
    pub fn because(mut self, reason: &str) -> Self {
        self.referral.reason = reason.into();
        self
    }

    /// The whole household.
    pub fn household(mut self, household: BTreeMap<String, HouseholdMember>) -> Self {
        self.household = household;
        self
    }

    /// One more member of the household.
    pub fn member(mut self, id: &str, member: HouseholdMember) -> Self {
        self.household.insert(id.into(), member);
        self
    }

    /// When the owner entered the referral.
    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.created = at;
        self
    }

    /// How far along the workflow the case is, walked there with the story's steps
    /// ([`case_story::walk`], whose edits are Anna's, Jan's and Marta's).
    pub fn at_stage(mut self, stage: Stage) -> Self {
        self.stage = stage;
        self
    }

    /// What `case::new_case` takes.
    pub fn init(&self) -> CaseInit {
        CaseInit {
            actor: self.actor.clone(),
            owner: self.owner.clone(),
            lead_institution: self.institution.clone(),
            referral: self.referral.clone(),
            household: self.household.clone(),
        }
    }

    /// The case document.
    pub fn build(&self) -> Automerge {
        let by = Editor::new(&self.owner, &self.institution).expect("a valid editor");
        let mut doc = case::new_case(&self.init(), &by, self.created).expect("a new case");
        case_story::walk(&mut doc, self.stage);
        doc
    }
}

/// The Nowak family's case as Anna enters the referral.
pub fn referral() -> Automerge {
    CaseFixture::nowak().build()
}

/// The Nowak family's case walked to `stage` (see [`case_story::walk`]).
pub fn walk_to(stage: Stage) -> Automerge {
    CaseFixture::nowak().at_stage(stage).build()
}

/// A family's case owned by `owner` of institution `gops` (the region of the server tests).
pub fn new_family_case(owner: &str) -> Automerge {
    CaseFixture::new(owner, "gops").build()
}
