//! Hyperparameter studies that run anywhere and merge: a [`Study`] (search space, seed, trial
//! count and the settings every trial shares) defines trial `i`'s configuration as a pure
//! function of the study and `i` ([`Study::trial_config`]), so any process on any machine that
//! runs trial `i` runs the same trial.
//!
//! A study folder holds one subfolder per trial (`trial-0007/`, [`trial_dir`]) with the trial's
//! model and its [`TrialResult`] (`result.json`, written last and atomically: a trial is
//! finished exactly when its `result.json` exists). A [`Shard`] `K/N` is the trials with
//! `i mod N == K`; shards never write the same file. [`collect`] merges any set of study or
//! trial folders into one ranked list and names the trials that are missing;
//! [`results_csv`] writes it as a table.
//!
//! What a study searches is a [`SearchSpace`] over the rows of [`HYPERPARAMETERS`]; how it
//! spends its epochs is its [`Search`]: every trial for all of them, or successive halving,
//! whose rungs, promotions and remaining work a [`Ladder`] replays from the files.

mod collect;
mod ladder;
mod results_table;
mod search;
mod shard;
mod space;
mod study;
mod trial;

use std::path::PathBuf;

use thiserror::Error;

pub use collect::{collect, Collection};
pub use ladder::{result_files, Ladder, Promotion};
pub use results_table::{csv_field, results_csv};
pub use search::{Rung, Search, DEFAULT_ETA};
pub use shard::Shard;
pub use space::{
    config_value, value_label, Distribution, Hyperparameter, SearchSpace, HYPERPARAMETERS,
};
pub use study::Study;
pub use trial::{
    claim_file, is_trial_dir, is_trial_file, run_trial, rung_file, trial_dir, FinishedTrial,
    TrialMetrics, TrialOutcome, TrialResult, TrialStep, RESULT_FILE, TRIAL_DIR_PREFIX,
    TRIAL_MODEL_FILE, TRIAL_STATE_FILE,
};

/// The largest `result.json` read, in bytes (a result is a few hundred bytes).
pub const MAX_RESULT_FILE_BYTES: u64 = 1 << 20;

/// What went wrong defining, running, reading or merging a study.
#[derive(Debug, Error)]
pub enum TuneError {
    /// A search-space setting that cannot be sampled.
    #[error("{setting} {problem}")]
    Space {
        /// The setting (`lr`, `reg`, `hidden`, `trials`, `eta`, ...).
        setting: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A search-space file that cannot be read as one.
    #[error("search space {}: {problem}", path.display())]
    SpaceFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key (or TOML's line and column).
        problem: String,
    },
    /// A shard that is not `K/N` with `K < N`.
    #[error("shard {text:?}: {problem}")]
    Shard {
        /// The shard as given.
        text: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A file or folder that cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A `result.json` that is not a trial's result.
    #[error("{}: not a trial result: {problem}", path.display())]
    BadResult {
        /// The file.
        path: PathBuf,
        /// What is wrong (serde's message names the line and column).
        problem: String,
    },
    /// Results of two different studies given to one merge or written to one folder.
    #[error(
        "{} and {} belong to different studies (search space, seed, trial count or shared \
         settings differ); merge only the shards of one study",
        first.display(), second.display()
    )]
    DifferentStudies {
        /// A result of the first study seen.
        first: PathBuf,
        /// A result of another study.
        second: PathBuf,
    },
    /// Nothing to merge.
    #[error("no finished trial (no trial-*/result.json) in {dirs}")]
    NoTrials {
        /// The folders searched, as one line.
        dirs: String,
    },
    /// A trial's file could not be written.
    #[error(transparent)]
    Write(#[from] crate::atomic_write::WriteError),
    /// A trial's model file could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    /// Training failed other than by diverging.
    #[error(transparent)]
    Net(#[from] crate::NetError),
}
