//! Reading a change chunk's header and ops without the document: is it a relay change (issue
//! #23), a splice into a Text object the document's index knows as a free-text field?

use std::collections::HashSet;

use automerge::legacy::{ObjectId, OpType};
use automerge::{ActorId, Change, ChangeHash, ScalarValue};

/// A Text object, as the change format names it: the operation that made it.
pub(crate) type TextId = (u64, ActorId);

/// A change that may be relayed without the op set: its header, and its bytes as they arrived.
#[derive(Clone, Debug)]
pub(crate) struct RelayChange {
    pub(crate) hash: ChangeHash,
    pub(crate) deps: Vec<ChangeHash>,
    pub(crate) actor: ActorId,
    pub(crate) seq: u64,
    pub(crate) message: Option<String>,
    pub(crate) bytes: Vec<u8>,
}

/// Why a change takes the full path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FullPath {
    /// Not a sequence of plain change chunks (a document or compressed chunk, damaged bytes).
    NotPlainChanges,
    /// An op that is not an insertion of text or a deletion.
    OtherOp,
    /// An op into an object the index does not know as a free-text field.
    UnknownObject,
    /// A dependency neither in the document nor earlier in the batch.
    MissingDependency,
    /// A change the document already has (or twice in the batch).
    Duplicate,
}

/// The change chunks `bytes` consists of, each as it arrived; `None` for anything else.
pub(crate) fn split_chunks(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    Some(
        crate::engine::chunks::change_chunks(bytes)?
            .into_iter()
            .map(|chunk| chunk.whole)
            .collect(),
    )
}

/// Classifies one change chunk: a relay change if every op inserts text into or deletes from a
/// Text object in `texts`, and every dependency is `known` (in the document, or relayed before).
pub(crate) fn classify(
    chunk: &[u8],
    texts: &HashSet<TextId>,
    known: impl Fn(&ChangeHash) -> bool,
) -> Result<RelayChange, FullPath> {
    // Verifies the checksum and decodes the op columns.
    let change = Change::try_from(chunk).map_err(|_| FullPath::NotPlainChanges)?;
    let hash = change.hash();
    if known(&hash) {
        return Err(FullPath::Duplicate);
    }
    if !change.deps().iter().all(&known) {
        return Err(FullPath::MissingDependency);
    }
    let expanded = change.decode();
    for op in &expanded.operations {
        let ObjectId::Id(obj) = &op.obj else {
            return Err(FullPath::UnknownObject);
        };
        // The index holds (counter, actor) pairs; the lookup clones an actor id (16 bytes).
        if !texts.contains(&(obj.0, obj.1.clone())) {
            return Err(FullPath::UnknownObject);
        }
        let text_op = match &op.action {
            OpType::Put(ScalarValue::Str(_)) => op.insert,
            OpType::Delete => !op.insert,
            _ => false,
        };
        if !text_op {
            return Err(FullPath::OtherOp);
        }
    }
    Ok(RelayChange {
        hash,
        deps: change.deps().to_vec(),
        actor: change.actor_id().clone(),
        seq: change.seq(),
        message: change.message().map(str::to_owned),
        bytes: chunk.to_vec(),
    })
}
