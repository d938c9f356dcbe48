//! Reading a referral, checked against its layout.

use automerge::Automerge;

use super::key;
use super::types::*;
use crate::error::SchemaError;
use crate::model::header::{self, DocumentKind};
use crate::model::reader::check_id;

/// Reads a referral. A decided one must carry its decision: who and when, the reason of a
/// decline, the case of an acceptance.
pub fn read_referral(doc: &Automerge) -> Result<ReferralView, SchemaError> {
    let root = header::open(doc, DocumentKind::Referral)?;
    let to = root.str(key::TO)?;
    check_id(key::TO, &to)?;
    let subject = root.map(key::SUBJECT)?;
    let status = root.status::<ReferralStatus>(key::STATUS)?;
    let decision = if root.has(key::DECISION)? {
        let map = root.map(key::DECISION)?;
        Some(ReferralDecision {
            by: map.str(key::BY)?,
            at: map.timestamp(key::AT)?,
            reason: map.opt_str(key::REASON)?,
            case: map.opt_str(key::CASE)?,
        })
    } else {
        None
    };
    // Concurrent decisions are a conflict the user settles; the decision read is the winning
    // status's own (each decision writes its map and its status in one change, in one order).
    {
        let missing = match (&status.value, &decision) {
            (ReferralStatus::Submitted, _) => None,
            (_, None) => Some("a decided referral has no decision"),
            (ReferralStatus::Declined, Some(d))
                if d.reason.as_deref().is_none_or(|r| r.trim().is_empty()) =>
            {
                Some("a declined referral has no reason")
            }
            (ReferralStatus::Accepted, Some(d)) if d.case.is_none() => {
                Some("an accepted referral names no case")
            }
            _ => None,
        };
        if let Some(reason) = missing {
            return Err(root.error(key::DECISION, reason));
        }
    }
    Ok(ReferralView {
        to,
        by: root.str(key::BY)?,
        institution: root.str(key::INSTITUTION)?,
        created_at: root.timestamp(header::key::CREATED_AT)?,
        subject_kind: subject.enumeration(key::KIND)?,
        subject_name: subject.str(key::NAME)?,
        reason: root.text(key::REASON)?,
        urgency: root.enumeration(key::URGENCY)?,
        contact: root.str(key::CONTACT)?,
        basis: root.enumeration(key::BASIS)?,
        basis_note: root.opt_str(key::BASIS_NOTE)?.unwrap_or_default(),
        status,
        decision,
    })
}
