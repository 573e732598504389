//! Helpers shared by the data reader tests: writing test files, gzipping them, and checking
//! that an error message names what was wrong.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use tapegrad_net::data::{DataError, Dataset, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, MNIST_FILES};

/// A gzip stream of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).expect("create test file");
    f.write_all(bytes).expect("write test file");
    path
}

/// Asserts that `message` contains every one of `parts`.
pub fn assert_mentions(err: &DataError, parts: &[&str]) {
    let message = err.to_string();
    for part in parts {
        assert!(
            message.contains(part),
            "message {message:?} should mention {part:?}"
        );
    }
}

/// Rows of a data set as sortable keys (feature bits, then the label).
pub fn row_keys(d: &Dataset) -> Vec<(Vec<u32>, usize)> {
    let mut keys: Vec<_> = d
        .features()
        .rows()
        .into_iter()
        .zip(d.labels())
        .map(|(row, &label)| (row.iter().map(|x| x.to_bits()).collect(), label))
        .collect();
    keys.sort();
    keys
}

/// A small, valid CSV file: a header, a blank line, a CRLF line end, a label written `1.0`.
pub const GOOD_CSV: &str = "x1, x2, x3, label\n1.5,2,-3,0\n4,5,6,2\n\n7,8e-1,9,1.0\r\n10,11,12,2\n";

/// An IDX image file: magic, count, rows, columns (big-endian), then the pixels.
pub fn idx_images(magic: u32, count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [magic, count, rows, cols] {
        b.extend(v.to_be_bytes());
    }
    b.extend(pixels);
    b
}

/// An IDX label file: magic, count (big-endian), then the labels.
pub fn idx_labels(magic: u32, labels: &[u8]) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    b.extend((labels.len() as u32).to_be_bytes());
    b.extend(labels);
    b
}

/// Pixel `j` of image `i` (3x2 images): `40 * i + j`.
pub fn mnist_pixels(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (0..6).map(move |j| (40 * i + j) as u8))
        .collect()
}

/// Writes 6 training and 2 test images of 3x2 pixels; `gz` picks which files to gzip.
pub fn write_mnist(dir: &Path, gz: [bool; 4]) {
    let contents = [
        idx_images(IDX_IMAGES_MAGIC, 6, 3, 2, &mnist_pixels(6)),
        idx_labels(IDX_LABELS_MAGIC, &[5, 0, 4, 1, 9, 2]),
        idx_images(IDX_IMAGES_MAGIC, 2, 3, 2, &mnist_pixels(2)),
        idx_labels(IDX_LABELS_MAGIC, &[7, 2]),
    ];
    for ((name, bytes), gz) in MNIST_FILES.iter().zip(contents).zip(gz) {
        if gz {
            write(dir, &format!("{name}.gz"), &gzip(&bytes));
        } else {
            write(dir, name, &bytes);
        }
    }
}
