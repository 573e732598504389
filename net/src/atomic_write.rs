//! The one way tapegrad writes a file: atomically, so a reader, a crash or a full disk never
//! sees half of it.
//!
//! [`write_atomic`] writes the bytes to a fresh temporary file in the target's directory
//! (`.{name}.tmp-{pid}-{n}`, created with `create_new`, so two writers never share one), flushes
//! it to disk (`fsync`), renames it over the target (which replaces the old file in one step)
//! and then flushes the directory, so that the rename itself survives a power cut. On any error
//! the temporary file is removed and the target is untouched: it holds either the old contents
//! or, if there was none, does not exist. A process killed in the middle leaves at worst a
//! temporary file, which [`is_temporary`] recognises and [`remove_stale_temporaries`] deletes.
//!
//! The replacement is a new file: it gets default permissions, and a symlink at the target is
//! replaced rather than followed.
//!
//! ```
//! use tapegrad_net::atomic_write::write_atomic;
//!
//! let dir = std::env::temp_dir().join(format!("tapegrad-atomic-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! write_atomic(&dir.join("notes.txt"), b"first")?;
//! write_atomic(&dir.join("notes.txt"), b"second")?;
//! assert_eq!(std::fs::read(dir.join("notes.txt"))?, b"second");
//! let err = write_atomic(&dir.join("missing/notes.txt"), b"x").unwrap_err();
//! assert!(err.to_string().starts_with(&format!("cannot write {}", dir.join("missing/notes.txt").display())));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;

/// Tells the temporary files of one process apart.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many temporary names are tried before giving up (each is taken only by a stale file of
/// an earlier process with the same pid).
const NAME_ATTEMPTS: u32 = 1000;

/// The longest part of the target's name kept in the temporary's name, in bytes.
const NAME_PREFIX_MAX: usize = 100;

/// A file that could not be written; the file at `path`, if there was one, is unchanged and no
/// temporary file is left behind.
#[derive(Debug, Error)]
#[error("cannot write {} ({step}): {source}", path.display())]
pub struct WriteError {
    /// The file that was to be written.
    pub path: PathBuf,
    /// The step that failed, naming the temporary file where there was one.
    pub step: String,
    /// The operating system's error.
    #[source]
    pub source: io::Error,
}

/// Writes `bytes` to `path` atomically (see the [module docs](self)).
///
/// Errors name `path`, the failed step and the cause: a missing or read-only directory, a full
/// disk, `path` being a directory, ...
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_inner(path, bytes, None)
}

/// Test hook, not part of the API: like [`write_atomic`], but writing the temporary file fails
/// with an I/O error after `after_bytes` bytes, as on a full disk.
#[doc(hidden)]
pub fn write_atomic_interrupted(
    path: &Path,
    bytes: &[u8],
    after_bytes: usize,
) -> Result<(), WriteError> {
    write_inner(path, bytes, Some(after_bytes))
}

/// Whether `name` is the name of one of [`write_atomic`]'s temporary files:
/// `.{name}.tmp-{pid}-{n}`.
pub fn is_temporary(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    let Some((stem, suffix)) = name.rsplit_once(".tmp-") else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    stem.len() > 1
        && stem.starts_with('.')
        && suffix
            .split_once('-')
            .is_some_and(|(pid, n)| digits(pid) && digits(n))
}

/// Removes the temporary files that a killed writer left in `dir` and returns their names.
///
/// Only call this while no other process writes into `dir` (tapegrad calls it on a run folder
/// it has locked): a live writer's temporary file looks the same as a stale one.
pub fn remove_stale_temporaries(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if is_temporary(&entry.file_name()) && entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    Ok(removed)
}

/// Removes the temporary file when dropped, unless it was renamed into place: every early
/// return and a panic clean up.
struct Temporary {
    path: PathBuf,
    armed: bool,
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the error being reported matters more than a failed clean-up.
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn write_inner(path: &Path, bytes: &[u8], fail_after: Option<usize>) -> Result<(), WriteError> {
    let error = |step: String, source: io::Error| WriteError {
        path: path.to_path_buf(),
        step,
        source,
    };
    let Some(name) = path.file_name() else {
        let source = io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name");
        return Err(error("choosing a temporary file".into(), source));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let (mut file, temporary) = create_temporary(dir, name)
        .map_err(|(tmp, e)| error(format!("creating temporary file {}", tmp.display()), e))?;
    let tmp = temporary.path.clone();
    let mut temporary = temporary;
    write_synced(&mut file, bytes, fail_after)
        .map_err(|e| error(format!("writing temporary file {}", tmp.display()), e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| {
        error(
            format!("renaming temporary file {} to it", tmp.display()),
            e,
        )
    })?;
    temporary.armed = false;
    sync_dir(dir);
    Ok(())
}

/// Creates a new temporary file for `name` in `dir`; on failure, the last name tried.
fn create_temporary(dir: &Path, name: &OsStr) -> Result<(File, Temporary), (PathBuf, io::Error)> {
    let name = name.to_string_lossy();
    let mut end = name.len().min(NAME_PREFIX_MAX);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let mut attempt = 0;
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{}.tmp-{}-{n}", &name[..end], std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => {
                let temporary = Temporary {
                    path: tmp,
                    armed: true,
                };
                return Ok((file, temporary));
            }
            // A stale file of an earlier process that had the same pid: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < NAME_ATTEMPTS => {
                attempt += 1;
            }
            Err(e) => return Err((tmp, e)),
        }
    }
}

fn write_synced(file: &mut File, bytes: &[u8], fail_after: Option<usize>) -> io::Result<()> {
    match fail_after {
        None => file.write_all(bytes)?,
        Some(n) => {
            file.write_all(&bytes[..n.min(bytes.len())])?;
            return Err(io::Error::other("injected write failure (test hook)"));
        }
    }
    file.sync_all()
}

/// Makes the rename durable by syncing the directory entry (Unix). Best effort: the new file is
/// already complete and in place, so reporting a failure here would claim a write failed that
/// did not.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests;
