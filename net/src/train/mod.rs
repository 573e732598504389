//! The training loop: shuffled minibatches, an optimizer, a learning-rate [`Schedule`],
//! validation loss and accuracy every epoch, the best model kept by a monitored validation
//! metric ([`Monitor`]), and early stopping.
//!
//! [`TrainConfig`] holds the hyperparameters ([`TrainConfig::for_data`] gives the defaults for a
//! data source), [`Training`] the state of a run, and [`evaluate`] measures a net's loss and
//! accuracy without a tape.

mod defaults;
mod evaluate;
mod training;

use serde::{Deserialize, Serialize};

use crate::monitor::Monitor;
use crate::schedule::Schedule;
use crate::OptimizerKind;

pub use evaluate::{accuracy, evaluate, predict, Evaluation};
pub use training::{Finish, Progress, Training, TRAIN_ACCURACY_SAMPLE};

/// Hyperparameters of a run: the one definition from which the run state, the model file's
/// metadata, `summary.json`, `config.toml` and `tune`'s results are all written (through serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Hidden units `h`.
    pub hidden: usize,
    /// Regularisation strength `λ` of `λ(ΣW1² + ΣW2²)`.
    pub reg: f64,
    /// The learning rate (the peak, for schedules that rise; see [`Schedule`]).
    pub lr: f64,
    /// How the learning rate moves over the run.
    pub schedule: Schedule,
    /// Examples per minibatch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Passes over the training data (at most: see [`patience`](Self::patience)).
    pub epochs: usize,
    /// The update rule.
    pub optimizer: OptimizerKind,
    /// Standard deviation of the initial weights.
    pub init_std: f64,
    /// Seed of the initial weights and of every epoch's shuffle.
    pub seed: u64,
    /// The validation metric that picks the best model (the one saved), stops the run early
    /// and drives the plateau schedule.
    pub monitor: Monitor,
    /// Stop when the monitored metric has not improved for this many epochs (none: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience: Option<usize>,
}

impl Default for TrainConfig {
    /// The defaults for the built-in digits ([`TrainConfig::for_data`] gives those of each data
    /// source): 98% test accuracy in well under a second.
    fn default() -> Self {
        TrainConfig::for_data(&crate::data::DataSpec::Digits)
    }
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// The epoch's number, from 1.
    pub epoch: usize,
    /// Optimizer steps taken so far in the run.
    pub iteration: usize,
    /// Mean training loss over the epoch's minibatches (each weighted by its size), regularisation
    /// included.
    pub loss: f64,
    /// Loss of the net at the epoch's end on the validation set (the training objective:
    /// mean cross-entropy plus the regularisation term).
    pub val_loss: f64,
    /// Accuracy on (up to the first [`TRAIN_ACCURACY_SAMPLE`]) training examples.
    pub train_accuracy: f64,
    /// Accuracy on the validation set.
    pub val_accuracy: f64,
    /// The learning rate of the epoch's last step.
    pub lr: f64,
    /// Seconds spent on the epoch's steps (not the evaluation).
    pub seconds: f64,
}
