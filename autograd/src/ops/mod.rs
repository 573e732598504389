//! The ops, one file per family. Each file holds the forward computation of its ops as methods
//! of [`Var`](crate::Var), each documenting its derivative; the derivative rules themselves are
//! all in [`derivatives`](crate::derivatives), so they can be reviewed side by side.

pub(crate) mod broadcast;
pub(crate) mod elementwise;
pub(crate) mod gemm;
pub(crate) mod log_softmax;
pub(crate) mod matmul;
pub(crate) mod pick;
pub(crate) mod reduce;
pub(crate) mod shape;
