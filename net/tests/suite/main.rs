//! The net crate's integration tests, one binary (each test binary costs CI a release link):
//! data readers, hostile files, model inputs, regularisers, weight averaging, run states.
//! Tests that read process-wide state (the subnormal mode of the rayon pool, allocation
//! counters) keep their own binaries.

#[path = "../common/mod.rs"]
mod common;

mod activation;
mod data_spec;
mod dropout;
mod fused_update;
mod gradient_inputs;
mod hostile_models;
mod hostile_readers;
mod label_smoothing;
mod mean_image;
mod model_inputs;
mod reader_cifar10;
mod reader_csv;
mod reader_digits;
mod reader_mnist;
mod run_state;
mod small_nets;
mod standardized_models;
mod weight_averaging;
