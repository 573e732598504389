//! The run folder: where `train` and `tune` put their files.
//!
//! A run owns its folder. A new run gets a new folder (a unique default name, or a `--out`
//! that is new or empty), or clears one that holds an earlier run when told to
//! (`--overwrite`); `--resume` continues the run already there. For as long as the run lives
//! it holds the folder's lock (see [`lock`]), so a second run on the same folder is refused up
//! front. On opening, temporary files that a killed run left behind are removed. A new run that
//! fails before writing anything leaves no folder it created.

mod lock;
mod name;
mod saver;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use tapegrad_net::atomic_write;
use tapegrad_net::train::EpochStats;

pub use lock::{FolderLock, LOCK_FILE};
pub use saver::{restore_model, Saver};

use crate::failure::{Failure, Outcome};

/// The best model.
pub const MODEL_FILE: &str = "model.safetensors";
/// The resumable run state.
pub const STATE_FILE: &str = "state.safetensors";
/// One row per epoch.
pub const METRICS_FILE: &str = "metrics.csv";
/// The run's summary.
pub const SUMMARY_FILE: &str = "summary.json";
/// The loss curve.
pub const LOSS_PICTURE: &str = "loss.png";
/// The accuracy curves.
pub const ACCURACY_PICTURE: &str = "accuracy.png";
/// The first layer's weights as images.
pub const WEIGHTS_PICTURE: &str = "weights.png";
/// A few training images beside their augmented versions (runs with augmentation).
pub const AUGMENT_PICTURE: &str = "augment.png";
/// The run on one page: summary, settings, metrics and pictures.
pub const REPORT_FILE: &str = "report.html";
/// `tune`'s table of trials.
pub const RESULTS_FILE: &str = "results.csv";
/// The run's settings, which `train --config` reads to run it again.
pub const CONFIG_FILE: &str = "config.toml";
/// `tune`'s picture of validation accuracy against each searched hyperparameter.
pub const TUNE_PICTURE: &str = "tune.png";

/// Every file a run writes into its folder: what `--overwrite` deletes, and all it deletes.
pub const RUN_FILES: [&str; 12] = [
    MODEL_FILE,
    STATE_FILE,
    METRICS_FILE,
    SUMMARY_FILE,
    LOSS_PICTURE,
    ACCURACY_PICTURE,
    WEIGHTS_PICTURE,
    AUGMENT_PICTURE,
    REPORT_FILE,
    RESULTS_FILE,
    CONFIG_FILE,
    TUNE_PICTURE,
];

/// A locked run folder. Dropping it releases the lock; a folder this run created and left
/// empty is removed then.
#[derive(Debug)]
pub struct RunFolder {
    path: PathBuf,
    /// Folders this run created, innermost first.
    created: Vec<PathBuf>,
    lock: Option<FolderLock>,
}

impl RunFolder {
    /// The folder of a new run of `command` (`train`, `tune`): `out`, or
    /// `runs/<prefix>-<time>[-N]` when none is given. `out` may be new or empty; one that holds
    /// an earlier run is refused (exit code 2) unless `overwrite`, which deletes that run's files
    /// first. A folder holding anything else is never cleared.
    pub fn create(
        out: Option<&Path>,
        prefix: &str,
        command: &str,
        overwrite: bool,
    ) -> Outcome<RunFolder> {
        let (path, created) = match out {
            Some(dir) => {
                if dir.exists() && !dir.is_dir() {
                    return Err(Failure::input(format!(
                        "--out {}: not a folder",
                        dir.display()
                    )));
                }
                let created = missing_ancestors(dir);
                fs::create_dir_all(dir).map_err(|e| cannot_create(dir, e))?;
                (dir.to_path_buf(), created)
            }
            None => {
                let runs = Path::new("runs");
                let mut created = missing_ancestors(runs);
                fs::create_dir_all(runs).map_err(|e| cannot_create(runs, e))?;
                let dir = name::create_unique(runs, prefix).map_err(|e| cannot_create(runs, e))?;
                created.insert(0, dir.clone());
                (dir, created)
            }
        };
        let mut folder = RunFolder {
            path,
            created,
            lock: None,
        };
        folder.lock = Some(FolderLock::acquire(&folder.path, command)?);
        let others = folder.entries()?;
        if !others.is_empty() {
            folder.clear_earlier_run(&others, command, overwrite)?;
        }
        folder.remove_stale_temporaries()?;
        Ok(folder)
    }

