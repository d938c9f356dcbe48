//! When a case entered each of its stages, read from its history: the evaluation's "time spent
//! in each stage" and the day a case was closed.
//!
//! Every stage move is one change whose message starts with `stage:` (see
//! [`workflow::transition`](super::workflow::transition) and the TS twin's `workflow.ts`):
//! `stage: a -> b`, `stage: b confirmed (concurrent: …)` or `stage: b (set without rules)`. The
//! timeline follows those changes in the history's order (causes first, then by time), so every
//! replica computes the same one.

use automerge::Automerge;
use chrono::{DateTime, Utc};

use super::case::Stage;
use super::history;
use crate::error::SchemaError;

/// One stretch of a case's life in one stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageSpan {
    /// The stage.
    pub stage: Stage,
    /// When the case entered it (the case's creation for the first stage).
    pub from: DateTime<Utc>,
    /// When the case left it; `None` for the stage it is in now.
    pub to: Option<DateTime<Utc>>,
}

/// The stages a case went through, oldest first; the first starts at `created_at`.
pub fn stage_timeline(
    doc: &Automerge,
    created_at: DateTime<Utc>,
) -> Result<Vec<StageSpan>, SchemaError> {
    let mut spans = vec![StageSpan {
        stage: Stage::Referral,
        from: created_at,
        to: None,
    }];
    for entry in history::changes_between(doc, &[], &doc.get_heads())? {
        let Some(stage) = moved_to(&entry.summary) else {
            continue;
        };
        let Some(current) = spans.last_mut() else {
            continue;
        };
        if current.stage == stage {
            continue;
        }
        let at = entry.at.max(current.from);
        current.to = Some(at);
        spans.push(StageSpan {
            stage,
            from: at,
            to: None,
        });
    }
    Ok(spans)
}

/// When the case was closed or handed over: the start of its last stage when that stage is
/// final, else `None` (the case is still open).
pub fn closed_at(spans: &[StageSpan]) -> Option<DateTime<Utc>> {
    spans
        .last()
        .filter(|span| matches!(span.stage, Stage::Closed | Stage::HandedOver))
        .map(|span| span.from)
}

/// The stage a `stage:` summary moves the case to.
fn moved_to(summary: &str) -> Option<Stage> {
    let rest = summary.strip_prefix("stage: ")?;
    let target = match rest.split_once(" -> ") {
        Some((_, to)) => to,
        None => rest.split(' ').next()?,
    };
    Stage::parse(target.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_stage_move_is_read() {
        let cases = [
            ("stage: referral -> screening", Some(Stage::Screening)),
            (
                "stage: closed confirmed (concurrent: delivery)",
                Some(Stage::Closed),
            ),
            ("stage: ipp (set without rules)", Some(Stage::Ipp)),
            ("goals: g-1 added", None),
            ("stage: nonsense -> void", None),
        ];
        for (summary, expected) in cases {
            assert_eq!(moved_to(summary), expected, "{summary}");
        }
    }
}
