//! # tapegrad-net: the two-layer net of the document, on the tape
//!
//! [`TwoLayerNet`] is the net of the project's specification, [`specification`] (the
//! repository's `docs/two-layer-net-gradients.md`; its first-layer formulas have index slips that
//! [`per_example`] explains and corrects): `z1 = X W1 + b1`,
//! `a1 = relu(z1)`, `z2 = a1 W2 + b2`, `p = softmax(z2)`, trained on the loss
//! `L = (1/n) Σ_i -ln p_{y_i} + λ (Σ W1² + Σ W2²)` (no ½, biases not regularised).
//!
//! Its gradients come three ways, which the workspace's tests prove equal:
//! - through the tape: [`TwoLayerNet::loss_and_gradients`] records the loss (one line per
//!   formula, [`TwoLayerNet::record`]) and walks it backwards;
//! - in closed form, vectorised over the batch: [`closed_form::gradients`];
//! - term by term, as the document derives them: [`per_example::gradients`] (whose module docs
//!   explain and correct the document's first-layer index typos).
//!
//! ```
//! use ndarray::array;
//! use tapegrad_autograd::Tape;
//! use tapegrad_net::{closed_form, TwoLayerNet};
//!
//! let net = TwoLayerNet::<f64>::new(2, 8, 3, 1e-4, 42); // d, h, c, init std, seed
//! let x = array![[0.5, -1.0], [1.5, 2.0]];
//! let y = [2, 0];
//! let mut tape = Tape::new();
//! let (loss, grads) = net.loss_and_gradients(&mut tape, x.clone(), &y, 1e-3)?;
//! let (_, by_hand) = closed_form::gradients(&net, x.view(), &y, 1e-3)?;
//! assert!((loss - 3f64.ln()).abs() < 1e-3);
//! assert!((&grads.w1 - &by_hand.w1).iter().all(|d| d.abs() < 1e-12));
//! # Ok::<(), tapegrad_net::NetError>(())
//! ```
//!
//! The crate also holds what training needs and knows nothing of terminals: data readers
//! ([`data`]), the safetensors container ([`tensor_file`]), the model and run-state files
//! built on it ([`checkpoint`]), the one atomic file write ([`atomic_write`]), optimizers
//! ([`optim`]), one training step ([`TrainStep`]) and the training loop ([`train`]).

#![warn(missing_docs)]

pub mod atomic_write;
#[doc(hidden)]
pub mod bench_workload;
pub mod checkpoint;
pub mod closed_form;
pub mod config;
pub mod confusion;
pub mod data;
mod error;
pub mod limits;
pub mod memory;
mod model;
pub mod optim;
pub mod per_example;
pub mod scoring;
pub mod specification;
pub mod tensor_file;
pub mod train;
mod train_step;

pub use error::{NetError, Result};
pub use model::{loss, Gradients, Recorded, TwoLayerNet};
/// The `ndarray` version the net's arrays are made of (0.17).
pub use ndarray;
pub use optim::{Optimizer, OptimizerKind};
pub use train_step::TrainStep;
