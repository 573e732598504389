//! The autograd crate's integration tests, one binary (each test binary costs CI a release
//! link): every op's gradients, errors, custom ops, the packed kernel, numerics. Tests that
//! read process-wide state (allocation counters, the threads' subnormal mode) keep their
//! own binaries.

#[path = "../common/mod.rs"]
mod common;

mod custom_op;
mod custom_op_contract;
mod deferred_share;
mod dropout;
mod errors;
mod gradients;
mod label_smoothing;
mod linear;
mod matmul_on_the_tape;
mod numerics;
mod ops_gradcheck;
mod ops_piecewise;
mod ops_properties;
mod packed_kernel;
mod tape_behaviour;
