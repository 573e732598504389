//! Hostile and degenerate input to the readers: every size a file gives is checked before it
//! is allocated, degenerate data that parses is refused with a message naming the file, and
//! text quoted from a file has its control characters escaped.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use ndarray::{array, Array2};
use tapegrad_net::data::{mnist_with_val, read_csv, spiral, DataError, DataSpec, Dataset};
use tapegrad_net::limits::{quote, MAX_CLASSES};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[track_caller]
fn assert_mentions(err: &impl std::fmt::Display, parts: &[&str]) {
    let text = err.to_string();
    for part in parts {
        assert!(text.contains(part), "'{text}' does not mention '{part}'");
    }
}

fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    bytes
}

/// Train images and labels in `dir`, the test files the same (4 valid 2x2 images).
fn write_mnist(dir: &Path) {
    let images = idx(0x803, &[4, 2, 2], &[7; 16]);
    let labels = idx(0x801, &[4], &[0, 1, 2, 3]);
    for (name, bytes) in [
        ("train-images-idx3-ubyte", &images),
        ("train-labels-idx1-ubyte", &labels),
        ("t10k-images-idx3-ubyte", &images),
        ("t10k-labels-idx1-ubyte", &labels),
    ] {
        write(dir, name, bytes);
    }
}

fn gzip(bytes: &[u8], zeros_after: usize) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..zeros_after / block.len() {
        gz.write_all(&block).unwrap();
    }
    gz.finish().unwrap()
}

#[test]
fn idx_images_of_zero_by_zero_pixels_are_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    write_mnist(tmp.path());
    let path = write(
        tmp.path(),
        "train-images-idx3-ubyte",
        &idx(0x803, &[5100, 0, 0], &[]),
    );
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert_mentions(&err, &[&path.display().to_string(), "5100x0x0", "is 0"]);
}

#[test]
fn idx_with_zero_labels_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    write_mnist(tmp.path());
    write(tmp.path(), "t10k-labels-idx1-ubyte", &idx(0x801, &[0], &[]));
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert_mentions(&err, &["t10k-labels-idx1-ubyte", "holds no labels"]);
}

#[test]
fn idx_gz_that_inflates_beyond_its_header_is_refused_after_the_announced_size() {
    let tmp = tempfile::tempdir().unwrap();
    write_mnist(tmp.path());
    std::fs::remove_file(tmp.path().join("train-images-idx3-ubyte")).unwrap();
    // 4 images of 2x2 announced, then 64 MiB of zeros: a bomb a few dozen KB small.
    let bomb = gzip(&idx(0x803, &[4, 2, 2], &[7; 16]), 64 << 20);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    write(tmp.path(), "train-images-idx3-ubyte.gz", &bomb);
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert_mentions(
        &err,
        &[
            "train-images-idx3-ubyte.gz",
            "more than 1048576 unexpected bytes",
            "byte offset 32",
        ],
    );
}

#[test]
fn idx_header_announcing_more_than_the_data_file_limit_is_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    write_mnist(tmp.path());
    write(
        tmp.path(),
        "train-images-idx3-ubyte",
        &idx(0x803, &[u32::MAX, u32::MAX, 2], &[]),
    );
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert_mentions(&err, &["train-images-idx3-ubyte", "more than the limit"]);
}

#[test]
fn csv_starting_with_a_byte_order_mark_keeps_its_first_row() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(
        tmp.path(),
        "bom.csv",
        b"\xEF\xBB\xBF1.5,2,0\n3,4,1\n5,6,1\n",
    );
    let data = read_csv(&path).unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data.features().row(0).to_vec(), vec![1.5, 2.0]);
}

#[test]
fn csv_endless_line_from_dev_zero_is_refused_at_the_line_limit() {
    let err = read_csv("/dev/zero").unwrap_err();
    assert_mentions(&err, &["/dev/zero", "line 1 is longer than"]);
}

#[test]
fn csv_field_with_control_characters_is_quoted_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "esc.csv", b"1,2,0\n1,\x1b[31mred\x07,1\n");
    let err = read_csv(&path).unwrap_err();
    let text = err.to_string();
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert_mentions(&err, &["line 2 field 2", "\\u{1b}[31mred\\u{7}"]);
}

#[test]
fn csv_label_beyond_the_class_limit_is_refused_naming_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "big.csv", b"1,2,0\n1,2,65536\n");
    let err = read_csv(&path).unwrap_err();
    assert_mentions(&err, &["big.csv", "line 2 field 3", "65536"]);
}

#[test]
fn spiral_beyond_its_bounds_is_a_spec_error_not_an_allocation() {
    for spec in [
        "spiral:10,1000000",
        "spiral:18446744073709551615,2",
        "spiral:5,0",
    ] {
        let err = spec.parse::<DataSpec>().unwrap_err();
        assert!(matches!(err, DataError::Spec { .. }), "{spec}: {err}");
    }
    assert!(spiral(1_000_001, 1, 0).is_err());
    assert_mentions(
        &"spiral:10,1000000".parse::<DataSpec>().unwrap_err(),
        &["1000000 classes", &MAX_CLASSES.to_string()],
    );
}

#[test]
fn data_sets_without_features_or_with_absurd_class_counts_are_refused() {
    let none = Dataset::new("empty", Array2::zeros((3, 0)), vec![0, 0, 0], 1, None);
    assert_mentions(&none.unwrap_err(), &["empty", "no features"]);
    let x = array![[1.0f32], [2.0]];
    let zero = Dataset::new("zero", x.clone(), vec![0, 0], 0, None).unwrap_err();
    assert_mentions(&zero, &["zero classes"]);
    let huge = Dataset::new("huge", x.clone(), vec![0, 0], MAX_CLASSES + 1, None).unwrap_err();
    assert_mentions(&huge, &["more than the limit of 65536"]);
    let one = Dataset::new("one", x, vec![0, 0], 1, None).unwrap();
    assert_mentions(
        &one.check_trainable().unwrap_err(),
        &["one", "only one class"],
    );
}

#[test]
fn quote_escapes_control_characters_and_cuts_long_text() {
    assert_eq!(quote("a\nb\u{1b}"), "a\\nb\\u{1b}");
    assert_eq!(quote("plain text"), "plain text");
    let long = quote(&"é".repeat(1000));
    assert_eq!(long.chars().count(), 81);
    assert!(long.ends_with('…'));
}