    /// The folder of the run to continue (`--resume`): it must exist; it is locked, and never
    /// removed.
    pub fn resume(dir: &Path, command: &str) -> Outcome<RunFolder> {
        if !dir.is_dir() {
            return Err(Failure::input(format!(
                "cannot resume: {} is not a run folder (no such folder)",
                dir.display()
            )));
        }
        let mut folder = RunFolder {
            path: dir.to_path_buf(),
            created: Vec::new(),
            lock: None,
        };
        folder.lock = Some(FolderLock::acquire(&folder.path, command)?);
        folder.remove_stale_temporaries()?;
        Ok(folder)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of file `name` in the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Removes the temporary files of a killed run (the folder is locked: no live run writes).
    fn remove_stale_temporaries(&self) -> Outcome {
        atomic_write::remove_stale_temporaries(&self.path).map_err(|e| {
            Failure::running(format!(
                "cannot remove stale temporary files from {}: {e}",
                self.path.display()
            ))
        })?;
        Ok(())
    }

    /// The names in the folder other than its lock file and temporary files, sorted.
    fn entries(&self) -> Outcome<Vec<String>> {
        let unreadable = |e: std::io::Error| {
            Failure::running(format!("cannot list {}: {e}", self.path.display()))
        };
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.path).map_err(unreadable)? {
            let name = entry.map_err(unreadable)?.file_name();
            if name != LOCK_FILE && !atomic_write::is_temporary(&name) {
                names.push(name.to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Deletes an earlier run's files from the folder when `overwrite`; refuses otherwise, and
    /// always when the folder holds anything that is not a run's file.
    fn clear_earlier_run(&self, names: &[String], command: &str, overwrite: bool) -> Outcome {
        let dir = self.path.display();
        let foreign: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| {
                let path = self.path.join(n);
                !(is_tune_trial(&path) || RUN_FILES.contains(n) && path.is_file())
            })
            .collect();
        if !foreign.is_empty() {
            return Err(Failure::input(format!(
                "--out {dir}: the folder is not empty and holds what no tapegrad run writes ({}), \
                 so it is left alone{}; choose a new or empty folder",
                listing(&foreign),
                if overwrite {
                    ", --overwrite or not"
                } else {
                    ""
                }
            )));
        }
        if !overwrite {
            let resume = if command == "train" {
                "--resume to continue it, "
            } else {
                ""
            };
            return Err(Failure::input(format!(
                "--out {dir}: the folder holds an earlier run ({}); pass {resume}--overwrite to \
                 replace it, or choose another folder",
                listing(names)
            )));
        }
        for name in names {
            let path = self.path.join(name);
            let removed = match is_tune_trial(&path) {
                true => fs::remove_dir_all(&path),
                false => fs::remove_file(&path),
            };
            removed.map_err(|e| {
                Failure::running(format!("--overwrite: cannot delete {name} in {dir}: {e}"))
            })?;
        }
        Ok(())
    }
}

impl Drop for RunFolder {
    /// Removes the folders this run created if nothing but the lock file is in them (a run that
    /// failed before writing anything); never a folder that holds anything else.
    fn drop(&mut self) {
        if self.created.is_empty() || self.lock.is_none() {
            return;
        }
        if !self.entries().is_ok_and(|e| e.is_empty()) {
            return;
        }
        let _ = fs::remove_file(self.path.join(LOCK_FILE));
        self.lock = None;
        for dir in &self.created {
            if fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

/// Whether `path` is a `tune` trial's folder (`trial-0007/`) holding nothing but what a trial
/// writes: its results, its model and run state, its lock and temporary files.
fn is_tune_trial(path: &Path) -> bool {
    use tapegrad_net::tune::{is_trial_dir, is_trial_file};
    let named = (path.file_name().and_then(|n| n.to_str())).is_some_and(is_trial_dir);
    let Ok(entries) = fs::read_dir(path) else {
        return false;
    };
    named
        && fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
        && entries.into_iter().all(|e| {
            e.is_ok_and(|e| {
                let name = e.file_name();
                name.to_str().is_some_and(is_trial_file)
                    || name == LOCK_FILE
                    || atomic_write::is_temporary(&name)
            })
        })
}

/// `dir` and those of its ancestors that do not exist, innermost first.
fn missing_ancestors(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .filter(|d| !d.as_os_str().is_empty())
        .take_while(|d| !d.exists())
        .map(Path::to_path_buf)
        .collect()
}

fn cannot_create(dir: &Path, e: std::io::Error) -> Failure {
    Failure::input(format!(
        "cannot create the run folder {}: {e}",
        dir.display()
    ))
}

/// At most three names, then how many more.
fn listing(names: &[impl AsRef<str>]) -> String {
    let shown: Vec<&str> = names.iter().take(3).map(AsRef::as_ref).collect();
    match names.len() {
        n if n > 3 => format!("{} and {} more", shown.join(", "), n - 3),
        _ => shown.join(", "),
    }
}

/// metrics.csv: one row per epoch, the columns of [`EpochStats`] (see the README).
pub fn metrics_csv(history: &[EpochStats]) -> String {
    let mut out =
        String::from("epoch,iteration,loss,val_loss,train_accuracy,val_accuracy,lr,seconds\n");
    for s in history {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            s.epoch,
            s.iteration,
            s.loss,
            s.val_loss,
            s.train_accuracy,
            s.val_accuracy,
            s.lr,
            s.seconds
        );
    }
    out
}

#[cfg(test)]
mod tests;
