//! The training loop: shuffled minibatches, an optimizer, a learning-rate [`Schedule`],
//! validation loss and accuracy every epoch, the best model kept by a monitored validation
//! metric ([`Monitor`]), and early stopping.
//!
//! [`TrainConfig`] holds the hyperparameters ([`TrainConfig::for_data`] gives the defaults for a
//! data source), [`Training`] the state of a run, and [`evaluate`] measures a net's loss and
//! accuracy without a tape. [`Recipe`]s are named sets of settings for a goal, and
//! [`choose_augment`] picks an augmentation by short pilot runs.

mod averaging;
mod defaults;
mod evaluate;
mod pilot;
mod recipe;
mod training;

use serde::{Deserialize, Serialize};

use crate::augment::Augment;
use crate::model::{Activation, Dropout};
use crate::monitor::Monitor;
use crate::schedule::Schedule;
use crate::OptimizerKind;

pub use averaging::{Averaging, WeightAverage};
pub use evaluate::{accuracy, evaluate, predict, Evaluation};
pub use pilot::{
    augment_candidates, choose_augment, pilot_candidates, pilot_config, pilot_epochs,
    AugmentChoice, AugmentTrial, AUTO,
};
pub use recipe::{Recipe, RecipeSettings, UnknownRecipe, RECIPE_NAMES};
pub use training::{Finish, Progress, Training, TRAIN_ACCURACY_SAMPLE};

/// Hyperparameters of a run: the one definition from which the run state, the model file's
/// metadata, `summary.json`, `config.toml` and `tune`'s results are all written (through serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Hidden units of each hidden layer: `[h]` is the document's two-layer net, `[512, 256]`
    /// a net of three layers. A single number (files of earlier versions, `hidden = 100` in a
    /// config file) reads as one hidden layer.
    #[serde(deserialize_with = "hidden_sizes")]
    pub hidden: Vec<usize>,
    /// Regularisation strength `λ` of `λ Σ_l Σ W_l²` (`λ(ΣW1² + ΣW2²)` for two layers).
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
    /// The nonlinearity between layers (ReLU, the document's, when a file has none).
    #[serde(default)]
    pub activation: Activation,
    /// The probability of dropping each hidden unit's output during training (inverted
    /// dropout; 0: none, the document's net). Evaluation never drops.
    #[serde(default)]
    pub dropout: f64,
    /// Label smoothing `ε` of the training loss (PyTorch's definition; 0: the document's
    /// cross-entropy). The validation loss is never smoothed.
    #[serde(default)]
    pub label_smoothing: f64,
    /// Exponential moving average of the parameters with this decay in (0, 1), used for
    /// validation and the saved model ([`WeightAverage`]); none: no average.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ema: Option<f64>,
    /// Stochastic weight averaging: the equal-weight average of the nets at the end of
    /// epochs `swa_start, swa_start + 1, ...` (from 1), used for validation and the saved
    /// model from then on ([`WeightAverage`]); none: no average.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swa_start: Option<usize>,
    /// With `swa_start`: the constant learning rate of the averaged epochs (none: the
    /// schedule's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swa_lr: Option<f64>,
    /// Input standardisation after the mean image is subtracted: none, feature or global
    /// ([`Standardize`](crate::data::Standardize)).
    #[serde(default, skip_serializing_if = "crate::data::Standardize::is_none")]
    pub standardize: crate::data::Standardize,
    /// On-the-fly augmentation of the training images (none by default; left out of saved
    /// configurations when none, so that they read and write as before it existed).
    #[serde(default, skip_serializing_if = "Augment::is_none")]
    pub augment: Augment,
}

impl TrainConfig {
    /// The run's [`Dropout`] of hidden units, keyed by [`seed`](Self::seed) (none when
    /// [`dropout`](Self::dropout) is 0); an error when `dropout` is not in `[0, 1)`.
    pub fn hidden_dropout(&self) -> crate::Result<Option<Dropout>> {
        if self.dropout == 0.0 {
            return Ok(None);
        }
        Dropout::new(self.dropout, self.seed).map(Some)
    }
}

impl Default for TrainConfig {
    /// The defaults for the built-in digits ([`TrainConfig::for_data`] gives those of each data
    /// source): 98% test accuracy in well under a second.
    fn default() -> Self {
        TrainConfig::for_data(&crate::data::DataSpec::default())
    }
}

/// Reads `hidden` as a list of sizes, or as one number (one hidden layer); anything else is
/// an error that says what was expected and what was found.
fn hidden_sizes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<usize>, D::Error> {
    struct Sizes;
    impl<'de> serde::de::Visitor<'de> for Sizes {
        type Value = Vec<usize>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("hidden units: a number, or one per hidden layer as a list like [512, 256]")
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Vec<usize>, E> {
            usize::try_from(v)
                .map(|h| vec![h])
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Vec<usize>, E> {
            u64::try_from(v)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
                .and_then(|v| self.visit_u64(v))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Vec<usize>, A::Error> {
            let mut sizes = Vec::new();
            while let Some(h) = seq.next_element()? {
                sizes.push(h);
            }
            Ok(sizes)
        }
    }
    d.deserialize_any(Sizes)
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// The epoch's number, from 1.
    pub epoch: usize,
    /// Optimizer steps taken so far in the run.
    pub iteration: usize,
    /// Mean training loss over the epoch's minibatches (each weighted by its size), regularisation
    /// included: the objective trained, with label smoothing and dropout when they are on.
    pub loss: f64,
    /// Loss of the net at the epoch's end on the validation set: the document's objective,
    /// mean cross-entropy plus the regularisation term, never smoothed and never dropped
    /// (comparable across label smoothing and dropout settings; [`loss`](Self::loss) is the
    /// objective trained, with them).
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
