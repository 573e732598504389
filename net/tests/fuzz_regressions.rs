//! Inputs the fuzzers (`fuzz/`, see the README's "Fuzzing" section) found to break a reader's
//! contract, replayed exactly as the fuzz target ran them: the target's own replay code is
//! included from `fuzz/src/` by path, with its counting allocator, so each test checks the same
//! things (no panic, usable `Ok` results, the memory bound) and fails for the same reason.
//!
//! Inputs live in `net/tests/fuzz_regressions/`, named `TARGET-what-it-does`.

#[allow(dead_code)]
#[path = "../../fuzz/src/alloc_meter.rs"]
mod alloc_meter;
#[allow(dead_code)]
#[path = "../../fuzz/src/contract.rs"]
mod contract;
#[allow(dead_code)]
#[path = "../../fuzz/src/framing.rs"]
mod framing;
#[allow(dead_code)]
#[path = "../../fuzz/src/replay/mod.rs"]
mod replay;
#[allow(dead_code)]
#[path = "../../fuzz/src/scratch.rs"]
mod scratch;

#[global_allocator]
static METER: alloc_meter::Meter = alloc_meter::Meter;

/// The saved input `name`.
fn input(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `0,0`: one row, one class; read as a data set of 1 class instead of a clear error.
#[test]
#[ignore = "fixed by hostile-net branch: one class is a clear error"]
fn csv_of_a_single_class_is_refused() {
    replay::csv::run(&input("csv-one-class"));
}
