//! The ops, one file per family, each recording its ops as methods of [`Var`](crate::Var)
//! through the tape's one recording path. The derivative rules are all in
//! [`derivatives`](crate::derivatives), except the unary ones, which sit beside their `f` in
//! `unary.rs`.

pub(crate) mod binary;
pub(crate) mod broadcast;
pub(crate) mod custom;
pub(crate) mod dropout;
pub(crate) mod linear;
pub(crate) mod losses;
pub(crate) mod matmul;
pub(crate) mod pick;
pub(crate) mod reduce;
pub(crate) mod shape;
pub(crate) mod softmax;
pub(crate) mod unary;
