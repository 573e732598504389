//! One trial: running it, and its folder (`trial-0007/`: the model, then `result.json`).

use std::fs::File;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{Study, TuneError, MAX_RESULT_FILE_BYTES};
use crate::atomic_write::write_atomic;
use crate::checkpoint::{save_model, SavedModel};
use crate::data::Dataset;
use crate::train::{self, Finish, TrainConfig, Training};
use crate::{Mlp, NetError};

/// A trial's result file inside its folder; it is written last, so it marks a finished trial.
pub const RESULT_FILE: &str = "result.json";
/// A trial's best model inside its folder (none for a trial that diverged).
pub const TRIAL_MODEL_FILE: &str = "model.safetensors";
/// A trial folder's name before its four-digit index: `trial-0007`.
pub const TRIAL_DIR_PREFIX: &str = "trial-";

/// The folder of trial `index` in `study_dir`: `trial-0007` (more digits past 9999).
pub fn trial_dir(study_dir: &Path, index: usize) -> PathBuf {
    study_dir.join(format!("{TRIAL_DIR_PREFIX}{index:04}"))
}

/// Whether `name` is a trial folder's name (`trial-` and digits).
pub fn is_trial_dir(name: &str) -> bool {
    name.strip_prefix(TRIAL_DIR_PREFIX)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialOutcome {
    /// All its epochs ran.
    Completed,
    /// Its patience ran out.
    EarlyStopped,
    /// The loss stopped being finite; it has no model.
    Diverged,
}

impl TrialOutcome {
    /// The outcome as `results.csv` and `result.json` spell it.
    pub fn name(self) -> &'static str {
        match self {
            TrialOutcome::Completed => "completed",
            TrialOutcome::EarlyStopped => "early_stopped",
            TrialOutcome::Diverged => "diverged",
        }
    }
}

/// What a trial measured (accuracies of the best epoch's model by the monitored metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialMetrics {
    /// How it ended.
    pub outcome: TrialOutcome,
    /// The epoch its model is from (0: none; a diverged trial).
    pub best_epoch: usize,
    /// Epochs it ran.
    pub epochs_run: usize,
    /// Validation accuracy of its model (0 for a diverged trial).
    pub val_accuracy: f64,
    /// Validation loss of its model (infinite, written `null`, for a diverged trial).
    pub val_loss: Option<f64>,
    /// Accuracy of its model on the training set (0 for a diverged trial).
    pub train_accuracy: f64,
    /// Wall-clock seconds it took (the only figure that differs between runs).
    pub seconds: f64,
}

/// A finished trial, as `result.json` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialResult {
    /// The trial's index in its study.
    pub trial: usize,
    /// Its study (so that shards of different studies are never merged).
    pub study: Study,
    /// Its configuration, [`Study::trial_config`] of its index.
    pub config: TrainConfig,
    /// What it measured.
    pub metrics: TrialMetrics,
}

impl TrialResult {
    /// Reads a `result.json` (at most [`MAX_RESULT_FILE_BYTES`]); the error names the file
    /// and, for bad JSON, the line and column.
    pub fn load(path: &Path) -> Result<TrialResult, TuneError> {
        let read = |source| TuneError::Read {
            path: path.to_owned(),
            source,
        };
        let mut text = String::new();
        File::open(path)
            .and_then(|f| f.take(MAX_RESULT_FILE_BYTES + 1).read_to_string(&mut text))
            .map_err(read)?;
        let bad = |problem: String| TuneError::BadResult {
            path: path.to_owned(),
            problem,
        };
        if text.len() as u64 > MAX_RESULT_FILE_BYTES {
            return Err(bad(format!("larger than {MAX_RESULT_FILE_BYTES} bytes")));
        }
        let result: TrialResult = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if result.trial >= result.study.trials {
            return Err(bad(format!(
                "trial {} of a study of {} trials",
                result.trial, result.study.trials
            )));
        }
        Ok(result)
    }

    /// Writes the trial's folder in `study_dir`: the model (if any), then `result.json`, each
    /// atomically; `result.json` last, so that it exists only for a finished trial.
    pub fn save(&self, study_dir: &Path, model: Option<&SavedModel>) -> Result<(), TuneError> {
        let dir = trial_dir(study_dir, self.trial);
        if let Some(model) = model {
            save_model(&dir.join(TRIAL_MODEL_FILE), model)?;
        }
        let text = serde_json::to_string_pretty(self).expect("a result of numbers serialises");
        write_atomic(&dir.join(RESULT_FILE), format!("{text}\n").as_bytes())?;
        Ok(())
    }
}

/// A trial that ran: its result and, unless it diverged, its best model.
#[derive(Debug, Clone)]
pub struct FinishedTrial {
    /// Its result.
    pub result: TrialResult,
    /// The best epoch's net (none for a diverged trial).
    pub net: Option<Mlp<f32>>,
}

/// Runs trial `index` of `study` on `train` and `val` (already preprocessed as the study's
/// data): trains [`Study::trial_config`] and measures its best model. A diverged trial is a
/// result, not an error.
pub fn run_trial(
    study: &Study,
    index: usize,
    train: &Dataset,
    val: &Dataset,
) -> Result<FinishedTrial, TuneError> {
    let config = study.trial_config(index);
    let start = Instant::now();
    let mut run = Training::<f32>::new(&config, train.dim(), train.classes())?;
    let finish = run.run(&config, train, val, |_| ControlFlow::Continue(()));
    let (outcome, net) = match finish {
        Ok(Finish::EarlyStopped) => (TrialOutcome::EarlyStopped, Some(run.best)),
        Ok(_) => (TrialOutcome::Completed, Some(run.best)),
        Err(NetError::Diverged { .. }) => (TrialOutcome::Diverged, None),
        Err(e) => return Err(e.into()),
    };
    // A diverged trial has no model, so no best epoch.
    let best = net.as_ref().and(config.monitor.best(&run.history));
    let train_accuracy = match &net {
        Some(net) => train::accuracy(net, train.features(), train.labels())?,
        None => 0.0,
    };
    let metrics = TrialMetrics {
        outcome,
        best_epoch: best.map_or(0, |s| s.epoch),
        epochs_run: run.history.len(),
        val_accuracy: best.map_or(0.0, |s| s.val_accuracy),
        val_loss: best.map(|s| s.val_loss),
        train_accuracy,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(FinishedTrial {
        result: TrialResult {
            trial: index,
            study: study.clone(),
            config,
            metrics,
        },
        net,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trial_folders_are_named_by_index_and_recognised() {
        let dir = trial_dir(Path::new("study"), 7);
        assert_eq!(dir, Path::new("study/trial-0007"));
        assert_eq!(trial_dir(Path::new("s"), 12345), Path::new("s/trial-12345"));
        assert!(is_trial_dir("trial-0007") && is_trial_dir("trial-12345"));
        for name in ["trial-", "trial-7a", "trial0007", "results.csv"] {
            assert!(!is_trial_dir(name), "{name}");
        }
    }
}
