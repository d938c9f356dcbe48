//! Who may see and change what. The rules live on the server, never inside a CRDT document
//! that writers could edit; what the server derives from a case (its consents, its stage, its
//! hand-over) is read from the document only after the server has validated it.
//!
//! | document | read-write | read |
//! | --- | --- | --- |
//! | case (open) | its owner, assigned users, users of assigned institutions | users of PZK member institutions for which the case records consent for the purpose `pzk` |
//! | case (closed / handed over) | users of the institution it was handed over to | its owner and assigned users |
//! | PZK | its animator and assigned ROPS advisers (every part); users of its member institutions (consultations and meetings, not the team, agreement, leader, work plan, services, 9.2 decision or recommendations: `refusal.pzk-part-not-editable`) | coordinators and other ROPS advisers |
//! | referral | social workers and animators of the receiving institution | its referrer |
//! | justice (police and court information of a case, GDPR art. 10) | what the case's rule gives them, for the case's owner and users of a `police`/`justice`-sector institution assigned to the case (themselves or through their institution); nobody else, whatever they may do with the case | — |
//! | seen ("Co nowego") | its owner, the user who created it (any user may) | — |
//! | untyped (only with `--allow-untyped-documents`) | its creator's devices | — |
//!
//! Creating: cases by social workers and animators, PZK documents by the animator of a team or
//! a ROPS adviser assigned to it (`admin pzk adviser`),
//! referrals by a member of an institution to a GOPS/MOPS/PCPR (sector `social`) that shares a
//! PZK team with it (otherwise refused: `refusal.referral-no-pzk-relation`);
//! a case's justice document by whoever may write it by the rule above (otherwise refused:
//! `refusal.justice-not-allowed`; it never changes case: `refusal.justice-case-changed`); any
//! user may create untyped documents when the server allows them. A justice document's access
//! is derived from its case's record at every question, so an assignment, a closing or an
//! erasure of the case applies to it at once; erasing a case erases its justice documents too.
//!
//! Within a PZK document, a consultation addressed to an institution (about a case not shared
//! with it) is asked only by a writer of that case and answered only by members of that
//! institution, each from their own device ([`consultations`]).
//!
//! Sharing (assigning users and institutions to a case, and unassigning them): the case's owner,
//! the animator of a PZK team whose member institutions include the case's lead institution,
//! and admins; only the owner removes the owner's own assignment. Anyone else is answered as
//! for an unknown document.

//!
//! [`record`] holds a document's record, [`registry`] the tables and their upkeep, [`rules`] the
//! table above, [`actors`] the binding of change authors to devices, [`consultations`] who asks
//! and answers a consultation addressed to an institution, [`pzk_parts`] the parts of a PZK
//! document only its editors change, [`validate`] what a changed document must be and what the
//! server derives from it, [`policy`] the engine's questions answered from all of these;
//! [`retention`] keeps a finished case's retention (closing date, notice, legal hold).

mod actors;
mod consultations;
mod policy;
mod pzk_parts;
mod record;
mod registry;
mod retention;
mod rules;
mod validate;

pub use policy::ServerPolicy;
pub use record::{DocRecord, Hold, Kind, Retention};
pub use registry::Registry;
pub use validate::PZK_PURPOSE;
