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

/// `0,0`: one row, one class; was read and trained on as a data set of 1 class. Reading it
/// is fine (a test file may hold one class); training on it must be refused.
#[test]
fn csv_of_a_single_class_is_refused_for_training() {
    replay::csv::run(&input("csv-one-class"));
}

/// A saved model whose `classes` metadata was mutated to 3 while W2 has 2 columns: loads.
#[test]
fn model_file_whose_classes_disagree_with_w2_is_refused() {
    replay::model_file::run(&input("model_file-classes-disagree-with-w2"));
}

/// Made by hand (the fuzzer's inputs rarely compress 1000:1): a gzipped train-images file
/// whose header announces 3 images of 2x2 but which inflates to 4 MiB more.
#[test]
fn idx_gz_inflating_past_its_header_stays_within_the_memory_bound() {
    replay::idx::run_gz(&input("handmade-idx_gz-inflates-past-header"));
}

/// Made by hand (needs four consistent files): IDX images of 0x0 pixels, read as a data set
/// of zero features.
#[test]
fn idx_plain_images_of_zero_by_zero_pixels_are_refused() {
    replay::idx::run_plain(&input("handmade-idx_plain-zero-by-zero-images"));
}

/// A fuzz target's replay function: whether the reader accepted the input.
type Replay = fn(&[u8]) -> bool;

/// The replay functions, by fuzz target name.
const TARGETS: [(&str, Replay); 7] = [
    ("cifar10", replay::cifar10::run),
    ("idx_plain", replay::idx::run_plain),
    ("idx_gz", replay::idx::run_gz),
    ("csv", replay::csv::run),
    ("data_spec", replay::data_spec::run),
    ("model_file", replay::model_file::run),
    ("run_state", replay::run_state::run),
];

/// The harness itself does not cry wolf: the valid seed files (`fuzz/seeds/TARGET/`, written
/// by `fuzz/src/bin/gen_seeds.rs`) are accepted and keep the contract, memory bound included.
#[test]
fn valid_seed_files_keep_the_contract() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for (target, replay) in TARGETS {
        let dir = seeds.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .collect();
        files.sort();
        assert!(files.len() >= 2, "{}: fewer than two seeds", dir.display());
        for file in files {
            let bytes = std::fs::read(&file).expect("a seed file");
            assert!(replay(&bytes), "{} was refused", file.display());
        }
    }
}

/// Made by hand (mutations seldom make a float NaN): a saved model with NaN in b2.
#[test]
fn model_file_with_nan_in_a_tensor_is_refused() {
    replay::model_file::run(&input("handmade-model_file-nan-in-b2"));
}

/// `data_batch_1.bin.gz` of bytes that are not gzip at all, whose last four bytes (the gzip
/// trailer's "inflated size") say 2 GB: the reader reserves 64 times the file's size from that
/// number before reading a byte of the stream (`gunzip`'s capacity hint). The fuzzer's file
/// was 5,485 bytes, just over the bound; padded by hand to 30,000 so the excess is decisive.
#[test]
fn cifar10_gz_whose_trailer_lies_stays_within_the_memory_bound() {
    replay::cifar10::run(&input("cifar10-gz-trailer-size-reserved"));
}
