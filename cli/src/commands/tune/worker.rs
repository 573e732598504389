//! Running one piece of a study's work, rung `k` of trial `t`, in the trial's folder: claimed
//! by locking the folder (the OS drops the lock if the process dies, so a killed process never
//! strands a trial), continued from the trial's saved run state when there is one, and written
//! back atomically: the best model, the run state (if the trial may go on), then the rung's
//! result.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use tapegrad_net::atomic_write;
use tapegrad_net::checkpoint::{load_state, save_state, ModelInfo, SavedModel};
use tapegrad_net::data::{DataSpec, MeanImage, Splits};
use tapegrad_net::train::TrainConfig;
use tapegrad_net::tune::{
    claim_file, result_files, run_trial, trial_dir, Promotion, Study, TrialResult, TrialStep,
    TRIAL_STATE_FILE,
};

use crate::failure::{Failure, Outcome};
use crate::run_folder::FolderLock;

/// What a study's trials share while they run: the study, its folder and its data.
pub struct Bench<'a> {
    /// The study.
    pub study: &'a Study,
    /// The study folder.
    pub dir: &'a Path,
    /// The data, preprocessed.
    pub splits: &'a Splits,
    /// The training set's mean image (saved with every model).
    pub mean: &'a MeanImage,
    /// The data source.
    pub spec: &'a DataSpec,
}

/// How one piece of work went.
pub enum Ran {
    /// The rung is done: its result.
    Done(Box<TrialResult>),
    /// Another process holds the trial (named), or finished the rung meanwhile.
    Taken(String),
    /// Stopped by Ctrl-C after an epoch: the trial's state is saved at that epoch.
    Interrupted {
        /// The trial folder.
        trial: PathBuf,
        /// The epoch it is saved at.
        epoch: usize,
    },
}

/// Runs rung `rung` of trial `index`, unless another process holds the trial or has finished
/// the rung. An ASHA `promotion` is claimed first (its claim file created once, holding the
/// grounds; a claim another process made stands). `stop` is asked after every epoch.
pub fn run_rung(
    bench: &Bench<'_>,
    rung: usize,
    index: usize,
    promotion: Option<&Promotion>,
    stop: &dyn Fn() -> bool,
) -> Outcome<Ran> {
    let study = bench.study;
    let trial = trial_dir(bench.dir, index);
    fs::create_dir_all(&trial).map_err(|e| {
        Failure::running(format!(
            "cannot create the trial folder {}: {e}",
            trial.display()
        ))
    })?;
    if let Some(promotion) = promotion {
        claim(&claim_file(&trial, rung), promotion)?;
    }
    let _lock = match FolderLock::try_acquire(&trial, "tune")? {
        Ok(lock) => lock,
        Err(holder) => return Ok(Ran::Taken(holder)),
    };
    let files = result_files(&trial, study.rungs().len());
    if files[rung].is_file() {
        return Ok(Ran::Taken("a process that has finished it".to_owned()));
    }
    atomic_write::remove_stale_temporaries(&trial)
        .map_err(|e| Failure::running(format!("cannot clean {}: {e}", trial.display())))?;
    let config = study.trial_config(index)?;
    // The seconds of the rungs before (an interrupted rung's part is not counted).
    let before = match rung {
        0 => 0.0,
        k => TrialResult::load(&files[k - 1])?.metrics.seconds,
    };
    let state = trial.join(TRIAL_STATE_FILE);
    let from = match state.is_file() {
        true => Some((resumed(&state, &config)?, before)),
        // No state (a random search's trial, or a state lost): from the start; every epoch
        // is the same again.
        false => None,
    };
    let data = (&bench.splits.train, &bench.splits.val, bench.mean);
    let info = model_info(bench, &config);
    match run_trial(study, index, rung, from, data, stop)? {
        TrialStep::Interrupted(run, _) => {
            save_state(&state, &run, &config, bench.mean, &info)?;
            Ok(Ran::Interrupted {
                trial,
                epoch: run.epoch,
            })
        }
        TrialStep::Finished(finished) => {
            let last = rung + 1 == study.rungs().len();
            let model = finished.run.as_ref().map(|run| SavedModel {
                net: run.best.clone(),
                mean: bench.mean.clone(),
                info: info.clone(),
            });
            match (&finished.run, last) {
                (Some(run), false) => save_state(&state, run, &config, bench.mean, &info)?,
                _ if state.is_file() => fs::remove_file(&state).map_err(|e| {
                    Failure::running(format!("cannot remove {}: {e}", state.display()))
                })?,
                _ => {}
            }
            finished.result.save(bench.dir, model.as_ref())?;
            Ok(Ran::Done(Box::new(finished.result)))
        }
    }
}

/// Creates the claim file `path` for `promotion` unless it exists (create-new: of two
/// processes deciding the same promotion, one writes it).
fn claim(path: &Path, promotion: &Promotion) -> Outcome {
    let cannot = |e: std::io::Error| {
        Failure::running(format!("cannot write the claim {}: {e}", path.display()))
    };
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            let text = serde_json::to_string(promotion).unwrap_or_default();
            file.write_all(format!("{text}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(cannot)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(cannot(e)),
    }
}

/// The training saved in a trial's `state`, which must be of the trial's configuration.
fn resumed(state: &Path, config: &TrainConfig) -> Outcome<tapegrad_net::train::Training<f32>> {
    let saved = load_state(state).map_err(|e| Failure::from(e).context("cannot continue"))?;
    if &saved.config != config {
        return Err(Failure::input(format!(
            "{}: the run state of another configuration than this study's trial; remove the \
             file to rerun the trial from its start",
            state.display()
        )));
    }
    Ok(saved.run)
}

/// What a trial's model file records: the data (its path made absolute) and every
/// hyperparameter of the trial.
fn model_info(bench: &Bench<'_>, config: &TrainConfig) -> ModelInfo {
    ModelInfo {
        dataset: bench.spec.absolute().to_string(),
        classes: bench.splits.train.classes(),
        image: bench.splits.train.image(),
        input_scale: bench.spec.input_scale(),
        extra: config.fields().into_iter().collect(),
    }
}
