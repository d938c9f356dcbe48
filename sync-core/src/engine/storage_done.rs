//! The answers to the engine's storage tasks: a document loaded (or not), its new changes
//! durable (or not), its chunks compacted.

use std::collections::BTreeSet;

use automerge::ChangeHash;

use super::chunks::load_stored;
use super::store::Task;
use super::{close_code, ConnId, Effect, Engine, Event, Policy, TaskId};
use crate::catalogue::{coded_text, DOCUMENT_UNAVAILABLE, STORE_FAILED};
use crate::error::StorageError;
use crate::ids::DocumentId;
use crate::storage::{ChunkKey, StorageResponse};
use crate::wire::Message;

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// A storage task finished.
    pub(super) fn storage_done(
        &mut self,
        task: TaskId,
        result: Result<StorageResponse, StorageError>,
    ) {
        let Some(task) = self.tasks.remove(&task) else {
            return;
        };
        match task {
            Task::Load(document) => self.loaded(document, result),
            Task::Append {
                document,
                heads,
                key,
                len,
            } => self.appended(document, heads, key, len, result),
            Task::Compact {
                document,
                key,
                replaces,
                len,
            } => {
                let Some(doc) = self.docs.get_mut(&document) else {
                    return;
                };
                doc.compacting = false;
                if doc.stale {
                    self.dirty.insert(document);
                }
                match result {
                    Ok(_) => doc.compacted(key, &replaces, len),
                    Err(error) => self.event(Event::StorageFailed { document, error }),
                }
            }
        }
    }

    /// A load finished: the document is resident (empty if nothing is stored).
    fn loaded(&mut self, document: DocumentId, result: Result<StorageResponse, StorageError>) {
        let stored = match result {
            Ok(StorageResponse::Loaded(stored)) => stored,
            Ok(StorageResponse::Written) => {
                self.load_failed(
                    document,
                    StorageError::Io("load answered as a write".into()),
                );
                return;
            }
            Err(error) => {
                self.load_failed(document, error);
                return;
            }
        };
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        let reloaded = std::mem::take(&mut doc.followers_behind);
        match stored {
            None => {
                doc.set_content(Box::default());
                doc.exists = false;
                doc.durable_heads.clear();
                doc.stored.clear();
            }
            Some(stored) => match load_stored(&stored) {
                Ok(am) => {
                    doc.durable_heads = am.get_heads();
                    doc.set_content(Box::new(am));
                    doc.exists = true;
                    doc.set_stored(&stored);
                }
                Err(error) => {
                    self.load_failed(document, error);
                    return;
                }
            },
        }
        if reloaded {
            let followers: Vec<ConnId> = doc.subscribers.iter().copied().collect();
            doc.needs_generate.extend(followers);
        }
        if doc.wanted {
            self.offer(document);
        }
        self.dirty.insert(document);
    }

    /// A document that cannot be loaded: its waiting peers are told to retry later.
    fn load_failed(&mut self, document: DocumentId, error: StorageError) {
        self.event(Event::StorageFailed {
            document,
            error: error.clone(),
        });
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        doc.unload();
        let waiting: BTreeSet<ConnId> = doc.inbox.drain(..).map(|i| i.conn).collect();
        for conn in waiting {
            self.send(
                conn,
                Message::Error {
                    message: coded_text(
                        DOCUMENT_UNAVAILABLE,
                        "the server cannot read this document right now; retry later",
                    ),
                },
            );
            self.out.push(Effect::Close {
                conn,
                code: close_code::INTERNAL_ERROR,
                reason: "storage unavailable".into(),
            });
            self.disconnected(conn);
        }
    }

    /// A write finished: its heads are durable and advertised to every follower, or, if it
    /// failed, nothing of it is acknowledged.
    fn appended(
        &mut self,
        document: DocumentId,
        heads: Vec<ChangeHash>,
        key: ChunkKey,
        len: usize,
        result: Result<StorageResponse, StorageError>,
    ) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        doc.flushed();
        if doc.stale {
            self.dirty.insert(document);
        }
        let contributors: Vec<ConnId> = std::mem::take(&mut doc.contributors).into_iter().collect();
        if let Err(error) = result {
            // Nothing of this write is acknowledged: drop the in-memory state so that memory
            // never runs ahead of the store, and make the contributors resend after reconnecting.
            doc.unload();
            // The cause goes to the peer too (a full disk is worth telling a tablet's user).
            let cause = error.to_string();
            self.event(Event::StorageFailed { document, error });
            for conn in contributors {
                self.send(
                    conn,
                    Message::Error {
                        message: coded_text(
                            STORE_FAILED,
                            &format!(
                                "the server could not store your changes ({cause}); they were \
                                 not accepted and will be sent again after reconnecting"
                            ),
                        ),
                    },
                );
                self.out.push(Effect::Close {
                    conn,
                    code: close_code::INTERNAL_ERROR,
                    reason: cause.clone(),
                });
                self.disconnected(conn);
            }
            if self
                .docs
                .get(&document)
                .is_some_and(|d| !d.inbox.is_empty())
            {
                self.ensure_loaded(document);
            }
            return;
        }
        doc.durable_heads = heads.clone();
        doc.exists = true;
        doc.appended(key, len);
        if !doc.waiting.is_empty() {
            // Peers that asked before it existed (the host has recorded its creation by now).
            self.serve_waiting(document);
        }
        let Some(doc) = self.docs.get(&document) else {
            return;
        };
        let subscribers: Vec<ConnId> = doc.subscribers.iter().copied().collect();
        self.event(Event::DocumentStored {
            document,
            heads,
            contributors,
        });
        for conn in subscribers {
            self.generate(conn, document);
        }
        self.maybe_compact(document);
        if self.docs.get(&document).is_some_and(|d| d.has_work()) {
            self.dirty.insert(document);
        }
    }
}
