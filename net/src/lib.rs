//! # tapegrad-net: the two-layer net of the document, on the tape
//!
//! A model is an [`Mlp`]: [`Linear`] layers with ReLU between them, whose parameters are an
//! ordered list of named tensors `W1, b1, W2, b2, ...`. The net of the project's
//! specification, [`specification`] (the repository's `docs/two-layer-net-gradients.md`; its
//! first-layer formulas have index slips that [`per_example`] explains and corrects), is the
//! `Mlp` of two layers, sizes `[d, h, c]`: `z1 = X W1 + b1`, `a1 = relu(z1)`,
//! `z2 = a1 W2 + b2`, `p = softmax(z2)`, trained on the loss
//! `L = (1/n) Σ_i -ln p_{y_i} + λ (Σ W1² + Σ W2²)` (no ½, biases not regularised; [`loss`]).
//!
//! Its gradients come three ways, which the workspace's tests prove equal:
//! - through the tape: [`Mlp::loss_and_gradients`] records the loss (one line per
//!   formula, [`loss`]) and walks it backwards;
//! - in closed form, vectorised over the batch: [`closed_form::gradients`];
//! - term by term, as the document derives them: [`per_example::gradients`] (whose module docs
//!   explain and correct the document's first-layer index typos).
//!
//! ```
//! use ndarray::array;
//! use tapegrad_autograd::Tape;
//! use tapegrad_net::{closed_form, Init, Mlp};
//!
//! let net = Mlp::<f64>::new(&[2, 8, 3], Init { std: 1e-4, seed: 42 })?; // sizes [d, h, c]
//! let x = array![[0.5, -1.0], [1.5, 2.0]];
//! let y = [2, 0];
//! let mut tape = Tape::new();
//! let (loss, grads) = net.loss_and_gradients(&mut tape, x.clone(), &y, 1e-3)?;
//! let (_, by_hand) = closed_form::gradients(&net, x.view(), &y, 1e-3)?;
//! assert!((loss - 3f64.ln()).abs() < 1e-3);
//! assert!(grads.relative_error(&by_hand) < 1e-12);
//! # Ok::<(), tapegrad_net::NetError>(())
//! ```
//!
//! Training it takes a [`TrainStep`] (a tape and an optimizer) and one call per batch:
//!
//! ```
//! use ndarray::array;
//! use tapegrad_net::optim::Adam;
//! use tapegrad_net::{Init, Mlp, TrainStep};
//!
//! let mut net = Mlp::<f32>::new(&[2, 16, 8, 2], Init { std: 0.3, seed: 1 })?; // two hidden layers
//! let mut step = TrainStep::new(Adam::default());
//! let (x, y) = (array![[1.0, 0.0], [0.0, 1.0]], [0, 1]);
//! let first = step.step(&mut net, x.clone(), &y, 0.0, 0.01)?;
//! for _ in 0..50 {
//!     step.step(&mut net, x.clone(), &y, 0.0, 0.01)?;
//! }
//! assert!(step.step(&mut net, x, &y, 0.0, 0.01)? < first / 4.0);
//! # Ok::<(), tapegrad_net::NetError>(())
//! ```
//!
//! The crate also holds what training needs and knows nothing of terminals: data readers
//! ([`data`]), the safetensors container ([`tensor_file`]), the model and run-state files
//! built on it ([`checkpoint`]), the one atomic file write ([`atomic_write`]), optimizers
//! ([`optim`]), one training step ([`TrainStep`]), learning-rate schedules ([`schedule`]), the
//! validation metric runs are judged by ([`monitor`]) and the training loop ([`train`]).

#![warn(missing_docs)]

pub mod atomic_write;
pub mod augment;
pub mod checkpoint;
pub mod config;
pub mod confusion;
pub mod data;
mod error;
pub mod limits;
pub mod memory;
pub mod model;
pub mod monitor;
pub mod optim;
pub mod schedule;
pub mod scoring;
pub mod specification;
pub mod tensor_file;
pub mod train;
mod train_step;
pub mod tune;

pub use error::{NetError, Result};
pub use model::{closed_form, per_example};
pub use model::{loss, Activation, Init, Linear, Mlp, ParameterGradients, Recorded};
/// The `ndarray` version the net's arrays are made of (0.17).
pub use ndarray;
pub use optim::{Optimizer, OptimizerKind};
pub use train_step::TrainStep;
