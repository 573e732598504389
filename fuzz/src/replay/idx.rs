//! MNIST's IDX files, plain or gzipped: `mnist_with_val` on four files.
//!
//! Input: a leading byte (the validation size), then the sections `train-images-idx3-ubyte`,
//! `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`
//! ([`crate::framing`]), written under those names, or with `.gz` appended for [`run_gz`]
//! (whose sections are then gzip streams).

use tapegrad_net::data::{mnist_with_val, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, MNIST_FILES};

use crate::contract::{bounded, file_budget, idx_announced};
use crate::framing;
use crate::scratch::Scratch;

/// Replays one input; returns whether the reader accepted it as plain IDX files (they are still gunzipped if they start with the
/// gzip magic number, as the reader does).
pub fn run_plain(data: &[u8]) -> bool {
    run(data, false)
}

/// Replays one input; returns whether the reader accepted it as `.gz` IDX files.
pub fn run_gz(data: &[u8]) -> bool {
    run(data, true)
}

fn run(data: &[u8], gz: bool) -> bool {
    let (val, files) = framing::split(data, 4);
    let scratch = Scratch::new(if gz { "idx_gz" } else { "idx_plain" });
    let magics = [
        IDX_IMAGES_MAGIC,
        IDX_LABELS_MAGIC,
        IDX_IMAGES_MAGIC,
        IDX_LABELS_MAGIC,
    ];
    let mut budget = 0usize;
    for ((name, bytes), magic) in MNIST_FILES.iter().zip(&files).zip(magics) {
        let name = if gz {
            format!("{name}.gz")
        } else {
            name.to_string()
        };
        scratch.write(&name, bytes);
        budget += file_budget(bytes, gz, |head| idx_announced(magic, head));
    }
    let reader = if gz { "mnist (gz)" } else { "mnist" };
    let result = bounded(reader, budget, || {
        mnist_with_val(scratch.path(), usize::from(val))
    });
    if !crate::contract::checking_results() {
        return result.is_ok();
    }
    let Ok(splits) = result else {
        return false;
    };
    super::datasets::check(reader, &splits);
    true
}
