//! What a model is: [`Linear`] layers stacked into an [`Mlp`] (an ordered list of named
//! parameters `W1, b1, W2, b2, ...`), the loss they are trained on ([`loss`]), their
//! gradients ([`ParameterGradients`]), and the document's two proofs for the two-layer net:
//! [`closed_form`] (vectorised) and [`per_example`] (term by term).
//!
//! A deeper net is the same type with more sizes: `Mlp::new(&[784, 512, 256, 10], init)`
//! trains, saves and evaluates through the same code as the document's `[d, h, c]`.

mod activation;
pub mod closed_form;
mod gradients;
mod inference;
mod linear;
mod loss;
mod mlp;
mod objective;
pub mod per_example;
mod step_gradients;

pub use activation::Activation;
pub use gradients::{parameter_name, ParameterGradients};
pub(crate) use inference::argmax;
pub use inference::predicted_classes;
pub use linear::Linear;
pub use loss::loss;
pub use mlp::{Init, Mlp, Recorded};
pub use objective::{Dropout, Objective};
pub(crate) use step_gradients::{recycle as recycle_step_gradients, StepGradient};
