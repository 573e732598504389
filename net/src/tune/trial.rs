//! One trial: running it, and its folder (`trial-0007/`: the model, then `result.json`).

use std::cmp::Ordering;
use std::fs::File;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{Study, TuneError, MAX_RESULT_FILE_BYTES};
use crate::atomic_write::write_atomic;
use crate::checkpoint::{save_model, SavedModel};
use crate::data::{Dataset, MeanImage};
use crate::train::{self, Finish, TrainConfig, Training};
use crate::NetError;

/// A trial's result file inside its folder; it is written last, so it marks a finished trial.
pub const RESULT_FILE: &str = "result.json";
/// A trial's best model inside its folder (none for a trial that diverged).
pub const TRIAL_MODEL_FILE: &str = "model.safetensors";
/// A trial folder's name before its four-digit index: `trial-0007`.
pub const TRIAL_DIR_PREFIX: &str = "trial-";
/// A trial's resumable run state inside its folder (between the rungs of a halving study, and
/// after an interruption): where the trial stands, to continue it bit for bit.
pub const TRIAL_STATE_FILE: &str = "state.safetensors";

/// The result file of rung `rung` inside a trial folder of a halving study: `rung-1.json`.
pub fn rung_file(trial_dir: &Path, rung: usize) -> PathBuf {
    trial_dir.join(format!("rung-{rung}.json"))
}

/// The claim that promotes a trial of an ASHA study to rung `rung` (from 1), created once
/// (create-new) by the process that decides it: `promoted-1.json`, with the decision's grounds.
pub fn claim_file(trial_dir: &Path, rung: usize) -> PathBuf {
    trial_dir.join(format!("promoted-{rung}.json"))
}

/// The folder of trial `index` in `study_dir`: `trial-0007` (more digits past 9999).
pub fn trial_dir(study_dir: &Path, index: usize) -> PathBuf {
    study_dir.join(format!("{TRIAL_DIR_PREFIX}{index:04}"))
}

/// Whether `name` is a trial folder's name (`trial-` and digits).
pub fn is_trial_dir(name: &str) -> bool {
    name.strip_prefix(TRIAL_DIR_PREFIX)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `name` is a file a trial writes into its folder: `result.json`, `rung-K.json`,
/// `promoted-K.json`, its model or its run state.
pub fn is_trial_file(name: &str) -> bool {
    let numbered = |prefix: &str| {
        (name
            .strip_prefix(prefix)
            .and_then(|n| n.strip_suffix(".json")))
        .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
    };
    numbered("rung-")
        || numbered("promoted-")
        || [RESULT_FILE, TRIAL_MODEL_FILE, TRIAL_STATE_FILE].contains(&name)
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
    /// The rung it reached (0 for a random search's trials; see [`Study::rungs`]).
    #[serde(default)]
    pub rung: usize,
    /// Its study (so that shards of different studies are never merged).
    pub study: Study,
    /// Its configuration, [`Study::trial_config`] of its index (`epochs` is the most it may
    /// run; `metrics.epochs_run` what it ran).
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
        let rungs = result.study.rungs().len();
        if result.rung >= rungs {
            return Err(bad(format!(
                "rung {} of a study of {rungs} rungs",
                result.rung
            )));
        }
        Ok(result)
    }

    /// Writes the trial's folder in `study_dir`: the model (if any), then, for a halving
    /// study, `rung-K.json`, then `result.json` (the trial's latest result), each atomically;
    /// the result files last, so that they exist only for a finished rung.
    pub fn save(&self, study_dir: &Path, model: Option<&SavedModel>) -> Result<(), TuneError> {
        let dir = trial_dir(study_dir, self.trial);
        if let Some(model) = model {
            save_model(&dir.join(TRIAL_MODEL_FILE), model)?;
        }
        let text = serde_json::to_string_pretty(self).expect("a result of numbers serialises");
        let text = format!("{text}\n");
        if self.study.rungs().len() > 1 {
            write_atomic(&rung_file(&dir, self.rung), text.as_bytes())?;
        }
        write_atomic(&dir.join(RESULT_FILE), text.as_bytes())?;
        Ok(())
    }

    /// The order of a ranking, better first: a higher rung, then trials with a model before
    /// diverged ones, then the higher validation accuracy, then the lower validation loss,
    /// then the lower index. Collecting and promoting both rank by it.
    pub fn ranking(a: &TrialResult, b: &TrialResult) -> Ordering {
        let has_model = |r: &TrialResult| r.metrics.outcome != TrialOutcome::Diverged;
        let loss = |r: &TrialResult| r.metrics.val_loss.unwrap_or(f64::INFINITY);
        has_model(b)
            .cmp(&has_model(a))
            .then(b.rung.cmp(&a.rung))
            .then(b.metrics.val_accuracy.total_cmp(&a.metrics.val_accuracy))
            .then(loss(a).total_cmp(&loss(b)))
            .then(a.trial.cmp(&b.trial))
    }
}

