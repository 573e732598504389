//! Model files: safetensors round trips, error messages, atomic saves; one test binary,
//! one module per concern, the helpers they share here.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use ndarray::{array, Array2};
use tapegrad_net::tensor_file::TensorFile;

mod errors;
mod round_trips;
mod saves;

/// The entries of a directory, by name.
pub fn entries(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

pub fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A net-shaped checkpoint: W1 3x4, b1 4, W2 4x2, b2 2, mean 3, plus metadata.
pub fn net_checkpoint() -> TensorFile {
    let mut ck = TensorFile::new();
    let w1 = Array2::from_shape_fn((3, 4), |(i, j)| (i as f32 - 1.5) * 0.25 + j as f32 * 1e-3);
    ck.insert("W1", &w1);
    ck.insert("b1", &array![0.1f32, -0.2, 0.3, f32::MIN_POSITIVE]);
    ck.insert("W2", &Array2::<f32>::from_elem((4, 2), -0.75));
    ck.insert("b2", &array![1e-30f32, -0.0]);
    ck.insert("mean", &array![0.5f32, 0.25, 0.125]);
    ck.set_metadata("classes", "2");
    ck.set_metadata("hidden", "4");
    ck
}

pub fn bits32(a: &[f32]) -> Vec<u32> {
    a.iter().map(|x| x.to_bits()).collect()
}

pub fn bits64(a: &[f64]) -> Vec<u64> {
    a.iter().map(|x| x.to_bits()).collect()
}
