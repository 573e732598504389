//! Errors of the net: inputs that do not fit the model, and the tape's own errors.

use thiserror::Error;

/// What went wrong when running or training the net.
#[derive(Debug, Error)]
pub enum NetError {
    /// The data's feature count differs from the model's input size.
    #[error("the model takes {expected} features per example, but the data has {found}")]
    InputSize {
        /// The model's input size `d`.
        expected: usize,
        /// The data's feature count.
        found: usize,
    },
    /// A label is not one of the model's classes.
    #[error("label {label} of example {index} is out of range: the model has {classes} classes")]
    Label {
        /// Which example.
        index: usize,
        /// Its label.
        label: usize,
        /// The model's class count `c`.
        classes: usize,
    },
    /// Features and labels of different lengths.
    #[error("{examples} examples but {labels} labels")]
    LabelCount {
        /// Rows of the features.
        examples: usize,
        /// Number of labels.
        labels: usize,
    },
    /// Parameters whose shapes do not make a two-layer net.
    #[error("parameters do not fit together: {0}")]
    Parameters(String),
    /// The loss became NaN or infinite.
    #[error("training diverged at iteration {iteration}: the loss is {loss}; try a smaller learning rate")]
    Diverged {
        /// The iteration (step) at which the loss stopped being finite.
        iteration: usize,
        /// The loss value.
        loss: f64,
    },
    /// An optimizer that cannot update the parameters (a gradient or state of the wrong size).
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    /// A run's augmentation cannot start (no images, or a setting out of range).
    #[error(transparent)]
    Augment(#[from] crate::augment::AugmentError),
    /// An error from the tape.
    #[error(transparent)]
    Tape(#[from] tapegrad_autograd::Error),
}

/// Shorthand for results whose error is [`NetError`].
pub type Result<T, E = NetError> = std::result::Result<T, E>;
