//! The disk-space reserve: writes stop while the data directory's filesystem has less free
//! space than the reserve.
//!
//! sled cannot recover from a failed write in the same process (it keeps the first IO error
//! and fails, or waits, ever after), so the server must never let it meet a full disk. Before
//! every group commit and every audit record the guard asks the filesystem how much space is
//! free (one `statvfs`, about a microsecond); below the reserve the write is refused with an
//! error that says so, reads go on, and writing resumes by itself once space is freed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sync_core::StorageError;

/// Default reserve: room for sled to finish what it has started, and for an operator to act.
pub const DEFAULT_RESERVE: u64 = 256 * 1024 * 1024;

/// Watches the free space under the data directory.
#[derive(Debug)]
pub struct DiskGuard {
    path: PathBuf,
    reserve: u64,
    low: AtomicBool,
    free: AtomicU64,
}

impl DiskGuard {
    /// A guard for the filesystem holding `path`, keeping `reserve` bytes free.
    pub fn new(path: &Path, reserve: u64) -> Self {
        DiskGuard {
            path: path.to_path_buf(),
            reserve,
            low: AtomicBool::new(false),
            free: AtomicU64::new(u64::MAX),
        }
    }

    /// `Ok` when a write may go ahead; otherwise why not, in words.
    pub fn check(&self) -> Result<(), StorageError> {
        if self.reserve == 0 {
            return Ok(());
        }
        let free = fs2::available_space(&self.path).map_err(|e| {
            StorageError::Io(format!(
                "cannot tell the free space of {}: {e}",
                self.path.display()
            ))
        })?;
        self.free.store(free, Ordering::Relaxed);
        let low = free < self.reserve;
        let was_low = self.low.swap(low, Ordering::Relaxed);
        if low != was_low {
            if low {
                tracing::error!(
                    free,
                    reserve = self.reserve,
                    "disk nearly full: writes stop"
                );
            } else {
                tracing::warn!(
                    free,
                    reserve = self.reserve,
                    "disk space is back: writes resume"
                );
            }
        }
        if low {
            return Err(StorageError::Io(format!(
                "the server's disk is full ({} free, {} kept in reserve): changes are refused \
                 until an operator frees space; nothing already acknowledged is affected",
                mib(free),
                mib(self.reserve)
            )));
        }
        Ok(())
    }

    /// Whether the last check found the disk below the reserve.
    pub fn is_low(&self) -> bool {
        self.low.load(Ordering::Relaxed)
    }

    /// Free bytes at the last check.
    pub fn free(&self) -> u64 {
        self.free.load(Ordering::Relaxed)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_larger_than_the_disk_refuses_and_zero_allows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let never = DiskGuard::new(dir.path(), u64::MAX);
        let refused = never.check().expect_err("no disk has u64::MAX bytes free");
        assert!(refused.to_string().contains("disk is full"), "{refused}");
        assert!(never.is_low());
        assert!(DiskGuard::new(dir.path(), 0).check().is_ok());
        let modest = DiskGuard::new(dir.path(), 1);
        assert!(modest.check().is_ok());
        assert!(!modest.is_low());
        assert!(modest.free() > 0);
    }
}
