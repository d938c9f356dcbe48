//! Key-value trees for the identity, access and audit tables, on either store: sled trees on
//! one machine, rows of PostgreSQL's `kv` table (keyed by tree and key) when several nodes
//! share a database. The same code (`identity.rs`, `access/`, `audit.rs`) runs on both.
//!
//! On PostgreSQL every write also notifies the other nodes (`kv <tree> <key hex>`), so they
//! refresh what they keep in memory (the registry's tables).

use crate::error::ServerError;
use crate::pg::Pg;

/// Where the trees live.
#[derive(Clone, Debug)]
pub enum Kv {
    /// An embedded sled database.
    Sled(sled::Db),
    /// A PostgreSQL database shared by several nodes.
    Pg(Pg),
}

/// One named tree of a [`Kv`].
#[derive(Clone, Debug)]
pub enum Tree {
    /// A sled tree.
    Sled(sled::Tree),
    /// The rows of `kv` with this tree's name.
    Pg {
        /// The database.
        pg: Pg,
        /// The tree's name.
        name: String,
    },
}

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

impl Kv {
    /// Opens (creates) a tree.
    pub fn open_tree(&self, name: &str) -> Result<Tree, ServerError> {
        Ok(match self {
            Kv::Sled(db) => Tree::Sled(db.open_tree(name)?),
            Kv::Pg(pg) => Tree::Pg {
                pg: pg.clone(),
                name: name.to_string(),
            },
        })
    }

    /// The names of the trees whose name starts with `prefix`.
    pub fn tree_names(&self, prefix: &str) -> Result<Vec<String>, ServerError> {
        match self {
            Kv::Sled(db) => Ok(db
                .tree_names()
                .iter()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()),
            Kv::Pg(pg) => {
                let pattern = format!("{}%", prefix.replace('%', "\\%").replace('_', "\\_"));
                pg.run(move |c| {
                    c.query(
                        "SELECT DISTINCT tree FROM kv WHERE tree LIKE $1",
                        &[&pattern],
                    )?
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect()
                })
            }
        }
    }

    /// Makes everything written so far durable (sled flushes; on PostgreSQL the claims handed
    /// to the batch writer are written). An error names claims another writer had made first.
    pub fn flush(&self) -> Result<(), ServerError> {
        match self {
            Kv::Sled(db) => {
                db.flush()?;
                Ok(())
            }
            Kv::Pg(pg) => pg.flush_claims(),
        }
    }
}

