//! The server's secrets kept **outside** the store and outside backups (like the TLS key): the
//! master key that wraps every per-document key and the token-signing key, and the audit key
//! that chains the audit log. Whoever holds a backup or a database dump but not this directory
//! can neither read the documents nor rewrite the audit log unnoticed.
//!
//! The directory defaults to a sibling of the data directory (`<data-dir>-secrets`), so that
//! copying the data directory does not copy the keys. It is created `0700`, each key file
//! `0600`; a key file others can read is refused rather than used.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::ServerError;

/// Length of every key, in bytes.
pub const KEY_LEN: usize = 32;

/// A 32-byte secret key. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// A fresh random key.
    pub fn random() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand::fill(&mut bytes[..]);
        Self(bytes)
    }

    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The key's bytes.
    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key written as hex (what key files hold).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads a key written as hex.
    pub fn from_hex(text: &str) -> Result<Self, ServerError> {
        let bytes = hex::decode(text.trim())
            .map_err(|_| ServerError::Config("a key file does not hold hex".into()))?;
        let bytes: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            ServerError::Config(format!(
                "a key must be {KEY_LEN} bytes ({} hex digits)",
                KEY_LEN * 2
            ))
        })?;
        Ok(Self(bytes))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(…)")
    }
}

/// The keys of one server (or of every node of a region: they share the directory's contents).
#[derive(Clone, Debug)]
pub struct Secrets {
    /// Where the key files are.
    pub dir: PathBuf,
    /// Wraps the per-document keys and the token-signing key.
    pub master: Key,
    /// Keys the audit log's chain.
    pub audit: Key,
}

/// File name of the master key.
pub const MASTER_FILE: &str = "master.key";
/// File name of the audit key.
pub const AUDIT_FILE: &str = "audit.key";

impl Secrets {
    /// Reads the keys in `dir`, making the directory and any missing key on first start.
    pub fn open_or_create(dir: &Path) -> Result<Self, ServerError> {
        create_private_dir(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            master: key_file(&dir.join(MASTER_FILE))?,
            audit: key_file(&dir.join(AUDIT_FILE))?,
        })
    }
}

/// The default secrets directory of a data directory: its sibling `<name>-secrets`.
pub fn default_dir(data_dir: &Path) -> PathBuf {
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kooperacja-data".into());
    let parent = data_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    parent.join(format!("{name}-secrets"))
}

/// Reads the key in `path`, or writes a fresh one there (`0600`) if there is none.
fn key_file(path: &Path) -> Result<Key, ServerError> {
    match std::fs::metadata(path) {
        Ok(_) => read_key_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Key::random();
            write_private_file(path, key.to_hex().as_bytes())?;
            Ok(key)
        }
        Err(e) => Err(ServerError::io(format!("reading {}", path.display()), e)),
    }
}

/// Reads a key file (64 hex digits) that only the server's user can read.
pub fn read_key_file(path: &Path) -> Result<Key, ServerError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ServerError::io(format!("reading {}", path.display()), e))?;
    refuse_if_readable_by_others(path)?;
    Key::from_hex(&text).map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))
}

/// Creates `dir` (and its parents) readable by the server's user alone (`0700`).
pub fn create_private_dir(dir: &Path) -> Result<(), ServerError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| ServerError::io(format!("creating {}", dir.display()), e))?;
    set_mode(dir, 0o700)
}

/// Writes `bytes` to a new file readable by the server's user alone (`0600`), synced to disk.
/// The mode is set when the file is created, so the content is never readable by others.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    let context = || format!("writing {}", path.display());
    let mut file = create_private_file(path)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| ServerError::io(context(), e))
}

/// Creates (or empties) a file readable by the server's user alone (`0600`) for writing.
pub fn create_private_file(path: &Path) -> Result<std::fs::File, ServerError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(path)
        .map_err(|e| ServerError::io(format!("writing {}", path.display()), e))?;
    set_mode(path, 0o600)?;
    Ok(file)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), ServerError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| ServerError::io(format!("restricting {}", path.display()), e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), ServerError> {
    Ok(())
}

#[cfg(unix)]
fn refuse_if_readable_by_others(path: &Path) -> Result<(), ServerError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| ServerError::io(format!("reading {}", path.display()), e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(ServerError::Config(format!(
            "{} can be read by other users (mode {:o}); run `chmod 600` on it",
            path.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_readable_by_others(_path: &Path) -> Result<(), ServerError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_made_once_private_and_read_back() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("secrets");
        let first = Secrets::open_or_create(&dir).expect("first start");
        let again = Secrets::open_or_create(&dir).expect("restart");
        assert_eq!(first.master, again.master);
        assert_eq!(first.audit, again.audit);
        assert_ne!(first.master, first.audit);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join(MASTER_FILE)), 0o600);
            std::fs::set_permissions(dir.join(AUDIT_FILE), std::fs::Permissions::from_mode(0o644))
                .expect("chmod");
            let refused = Secrets::open_or_create(&dir).expect_err("world-readable key");
            assert!(refused.to_string().contains("chmod 600"), "{refused}");
        }
        assert!(!format!("{first:?}").contains(&first.master.to_hex()));
    }

    #[test]
    fn the_default_directory_is_beside_the_data_directory() {
        assert_eq!(
            default_dir(Path::new("/srv/kooperacja-data")),
            PathBuf::from("/srv/kooperacja-data-secrets")
        );
        assert_eq!(
            default_dir(Path::new("kooperacja-data")),
            PathBuf::from("./kooperacja-data-secrets")
        );
    }
}