/// A trial that finished a rung: its result and, unless it diverged, where its training
/// stands (its best model is `run.best`).
#[derive(Debug, Clone)]
pub struct FinishedTrial {
    /// Its result.
    pub result: TrialResult,
    /// Its training after the rung (none for a diverged trial).
    pub run: Option<Training<f32>>,
}

/// How a call of [`run_trial`] ended.
#[derive(Debug, Clone)]
pub enum TrialStep {
    /// The rung is done.
    Finished(Box<FinishedTrial>),
    /// `stop` asked to stop: the training as it stands after its last finished epoch (to save
    /// and continue), and the seconds it ran in this call.
    Interrupted(Box<Training<f32>>, f64),
}

/// Runs trial `index` of `study` up to the end of rung `rung` on `train` and `val` (already
/// preprocessed as the study's data): from `from` (its training so far and the seconds that
/// took) or from its start, training [`Study::trial_config`] and measuring its best model.
/// `mean` is the mean image subtracted from the data (augmentation resamples raw images; see
/// [`Training::run_centred`]).
/// `stop` is asked after every epoch; when it says so, the run stops there. A diverged trial
/// is a result, not an error.
pub fn run_trial(
    study: &Study,
    index: usize,
    rung: usize,
    from: Option<(Training<f32>, f64)>,
    data: (&Dataset, &Dataset, &MeanImage),
    stop: &dyn Fn() -> bool,
) -> Result<TrialStep, TuneError> {
    let (train, val, mean) = data;
    let config = study.trial_config(index)?;
    let until = study.rungs().get(rung).map_or(config.epochs, |r| r.epochs);
    let start = Instant::now();
    let (mut run, before) = match from {
        Some(from) => from,
        None => (
            Training::<f32>::new(&config, train.dim(), train.classes())?,
            0.0,
        ),
    };
    let mut stopped = false;
    // A run saved at the end of this rung (its result not yet written) has nothing to run.
    let finish = match run.epoch >= until {
        true => Ok(Finish::Completed),
        false => run.run_centred(&config, train, val, Some(mean), |p| match p {
            train::Progress::Epoch { stats, .. } if stats.epoch >= until => ControlFlow::Break(()),
            train::Progress::Epoch { .. } if stop() => {
                stopped = true;
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        }),
    };
    let seconds = before + start.elapsed().as_secs_f64();
    let outcome = match finish {
        Ok(Finish::Interrupted) if stopped => {
            return Ok(TrialStep::Interrupted(Box::new(run), seconds))
        }
        Ok(Finish::EarlyStopped) => TrialOutcome::EarlyStopped,
        Ok(_) => TrialOutcome::Completed,
        Err(NetError::Diverged { .. }) => TrialOutcome::Diverged,
        Err(e) => return Err(e.into()),
    };
    let epochs_run = run.history.len();
    let run = (outcome != TrialOutcome::Diverged).then_some(run);
    // A diverged trial has no model, so no best epoch.
    let best = run.as_ref().and_then(|r| config.monitor.best(&r.history));
    let train_accuracy = match &run {
        Some(run) => train::accuracy(&run.best, train.features(), train.labels())?,
        None => 0.0,
    };
    let metrics = TrialMetrics {
        outcome,
        best_epoch: best.map_or(0, |s| s.epoch),
        epochs_run,
        val_accuracy: best.map_or(0.0, |s| s.val_accuracy),
        val_loss: best.map(|s| s.val_loss),
        train_accuracy,
        seconds,
    };
    Ok(TrialStep::Finished(Box::new(FinishedTrial {
        result: TrialResult {
            trial: index,
            rung,
            study: study.clone(),
            config,
            metrics,
        },
        run,
    })))
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
        assert!(rung_file(&dir, 2).ends_with("trial-0007/rung-2.json"));
        for name in [
            "rung-2.json",
            "promoted-1.json",
            "result.json",
            "state.safetensors",
            "model.safetensors",
        ] {
            assert!(is_trial_file(name), "{name}");
        }
        for name in ["rung-.json", "rung-x.json", "notes.txt", "config.toml"] {
            assert!(!is_trial_file(name), "{name}");
        }
    }
}
