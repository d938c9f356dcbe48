//! The schema and its migrations, applied at start under an advisory lock (nodes starting
//! together do not race).

use postgres::Client;

use super::pg_error;
use crate::error::ServerError;

/// The schema, one migration per entry; applied in order, each once.
const MIGRATIONS: &[&str] = &[
    // 1: documents, key-value trees.
    "CREATE TABLE chunks (
        document text NOT NULL,
        key bytea NOT NULL,
        bytes bytea NOT NULL,
        PRIMARY KEY (document, key)
    );
    CREATE TABLE kv (
        tree text NOT NULL,
        key bytea NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (tree, key)
    );",
    // 2: documents' keys (`crate::at_rest`), in a table of their own: rewritten on erasure.
    "CREATE TABLE document_keys (
        document text PRIMARY KEY,
        wrapped bytea NOT NULL
    );",
    // 3: erased documents: a write of their chunks is refused in its own transaction, so no
    // node can bring an erasure back (`PgStorage::write`).
    "CREATE TABLE erased (
        document text PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now()
    );",
    // 4: attachments (`crate::blobs`): each blob's record and its sealed pieces, apart from
    // the documents' chunks.
    "CREATE TABLE attachment_meta (
        document bytea NOT NULL,
        sha256 bytea NOT NULL,
        meta bytea NOT NULL,
        PRIMARY KEY (document, sha256)
    );
    CREATE TABLE attachment_pieces (
        document bytea NOT NULL,
        sha256 bytea NOT NULL,
        piece integer NOT NULL,
        bytes bytea NOT NULL,
        PRIMARY KEY (document, sha256, piece)
    );",
];

pub(super) fn migrate(client: &mut Client) -> Result<(), ServerError> {
    let mut tx = client.transaction().map_err(pg_error)?;
    // One node at a time; the lock ends with the transaction.
    tx.execute("SELECT pg_advisory_xact_lock(7366021)", &[])
        .map_err(pg_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS kooperacja_migrations (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .map_err(pg_error)?;
    let applied: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM kooperacja_migrations",
            &[],
        )
        .and_then(|r| r.try_get(0))
        .map_err(pg_error)?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i32 + 1;
        if version <= applied {
            continue;
        }
        tx.batch_execute(sql).map_err(pg_error)?;
        tx.execute(
            "INSERT INTO kooperacja_migrations (version) VALUES ($1)",
            &[&version],
        )
        .map_err(pg_error)?;
        tracing::info!(version, "PostgreSQL schema migrated");
    }
    tx.commit().map_err(pg_error)
}