impl Tree {
    /// The value of `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, ServerError> {
        match self {
            Tree::Sled(t) => Ok(t.get(key)?.map(|v| v.to_vec())),
            Tree::Pg { pg, name } => {
                let (name, key) = (name.clone(), key.as_ref().to_vec());
                pg.run(move |c| {
                    c.query_opt(
                        "SELECT value FROM kv WHERE tree = $1 AND key = $2",
                        &[&name, &key],
                    )?
                    .map(|r| r.try_get(0))
                    .transpose()
                })
            }
        }
    }

    /// Sets `key` to `value`.
    pub fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), ServerError> {
        match self {
            Tree::Sled(t) => {
                t.insert(key.as_ref(), value.as_ref())?;
                Ok(())
            }
            Tree::Pg { pg, name } => {
                let (name, key, value) =
                    (name.clone(), key.as_ref().to_vec(), value.as_ref().to_vec());
                let node = pg.node().to_string();
                // Other nodes keep no copy of the audit log: its records need no notification
                // (one per received message would wake every node for nothing).
                let tell = !name.starts_with("audit");
                pg.run(move |c| {
                    let mut tx = c.transaction()?;
                    tx.execute(
                        "INSERT INTO kv (tree, key, value) VALUES ($1, $2, $3)
                         ON CONFLICT (tree, key) DO UPDATE SET value = excluded.value",
                        &[&name, &key, &value],
                    )?;
                    if tell {
                        Pg::notify_in(&mut tx, &node, &format!("kv {name} {}", hex::encode(&key)))?;
                    }
                    tx.commit()
                })
            }
        }
    }

    /// Writes `key` once: an append to a chain, a binding. On sled at once, compare-and-swap;
    /// on PostgreSQL handed to the batch writer (off the caller's thread), which writes it
    /// compare-and-swap with the next batch and reports another writer's value as a conflict
    /// (`crate::pg::batch`). A value already there that differs is an error on sled at once.
    pub fn claim(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), ServerError> {
        match self {
            Tree::Sled(t) => match t.compare_and_swap(
                key.as_ref(),
                None as Option<&[u8]>,
                Some(value.as_ref()),
            )? {
                Ok(()) => Ok(()),
                Err(e) if e.current.as_deref() == Some(value.as_ref()) => Ok(()),
                Err(_) => Err(ServerError::Conflict(format!(
                    "key {} holds another value already",
                    hex::encode(key.as_ref())
                ))),
            },
            Tree::Pg { pg, name } => {
                pg.claim_later(crate::pg::Claim {
                    tree: name.clone(),
                    key: key.as_ref().to_vec(),
                    value: value.as_ref().to_vec(),
                    // Other nodes keep no copy of the audit log.
                    notify: !name.starts_with("audit"),
                });
                Ok(())
            }
        }
    }

    /// Sets `key` to `value` only if `key` holds `expected` (`None`: absent). `false` when it
    /// did not (someone else wrote first).
    pub fn swap(
        &self,
        key: impl AsRef<[u8]>,
        expected: Option<&[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<bool, ServerError> {
        match self {
            Tree::Sled(t) => Ok(t
                .compare_and_swap(key.as_ref(), expected, Some(value.as_ref()))?
                .is_ok()),
            Tree::Pg { pg, name } => {
                let (name, key, value) =
                    (name.clone(), key.as_ref().to_vec(), value.as_ref().to_vec());
                let expected = expected.map(<[u8]>::to_vec);
                let node = pg.node().to_string();
                pg.run(move |c| {
                    let mut tx = c.transaction()?;
                    let changed = match &expected {
                        None => tx.execute(
                            "INSERT INTO kv (tree, key, value) VALUES ($1, $2, $3)
                             ON CONFLICT DO NOTHING",
                            &[&name, &key, &value],
                        )?,
                        Some(old) => tx.execute(
                            "UPDATE kv SET value = $4 WHERE tree = $1 AND key = $2 AND value = $3",
                            &[&name, &key, old, &value],
                        )?,
                    };
                    if changed == 1 {
                        Pg::notify_in(&mut tx, &node, &format!("kv {name} {}", hex::encode(&key)))?;
                    }
                    tx.commit()?;
                    Ok(changed == 1)
                })
            }
        }
    }

    /// Sets many keys at once (one transaction on PostgreSQL; no notifications: for copying a
    /// whole store before any node serves it).
    pub fn insert_all(&self, entries: Vec<Entry>) -> Result<(), ServerError> {
        match self {
            Tree::Sled(t) => {
                for (k, v) in entries {
                    t.insert(k, v)?;
                }
                Ok(())
            }
            Tree::Pg { pg, name } => {
                let name = name.clone();
                pg.run(move |c| {
                    let mut tx = c.transaction()?;
                    let upsert = tx.prepare(
                        "INSERT INTO kv (tree, key, value) VALUES ($1, $2, $3)
                         ON CONFLICT (tree, key) DO UPDATE SET value = excluded.value",
                    )?;
                    for (k, v) in &entries {
                        tx.execute(&upsert, &[&name, k, v])?;
                    }
                    tx.commit()
                })
            }
        }
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> Result<Vec<Entry>, ServerError> {
        match self {
            Tree::Sled(t) => t
                .iter()
                .map(|item| {
                    let (k, v) = item?;
                    Ok((k.to_vec(), v.to_vec()))
                })
                .collect(),
            Tree::Pg { pg, name } => {
                let name = name.clone();
                pg.run(move |c| {
                    c.query(
                        "SELECT key, value FROM kv WHERE tree = $1 ORDER BY key",
                        &[&name],
                    )?
                    .iter()
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                    .collect()
                })
            }
        }
    }

    /// Every value, in key order.
    pub fn values(&self) -> Result<Vec<Vec<u8>>, ServerError> {
        Ok(self.entries()?.into_iter().map(|(_, v)| v).collect())
    }

    /// The entry with the greatest key.
    pub fn last(&self) -> Result<Option<Entry>, ServerError> {
        match self {
            Tree::Sled(t) => Ok(t.last()?.map(|(k, v)| (k.to_vec(), v.to_vec()))),
            Tree::Pg { pg, name } => {
                let name = name.clone();
                pg.run(move |c| {
                    c.query_opt(
                        "SELECT key, value FROM kv WHERE tree = $1 ORDER BY key DESC LIMIT 1",
                        &[&name],
                    )?
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                    .transpose()
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sled_tree_does_what_the_tables_need() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kv = Kv::Sled(sled::open(dir.path()).expect("sled"));
        let t = kv.open_tree("users").expect("tree");
        assert_eq!(t.get("anna").expect("get"), None);
        assert!(t.swap("anna", None, b"1").expect("swap"));
        assert!(!t.swap("anna", None, b"2").expect("swap"), "exists already");
        assert!(t.swap("anna", Some(b"1"), b"3").expect("swap"));
        t.insert("bartek", b"4").expect("insert");
        assert_eq!(t.get("anna").expect("get"), Some(b"3".to_vec()));
        assert_eq!(
            t.values().expect("values"),
            vec![b"3".to_vec(), b"4".to_vec()]
        );
        assert_eq!(
            t.last().expect("last"),
            Some((b"bartek".to_vec(), b"4".to_vec()))
        );
    }
}
