//! Referrals (K7.2) for tests: the school's referral of the Nowak family, as a document and as
//! the form a tablet fills in.

use automerge::Automerge;
use chrono::Utc;
use client_sdk::ReferralForm;
use sync_core::model::referral::{self, LegalBasis, ReferralInit, SubjectKind, Urgency};
use sync_core::model::Editor;

/// The form a referrer fills in about the Nowak family, sent to `to`.
pub fn nowak_family(to: &str) -> ReferralForm {
    ReferralForm {
        to: to.to_owned(),
        subject_kind: SubjectKind::Family,
        subject_name: "Rodzina Nowaków".to_owned(),
        reason: "Kasia (kl. 3) od miesiąca przychodzi głodna, opuściła 40% zajęć.".to_owned(),
        urgency: Urgency::Soon,
        contact: "Matka, Ewa Nowak, tel. 600 100 200".to_owned(),
        basis: LegalBasis::Consent,
        basis_note: "Matka zgodziła się ustnie 1 marca, notatka w dzienniku pedagoga.".to_owned(),
    }
}

/// The referral document `szkola-rep` of `szkola` writes about the Nowak family to `gops`
/// (the institutions of `provision_region`).
pub fn school_referral() -> Automerge {
    let form = nowak_family("gops");
    let init = ReferralInit {
        actor: automerge::ActorId::random(),
        to: form.to,
        by: "szkola-rep".into(),
        institution: "szkola".into(),
        subject_kind: form.subject_kind,
        subject_name: form.subject_name,
        reason: form.reason,
        urgency: form.urgency,
        contact: form.contact,
        basis: form.basis,
        basis_note: form.basis_note,
    };
    let by = Editor::new("szkola-rep", "szkola").expect("editor");
    referral::new_referral(&init, &by, Utc::now()).expect("referral")
}
