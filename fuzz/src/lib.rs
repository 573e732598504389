//! Fuzz targets for tapegrad's readers (run with `fuzz/run.sh`, see the README's
//! "Fuzzing" section). Each target in `fuzz_targets/` hands its input to one function of
//! [`replay`], which writes the reader's files, reads them within the memory bound of
//! [`contract`] and checks what an `Ok` promises.

pub mod alloc_meter;
pub mod contract;
pub mod framing;
pub mod replay;
pub mod scratch;

/// Every target counts heap bytes (see [`contract::bounded`]).
#[global_allocator]
static METER: alloc_meter::Meter = alloc_meter::Meter;
