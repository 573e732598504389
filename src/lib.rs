#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

/// The `ndarray` version tapegrad's tensors are made of (0.17): use this re-export, or depend on
/// the same version, so that your arrays are the ones the tape takes.
pub use ndarray;
/// The tape: reverse-mode autodiff on ndarray tensors (the `tapegrad-autograd` crate).
pub use tapegrad_autograd as autograd;
/// The two-layer net, its closed-form gradients, data, model files and training (the
/// `tapegrad-net` crate).
pub use tapegrad_net as net;
