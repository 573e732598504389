//! The lock that makes a run folder one run's own: an OS file lock on `.lock` inside it.
//!
//! The lock is `flock`-style (`File::try_lock`), so the operating system drops it when the
//! process ends in any way, SIGKILL included: a killed run never leaves a folder locked. The
//! file stays behind and says who held the lock last, in three lines of text:
//!
//! ```text
//! pid 12345
//! started 2026-11-30T00:10:00Z
//! command train
//! ```
//!
//! Only the OS lock counts; the text is for the message that tells a second run who is
//! using the folder. A leftover file from a finished or killed run is simply reused.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::Path;

use super::name::utc_timestamp;
use crate::failure::{Failure, Outcome};

/// The lock file's name inside a run folder.
pub const LOCK_FILE: &str = ".lock";

/// The longest lock file text read back for a message, in bytes.
const HOLDER_TEXT_MAX: u64 = 4096;

/// A held run-folder lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Locks `dir` for `command` (`train`, `tune`), or refuses with exit code 2 naming the
    /// folder and the process that holds it.
    pub fn acquire(dir: &Path, command: &str) -> Outcome<FolderLock> {
        match FolderLock::try_acquire(dir, command)? {
            Ok(lock) => Ok(lock),
            Err(holder) => Err(Failure::input(format!(
                "the run folder {} is in use by {holder}; wait for that run to end or choose \
                 another --out",
                dir.display(),
            ))),
        }
    }

    /// Locks `dir` for `command` if no other process holds it; else who does (as
    /// [`acquire`](Self::acquire)'s message names it). `tune` takes trials this way, each
    /// trial folder claimed by the process that locks it.
    pub fn try_acquire(dir: &Path, command: &str) -> Outcome<Result<FolderLock, String>> {
        let path = dir.join(LOCK_FILE);
        let cannot = |e: io::Error| {
            Failure::running(format!("cannot lock the run folder {}: {e}", dir.display()))
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(cannot)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(Err(holder(&mut file))),
            // A file system without locks (some network mounts): go on unlocked, as cargo does.
            Err(TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {}
            Err(TryLockError::Error(e)) => return Err(cannot(e)),
        }
        let text = format!(
            "pid {}\nstarted {}\ncommand {command}\n",
            std::process::id(),
            utc_timestamp(std::time::SystemTime::now(), true)
        );
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()))
            .map_err(cannot)?;
        Ok(Ok(FolderLock { _file: file }))
    }
}

/// Who holds the lock, from the lock file's text: `tapegrad train (process 12345, started
/// 2026-11-30T00:10:00Z)`, or `another process` when the text is missing or unreadable (the
/// holder may be between taking the lock and writing its name).
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let read = file
        .rewind()
        .and_then(|()| file.take(HOLDER_TEXT_MAX).read_to_string(&mut text));
    if read.is_err() {
        return "another process".into();
    }
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match (field("pid"), field("started"), field("command")) {
        (Some(pid), started, command) => format!(
            "tapegrad {} (process {pid}{})",
            command.unwrap_or("run"),
            started
                .map(|s| format!(", started {s}"))
                .unwrap_or_default()
        ),
        _ => "another process".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held = FolderLock::acquire(dir.path(), "train").unwrap();
        let refused = FolderLock::acquire(dir.path(), "tune").unwrap_err();
        assert_eq!(refused.code, 2);
        let pid = format!("tapegrad train (process {}, started 20", std::process::id());
        assert!(refused.message.contains(&pid), "{}", refused.message);
        assert!(refused.message.contains(&dir.path().display().to_string()));
        drop(held);
        FolderLock::acquire(dir.path(), "tune").unwrap();
    }

    #[test]
    fn a_leftover_lock_file_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), "pid 1\nstarted long ago\n").unwrap();
        FolderLock::acquire(dir.path(), "train").unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert!(text.starts_with(&format!("pid {}\nstarted ", std::process::id())));
        assert!(text.ends_with("command train\n"), "{text}");
    }
}
