//! One function per reader that replays a fuzz input against it: turns the bytes into the
//! reader's files, calls the public path-based API within the memory bound
//! ([`crate::contract::bounded`]) and checks what an `Ok` result promises. A panic anywhere,
//! the reader's or a failed check's, is a crash.
//!
//! Shared by the fuzz targets and by `net/tests/fuzz_regressions.rs` (which includes these
//! files by path), so a saved crash replays exactly as the fuzzer ran it.

pub mod cifar10;
pub mod csv;
pub mod data_spec;
mod datasets;
pub mod idx;
pub mod model_file;
mod nets;
pub mod run_state;
