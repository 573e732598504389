//! A scratch directory in `/dev/shm` (memory, not disk) where one fuzz input is written as
//! the files a path-based reader opens; removed again when dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes the scratch directories of one process (tests run side by side).
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A directory `/dev/shm/tapegrad-fuzz-TARGET-PID-N` (under the system temporary directory
/// where `/dev/shm` is missing), removed with its files on drop.
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// Creates a fresh, empty scratch directory for `target`.
    pub fn new(target: &str) -> Scratch {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("tapegrad-fuzz-{target}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory can be created");
        Scratch { dir }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `bytes` to the file `name` in the directory and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).expect("scratch file can be written");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
