//! # tapegrad-autograd: reverse-mode automatic differentiation on a tape
//!
//! A [`Tape`] records tensor operations on [`ndarray`] arrays as they run. Each recorded node
//! holds its op, the indices of its inputs (always earlier nodes) and its value. A [`Var`] is a
//! two-word `Copy` handle to a node; ops are its methods, so a model reads like its formula:
//!
//! ```
//! use ndarray::array;
//! use tapegrad_autograd::Tape;
//!
//! let tape = Tape::<f64>::new();
//! let x = tape.constant(array![[1.0, -2.0], [0.5, 3.0]]); // inputs: no gradient
//! let w = tape.param(array![[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]); // parameters: gradient
//! let b = tape.param(array![0.0, 0.1, -0.1]);
//!
//! let z = x.matmul(w)?.add(b)?; // [2, 3], b broadcast over the rows
//! let loss = z.cross_entropy(&[2, 0])?; // mean -ln softmax(z)[i, y_i]
//!
//! let grads = loss.backward()?;
//! assert_eq!(grads[w].shape(), &[2, 3]);
//! assert_eq!(grads[b].shape(), &[3]);
//! assert!(grads.get(x).is_none()); // constants never get a gradient
//! # Ok::<(), tapegrad_autograd::Error>(())
//! ```
//!
//! ## How backward walks the tape
//!
//! Recording order is a topological order, so [`Var::backward`] is one loop over the nodes
//! from the output back to the first: each node's gradient is complete when the loop reaches
//! it, is pushed into its inputs by that op's rule (all rules live in [`derivatives`]), then
//! freed. No recursion, so a chain of a million ops is fine. A node that depends on no
//! parameter is skipped, and an input that needs no gradient never gets one computed: the
//! backward of `X.matmul(W)` with `X` constant computes `dW` only. Fan-out accumulates.
//!
//! ## Reuse in a training loop
//!
//! [`Tape::clear`] forgets the recording but keeps every tensor buffer, and
//! [`Tape::recycle`] takes back a step's gradients' buffers: a loop that records the same
//! shapes each step stops allocating tensors after its first step. Leaves are moved in (owned
//! arrays) or shared (`Arc` of an array), never copied.
//!
//! ## The rest
//!
//! [`gradcheck`] compares the tape against central differences; [`Tape::to_dot`] draws the
//! graph; [`CustomOp`] adds an op from outside, with the same pooled buffers as the built-in
//! ones; bad shapes, axes, labels and bounds are an [`Error`] naming the op and shapes, never a
//! panic. [`Element`] is `f32` or `f64` (sealed). Reductions sum pairwise in `f64`
//! ([`summation`]).
//!
//! ## Where things are
//!
//! - `tape.rs`: the tape and the one path every op is recorded through; `var.rs`: the handle;
//!   `leaf.rs`: values brought in; `pool.rs`: reused buffers.
//! - `exp.rs`: the softmax family's exponential, a polynomial that vectorises for `f32`.
//! - `op.rs`: what is recorded, grouped as the maths groups it (unary, binary broadcast,
//!   reductions, shape ops, softmax and losses, matmul, custom).
//! - `ops/`: one file per family of ops (`unary.rs`, `binary.rs`, `reduce.rs`, `shape.rs`,
//!   `softmax.rs`, `pick.rs`, `losses.rs`, `matmul.rs`, `custom.rs`), plus `broadcast.rs`
//!   (NumPy's rules).
//! - `kernel/`: the matrix-product kernel (numerics, not an op): `gemm.rs` picks an
//!   implementation, the rest is the packed kernel with its SIMD micro-kernels.
//! - [`team`]: the helper threads the parallel passes (products, long sums, optimizers'
//!   updates) run on, which spin between the passes of a step instead of sleeping;
//!   `halves.rs` cuts long elementwise passes (unary ops, broadcasting binary ops, a bias
//!   gradient's column sums) between them.
//! - [`derivatives`]: every derivative rule, one match; [`sinks`]: how their results land in
//!   gradient buffers; `backward.rs`: the walk; `gradients.rs`: what it returns;
//!   `deferred.rs`: shares kept unwritten until needed, and [`ProductGradient`], a weight's
//!   gradient left as a product for an optimizer to compute as it updates the weight.

#![warn(missing_docs)]

mod backward;
mod custom_op;
mod deferred;
pub mod derivatives;
mod dot;
mod element;
mod error;
mod exp;
mod gradcheck;
mod gradients;
pub mod guide;
mod halves;
mod kernel;
mod leaf;
mod op;
mod ops;
mod pool;
mod product_gradient;
pub mod sinks;
mod subnormals;
pub mod summation;
mod tape;
pub mod team;
mod var;
mod widest;

pub use custom_op::CustomOp;
pub use element::Element;
pub use error::{Error, Result};
pub use gradcheck::{
    gradcheck, numeric_gradients, relative_error, GradcheckReport, CENTRAL_DIFFERENCE_STEP,
};
pub use gradients::Gradients;
pub use kernel::gemm::{gemm, gemm_with, isa, set_isa, set_threads, threads, threads_for, Kernel};
pub use kernel::Isa;
pub use leaf::{Leaf, SharedArray};
/// The `ndarray` version the tape's tensors are made of (0.17), for callers that don't depend
/// on it themselves.
pub use ndarray;
pub use ops::dropout::DropoutMask;
pub use ops::unary::sigmoid;
pub use product_gradient::ProductGradient;
pub use subnormals::FlushSubnormals;
pub use summation::{sum_f64, sum_squares_f64};
pub use tape::Tape;
pub use var::Var;
pub use widest::widest;
