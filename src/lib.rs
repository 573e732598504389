//! tapegrad: a tiny, fast, tape-based reverse-mode autodiff engine, with a two-layer net as its
//! first client. This facade re-exports the workspace's libraries.

pub use tapegrad_autograd as autograd;
pub use tapegrad_net as net;
