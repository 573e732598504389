//! [`OptimizerKind`]: an optimizer chosen by name in a configuration, and what is derived from
//! the optimizer it builds.

use serde::{Deserialize, Serialize};
use tapegrad_autograd::Element;

use super::{Adam, Momentum, Optimizer, Sgd};

/// Which update rule a [`TrainConfig`](crate::train::TrainConfig) uses, with its constants.
/// Saved as JSON as `{"kind": "adam", "beta1": 0.9, ...}`; a constant left out takes its
/// usual value (`{"kind": "adam"}` is [`OptimizerKind::ADAM`]).
///
/// Everything else about a rule (its checks, its state) comes from the optimizer
/// [`build`](OptimizerKind::build) makes, so a new rule adds a variant and one arm there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum OptimizerKind {
    /// [`Sgd`]: `w -= lr · g`.
    Sgd,
    /// [`Momentum`]: `v = μ v - lr · g; w += v`.
    Momentum {
        /// The momentum `μ`, typically 0.9.
        #[serde(default = "usual::mu")]
        mu: f64,
    },
    /// [`Adam`] with bias correction.
    Adam {
        /// Decay of the first moment, typically 0.9.
        #[serde(default = "usual::beta1")]
        beta1: f64,
        /// Decay of the second moment, typically 0.999.
        #[serde(default = "usual::beta2")]
        beta2: f64,
        /// Added to the root of the second moment, typically 1e-8.
        #[serde(default = "usual::eps")]
        eps: f64,
    },
}

/// The usual constants, for the constants a configuration leaves out.
mod usual {
    pub const fn mu() -> f64 {
        0.9
    }
    pub const fn beta1() -> f64 {
        0.9
    }
    pub const fn beta2() -> f64 {
        0.999
    }
    pub const fn eps() -> f64 {
        1e-8
    }
}

impl OptimizerKind {
    /// Momentum with `μ = 0.9`.
    pub const MOMENTUM: OptimizerKind = OptimizerKind::Momentum { mu: usual::mu() };
    /// Adam with its usual constants.
    pub const ADAM: OptimizerKind = OptimizerKind::Adam {
        beta1: usual::beta1(),
        beta2: usual::beta2(),
        eps: usual::eps(),
    };

    /// A fresh optimizer of this kind (zero state).
    ///
    /// ```
    /// use tapegrad_net::optim::OptimizerKind;
    /// let adam = OptimizerKind::ADAM.build::<f32>();
    /// assert_eq!(adam.name(), "adam");
    /// assert_eq!(adam.buffer_names(), ["m", "v"]);
    /// ```
    pub fn build<T: Element>(self) -> Box<dyn Optimizer<T>> {
        match self {
            OptimizerKind::Sgd => Box::new(Sgd::default()),
            OptimizerKind::Momentum { mu } => Box::new(Momentum::new(mu)),
            OptimizerKind::Adam { beta1, beta2, eps } => Box::new(Adam::new(beta1, beta2, eps)),
        }
    }

    /// The rule's name (`sgd`, `momentum`, `adam`).
    pub fn name(self) -> &'static str {
        self.build::<f32>().name()
    }

    /// Checks the rule's constants; the error says what is wrong.
    pub fn check(self) -> Result<(), String> {
        self.build::<f32>().check()
    }

    /// How many buffers the size of the parameters the rule keeps (0, 1 or 2).
    pub fn buffers_per_parameter(self) -> usize {
        self.build::<f32>().buffer_names().len()
    }
}
