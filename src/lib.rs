#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

/// The tape: reverse-mode autodiff on ndarray tensors (the `tapegrad-autograd` crate).
pub use tapegrad_autograd as autograd;
/// The two-layer net, its closed-form gradients, data, model files and training (the
/// `tapegrad-net` crate).
pub use tapegrad_net as net;
