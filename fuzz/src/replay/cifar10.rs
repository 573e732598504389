//! CIFAR-10 binary batches: `cifar10_with_val` on six files.
//!
//! Input: a leading byte (bits 0..6: the validation size; bit 7: name the files `*.bin.gz`),
//! then the sections `data_batch_1.bin` .. `data_batch_5.bin`, `test_batch.bin`
//! ([`crate::framing`]).

use tapegrad_net::data::{cifar10_with_val, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES};

use crate::contract::{bounded, file_budget, no_header};
use crate::framing;
use crate::scratch::Scratch;

/// Replays one input; returns whether the reader accepted it (see the module docs).
pub fn run(data: &[u8]) -> bool {
    let (first, files) = framing::split(data, 6);
    let (val, gz) = (usize::from(first & 0x7f), first & 0x80 != 0);
    let scratch = Scratch::new("cifar10");
    let names = CIFAR10_TRAIN_FILES.iter().chain([&CIFAR10_TEST_FILE]);
    let mut budget = 0usize;
    for (name, bytes) in names.zip(&files) {
        let name = if gz {
            format!("{name}.gz")
        } else {
            name.to_string()
        };
        scratch.write(&name, bytes);
        budget += file_budget(bytes, gz, no_header);
    }
    let result = bounded("cifar10", budget, || cifar10_with_val(scratch.path(), val));
    if !crate::contract::checking_results() {
        return result.is_ok();
    }
    let Ok(splits) = result else {
        return false;
    };
    super::datasets::check("cifar10", &splits);
    true
}
