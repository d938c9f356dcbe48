use super::*;

fn doc(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

/// The same story for every store: append, load, compact without losing a concurrent append.
fn check_store<S: Storage>(store: &S) {
    futures::executor::block_on(async {
        assert_eq!(store.load(doc(1)).await, Ok(None));
        let a = b"chunk-a".to_vec();
        let b = b"chunk-b".to_vec();
        let (ka, kb) = (ChunkKey::incremental(&a), ChunkKey::incremental(&b));
        store
            .write(vec![
                WriteOp::Put {
                    document: doc(1),
                    key: ka,
                    bytes: a.clone(),
                },
                WriteOp::Put {
                    document: doc(2),
                    key: kb,
                    bytes: b.clone(),
                },
            ])
            .await
            .expect("write");
        let loaded = store.load(doc(1)).await.expect("load").expect("stored");
        assert_eq!(loaded.chunks, vec![(ka, a.clone())]);

        // A second writer appends `c` while the first compacts what it knew (`a` only).
        let c = b"chunk-c".to_vec();
        let kc = ChunkKey::incremental(&c);
        store
            .write(vec![WriteOp::Put {
                document: doc(1),
                key: kc,
                bytes: c.clone(),
            }])
            .await
            .expect("append");
        let snap = ChunkKey::snapshot(&[]);
        store
            .write(vec![WriteOp::Compact {
                document: doc(1),
                key: snap,
                bytes: b"snapshot".to_vec(),
                replaces: vec![ka],
            }])
            .await
            .expect("compact");
        let loaded = store.load(doc(1)).await.expect("load").expect("stored");
        let keys: Vec<ChunkKey> = loaded.chunks.iter().map(|(k, _)| *k).collect();
        assert!(keys.contains(&snap) && keys.contains(&kc) && !keys.contains(&ka));
        assert_eq!(
            &loaded.concatenated()[..8],
            b"snapshot",
            "snapshots load first"
        );

        let mut listed = store.list().await.expect("list");
        listed.sort();
        assert_eq!(listed, vec![doc(1), doc(2)]);
        store.remove(doc(1)).await.expect("remove");
        assert_eq!(store.load(doc(1)).await, Ok(None));
    });
}

#[test]
fn memory_store_keeps_chunks_and_compacts_safely() {
    check_store(&MemoryStorage::new());
}

#[test]
fn memory_store_write_failure_is_an_error() {
    let store = MemoryStorage::new();
    store.fail_writes(true);
    let result = store.write_now(vec![WriteOp::Put {
        document: doc(1),
        key: ChunkKey::incremental(b"x"),
        bytes: b"x".to_vec(),
    }]);
    assert!(matches!(result, Err(StorageError::Io(_))));
    assert_eq!(store.load_now(doc(1)), Ok(None), "nothing half-written");
}

#[cfg(feature = "sled-store")]
#[test]
fn sled_store_keeps_chunks_compacts_safely_and_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = SledStorage::open(dir.path()).expect("open");
        check_store(&store);
        // A large value lands in sled's blob files; it must be durable too.
        let big = vec![7u8; 1 << 20];
        store
            .write_now(vec![WriteOp::Put {
                document: doc(3),
                key: ChunkKey::incremental(&big),
                bytes: big,
            }])
            .expect("big write");
    }
    let store = SledStorage::open(dir.path()).expect("reopen");
    let loaded = store.load_now(doc(3)).expect("load").expect("stored");
    assert_eq!(loaded.size(), 1 << 20);
    assert_eq!(
        store
            .load_now(doc(2))
            .expect("load")
            .map(|d| d.chunks.len()),
        Some(1)
    );
}

#[cfg(feature = "sled-store")]
#[test]
fn a_sled_backup_restores_every_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStorage::open(dir.path().join("a")).expect("open");
    check_store(&store);
    store
        .write_now(vec![WriteOp::Put {
            document: doc(5),
            key: ChunkKey::incremental(b"five"),
            bytes: b"five".to_vec(),
        }])
        .expect("write");
    store
        .db()
        .open_tree("users")
        .expect("tree")
        .insert("anna", "{}")
        .expect("insert");
    let file = dir.path().join("backup.kbk");
    let entries = store.backup_to(&file).expect("backup");
    assert!(entries >= 3);
    let restored = SledStorage::restore_from(&file, &dir.path().join("b")).expect("restore");
    assert_eq!(restored.load_now(doc(5)), store.load_now(doc(5)));
    assert_eq!(
        restored.list_now().expect("list"),
        store.list_now().expect("list")
    );
    assert!(restored
        .db()
        .open_tree("users")
        .expect("tree")
        .get("anna")
        .expect("get")
        .is_some());
    // Not over an existing store, and not from something else.
    assert!(SledStorage::restore_from(&file, &dir.path().join("b")).is_err());
    std::fs::write(dir.path().join("junk"), b"not a backup").expect("write");
    assert!(matches!(
        SledStorage::restore_from(&dir.path().join("junk"), &dir.path().join("c")),
        Err(StorageError::Corrupt(_))
    ));
}
