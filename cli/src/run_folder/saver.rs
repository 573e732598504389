//! When and in which order a training run saves its model, state and metrics.
//!
//! **Order.** Every save writes the run state first (it holds the best net as well as the
//! current one), then the model if the best net changed since the last save, then
//! `metrics.csv`; each file through the one atomic write. If the state cannot be written
//! (a full disk), nothing else is, and the folder keeps the previous model and state, which
//! describe the same epoch. The first save ends with `config.toml` (so a run that saves
//! nothing leaves no file). If the model cannot be written after the state was, the state is
//! ahead of the model: [`restore_model`] (called by `--resume`) rewrites the model from the
//! state's best net. So a model never describes a later point of the run than the state.
//!
//! **Cadence.** A save costs a few `fsync`s, which dominate tiny runs (thousands of epochs a
//! second), so epochs are saved at most every [`SAVE_INTERVAL`], and always the last one. An
//! epoch that is not saved is kept in memory, and [`Saver::flush`] saves it when the run stops
//! early (the loss diverged, or it was interrupted), so the best model of the finished epochs
//! is on disk whenever the run ends. Only a run killed outright loses its last few seconds.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tapegrad_net::atomic_write::write_atomic;
use tapegrad_net::checkpoint::{self, ModelInfo, SavedModel, SavedRun};
use tapegrad_net::data::MeanImage;
use tapegrad_net::train::{TrainConfig, Training};

use super::{metrics_csv, CONFIG_FILE, METRICS_FILE, MODEL_FILE, STATE_FILE};
use crate::failure::{Failure, Outcome};

/// The shortest time between two saves of a run (the last epoch is saved regardless).
pub const SAVE_INTERVAL: Duration = Duration::from_secs(3);

/// Saves a training run into its folder as epochs finish.
pub struct Saver {
    dir: PathBuf,
    config: TrainConfig,
    mean: MeanImage,
    info: ModelInfo,
    /// `config.toml`'s text, until it is written.
    config_toml: Option<String>,
    last_save: Instant,
    /// The model file does not hold the best net with this saver's metadata: true until the
    /// first save (a resumed run's metadata, its `epochs` say, may differ from the file's even
    /// when its best net does not change), then whenever the best net changes.
    model_stale: bool,
    /// The last finished epoch, when it is not saved yet (without its history, which only
    /// grows and is taken from the run when saving).
    pending: Option<Training<f32>>,
}

impl Saver {
    /// A saver for the run in `dir` with these settings (`config_toml`: the text of its
    /// `config.toml`); the first save comes after [`SAVE_INTERVAL`] or at the last epoch.
    pub fn new(
        dir: &Path,
        config: TrainConfig,
        mean: MeanImage,
        info: ModelInfo,
        config_toml: String,
    ) -> Self {
        Saver {
            dir: dir.to_path_buf(),
            config,
            mean,
            info,
            config_toml: Some(config_toml),
            last_save: Instant::now(),
            model_stale: true,
            pending: None,
        }
    }

    /// After each finished epoch: saves it if it is the last or the last save is
    /// [`SAVE_INTERVAL`] ago, else keeps it for [`flush`](Self::flush).
    pub fn epoch_done(&mut self, run: &Training<f32>, improved: bool) -> Outcome {
        self.model_stale |= improved;
        if run.epoch >= self.config.epochs || self.last_save.elapsed() >= SAVE_INTERVAL {
            self.pending = None;
            self.save(run)
        } else {
            self.pending = Some(without_history(run));
            Ok(())
        }
    }

    /// Saves the last finished epoch if it is not saved yet; `run` is the run as it stopped
    /// (its history holds that epoch's entries).
    pub fn flush(&mut self, run: &Training<f32>) -> Outcome {
        let Some(mut epoch) = self.pending.take() else {
            return Ok(());
        };
        epoch.history = run
            .history
            .iter()
            .take_while(|s| s.epoch <= epoch.epoch)
            .cloned()
            .collect();
        self.save(&epoch)
    }

    /// State, then model (if the best net changed), then metrics, then (the first time) the
    /// settings.
    fn save(&mut self, run: &Training<f32>) -> Outcome {
        let state = self.dir.join(STATE_FILE);
        checkpoint::save_state(&state, run, &self.config, &self.mean, &self.info)?;
        if self.model_stale {
            let model = SavedModel {
                net: run.best.clone(),
                mean: self.mean.clone(),
                info: self.info.clone(),
            };
            checkpoint::save_model(&self.dir.join(MODEL_FILE), &model).map_err(|e| {
                Failure::from(e).line(format!(
                    "the run state {} is saved; `--resume` restores the model from it",
                    state.display()
                ))
            })?;
            self.model_stale = false;
        }
        write_atomic(
            &self.dir.join(METRICS_FILE),
            metrics_csv(&run.history).as_bytes(),
        )?;
        if let Some(text) = &self.config_toml {
            write_atomic(&self.dir.join(CONFIG_FILE), text.as_bytes())?;
            self.config_toml = None;
        }
        self.last_save = Instant::now();
        Ok(())
    }
}

/// Rewrites the model file of the run in `dir` from its saved state when the model is missing,
/// unreadable or not the state's best net (a save that stopped between the two files). Returns
/// whether it did.
pub fn restore_model(dir: &Path, saved: &SavedRun) -> Outcome<bool> {
    let expected = SavedModel {
        net: saved.run.best.clone(),
        mean: saved.mean.clone(),
        info: saved.info.clone(),
    };
    let path = dir.join(MODEL_FILE);
    if checkpoint::load_model(&path).is_ok_and(|m| m == expected) {
        return Ok(false);
    }
    checkpoint::save_model(&path, &expected)?;
    Ok(true)
}

/// The run without its history.
fn without_history(run: &Training<f32>) -> Training<f32> {
    Training {
        net: run.net.clone(),
        best: run.best.clone(),
        average: run.average.clone(),
        step: run.step.clone(),
        epoch: run.epoch,
        iteration: run.iteration,
        history: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
