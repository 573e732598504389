//! [`Objective`]: what a training step minimises beyond the document's loss: the
//! regularisation strength, the training-only [`Dropout`] of hidden units, and label
//! smoothing.

use tapegrad_autograd::{DropoutMask, Element};

use crate::Result;

/// Inverted dropout of the hidden units during training: each hidden unit of each example is
/// zeroed with probability `p` and the others scaled by `1/(1-p)`, so that a unit's expected
/// value is unchanged and evaluation (which never drops) needs no rescaling.
///
/// The masks are a function of `seed` and the element only: a training step derives its own
/// with [`at_step`](Dropout::at_step) and each hidden layer its mask with
/// [`mask`](Dropout::mask), so a run's masks depend on (seed, step, layer) and not on the
/// thread count, and a resumed run draws the same ones.
///
/// ```
/// use tapegrad_net::model::Dropout;
/// let d = Dropout::new(0.5, 7)?;
/// assert_eq!(d.at_step(3).mask(0), d.at_step(3).mask(0));
/// assert_ne!(d.at_step(3).mask(0), d.at_step(4).mask(0));
/// assert_ne!(d.at_step(3).mask(0), d.at_step(3).mask(1));
/// assert!(Dropout::new(1.0, 7).is_err());
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    p: f64,
    seed: u64,
}

impl Dropout {
    /// Dropout with probability `p` (`0 <= p < 1`, else an error naming it) from `seed`.
    pub fn new(p: f64, seed: u64) -> Result<Self> {
        DropoutMask::new(p, seed)?;
        Ok(Dropout { p, seed })
    }

    /// The probability of dropping a unit.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// The dropout of training step `step` (counted from 0 over the whole run).
    pub fn at_step(&self, step: u64) -> Dropout {
        Dropout {
            p: self.p,
            seed: mix(self.seed, step),
        }
    }

    /// The mask of hidden layer `layer` (0 for the first hidden layer's outputs).
    pub fn mask(&self, layer: usize) -> DropoutMask {
        DropoutMask::new(self.p, mix(self.seed, layer as u64))
            .expect("p was checked when the dropout was made")
    }
}

/// A seed for stream `k` of `seed`: distinct `(seed, k)` give unrelated seeds.
fn mix(seed: u64, k: u64) -> u64 {
    let mut z = seed ^ k.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What the loss of a training step is made of besides the data: the regularisation strength
/// `λ` of `λ Σ_l Σ W_l²`, optionally dropout of the hidden units, and the label smoothing `ε`
/// of the data term (PyTorch's definition,
/// [`cross_entropy_smoothed`](tapegrad_autograd::Var::cross_entropy_smoothed)):
/// `L_data = (1/n) Σ_i [ (1-ε)(-ln p_{y_i}) + (ε/c) Σ_k (-ln p_k) ]`. A plain `λ` converts
/// into the document's objective (no dropout, `ε = 0`), so `net.loss_and_gradients(&mut tape, x, &y,
/// 1e-3)` trains the document's loss.
///
/// ```
/// use tapegrad_net::model::{Dropout, Objective};
/// let plain: Objective<f64> = 1e-3.into();
/// assert_eq!(plain, Objective::new(1e-3));
/// let dropping = Objective::new(1e-3).with_dropout(Dropout::new(0.5, 0)?);
/// assert!(dropping.dropout.is_some());
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective<T> {
    /// The regularisation strength `λ`.
    pub reg: T,
    /// Dropout of the hidden units' outputs (none: the document's net).
    pub dropout: Option<Dropout>,
    /// Label smoothing `ε` in `[0, 1]` (0: the document's cross-entropy).
    pub label_smoothing: T,
}

impl<T: Element> Objective<T> {
    /// The document's objective with regularisation `reg`: nothing dropped.
    pub fn new(reg: T) -> Self {
        Objective {
            reg,
            dropout: None,
            label_smoothing: T::zero(),
        }
    }

    /// The same objective with `dropout` of the hidden units.
    pub fn with_dropout(mut self, dropout: Dropout) -> Self {
        self.dropout = Some(dropout);
        self
    }

    /// The same objective with label smoothing `ε` (checked when the loss is recorded: `ε`
    /// outside `[0, 1]` is an error then).
    pub fn with_label_smoothing(mut self, epsilon: T) -> Self {
        self.label_smoothing = epsilon;
        self
    }
}

impl<T: Element> From<T> for Objective<T> {
    fn from(reg: T) -> Self {
        Objective::new(reg)
    }
}
