//! The storage tasks the engine asks its host for: loading a document, writing its new
//! changes, compacting its chunks into one snapshot. Their answers are in `storage_done.rs`.

use automerge::ChangeHash;

use super::document::DocState;
use super::relay::Need;
use super::{Effect, Engine, Policy, TaskId};
use crate::ids::DocumentId;
use crate::storage::{ChunkKey, StorageRequest, WriteOp};

/// What a storage task was for.
#[derive(Debug)]
pub(super) enum Task {
    /// Loading a document.
    Load(DocumentId),
    /// Writing a document's new changes, after which `heads` are durable.
    Append {
        document: DocumentId,
        heads: Vec<ChangeHash>,
        key: ChunkKey,
        len: usize,
    },
    /// Replacing a document's chunks with one snapshot.
    Compact {
        document: DocumentId,
        key: ChunkKey,
        replaces: Vec<ChunkKey>,
        len: usize,
    },
}

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// Loads a document that is not in memory (nothing happens if it is, or is being loaded).
    pub(super) fn ensure_loaded(&mut self, document: DocumentId) {
        self.start_load(document);
    }

    /// Loads again a document another writer made stale (it was dropped from memory just
    /// before): once loaded, every follower is owed a sync message.
    pub(super) fn reload(&mut self, document: DocumentId) {
        if let Some(doc) = self.docs.get_mut(&document) {
            doc.followers_behind = true;
        }
        self.start_load(document);
    }

    /// Asks for a load of an unloaded document.
    fn start_load(&mut self, document: DocumentId) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        if matches!(doc.state, DocState::Unloaded) {
            doc.state = DocState::Loading;
            self.request(Task::Load(document), StorageRequest::Load { document });
        }
    }

    /// Numbers a storage task, remembers what it is for, and asks the host to carry out
    /// `request` (answered by the task's number).
    fn request(&mut self, task: Task, request: StorageRequest) {
        self.next_task += 1;
        let id = TaskId(self.next_task);
        self.tasks.insert(id, task);
        self.out.push(Effect::Storage { task: id, request });
    }

    /// Emits the write of everything not yet durable; answers wait for its completion.
    /// `as_received`: the new changes exactly as peers sent them (see
    /// [`stored_as_received`](super::chunks::stored_as_received)).
    pub(super) fn persist(&mut self, document: DocumentId, as_received: Option<Vec<u8>>) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        let Some(am) = doc.resident() else {
            return;
        };
        let heads = am.get_heads();
        let (bytes, key) = if let Some(bytes) = as_received {
            let key = ChunkKey::incremental(&bytes);
            (bytes, key)
        } else if doc.stored.is_empty() {
            // A new document: a snapshot. automerge rebuilds changes from its op set for
            // `save_after`, which for a whole document costs several times `save`.
            let bytes = am.save();
            (bytes, ChunkKey::snapshot(&heads))
        } else {
            let bytes = am.save_after(&doc.durable_heads);
            let key = ChunkKey::incremental(&bytes);
            (bytes, key)
        };
        doc.start_flushing();
        self.append(document, heads, key, bytes);
    }

    /// Emits the write of relay changes (issue #23) as they arrived, after which `heads` are
    /// durable; answers wait for its completion.
    pub(super) fn persist_bytes(
        &mut self,
        document: DocumentId,
        heads: Vec<ChangeHash>,
        bytes: Vec<u8>,
    ) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        doc.start_flushing();
        self.append(document, heads, ChunkKey::incremental(&bytes), bytes);
    }

    /// Emits the write of one chunk under `key`, after which `heads` are durable.
    fn append(
        &mut self,
        document: DocumentId,
        heads: Vec<ChangeHash>,
        key: ChunkKey,
        bytes: Vec<u8>,
    ) {
        let len = bytes.len();
        self.request(
            Task::Append {
                document,
                heads,
                key,
                len,
            },
            StorageRequest::Write(WriteOp::Put {
                document,
                key,
                bytes,
            }),
        );
    }

    /// Compacts a document's chunks into one snapshot when they have grown past the limits
    /// and everything in memory is durable (relay changes pending are applied first).
    pub(super) fn maybe_compact(&mut self, document: DocumentId) {
        if self.docs.get(&document).is_some_and(|d| {
            d.relay.is_lagging()
                && !d.compacting
                && !d.is_flushing()
                && d.should_compact(&self.config)
        }) {
            self.materialise(document, Need::Compaction);
        }
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        if doc.compacting || doc.is_flushing() || !doc.should_compact(&self.config) {
            return;
        }
        let Some(am) = doc.resident() else {
            return;
        };
        if am.get_heads() != doc.durable_heads {
            return;
        }
        let bytes = am.save();
        let key = ChunkKey::snapshot(&doc.durable_heads);
        let replaces: Vec<ChunkKey> = doc.stored.iter().map(|(k, _)| *k).collect();
        let len = bytes.len();
        doc.compacting = true;
        self.request(
            Task::Compact {
                document,
                key,
                replaces: replaces.clone(),
                len,
            },
            StorageRequest::Write(WriteOp::Compact {
                document,
                key,
                bytes,
                replaces,
            }),
        );
    }
}
