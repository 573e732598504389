//! The MNIST / Fashion-MNIST reader on small IDX files (plain and gzipped): good ones, then broken ones.

use tapegrad_net::data::{
    self, mnist, mnist_with_val, DataError, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC,
};
use tempfile::TempDir;

use crate::common::*;

#[test]
fn mnist_reads_plain_idx_files_scaled_by_255_with_last_examples_as_val() {
    let tmp = TempDir::new().unwrap();
    write_mnist(tmp.path(), [false; 4]);
    let s = mnist_with_val(tmp.path(), 2).unwrap();
    let test = s.test.as_ref().unwrap();
    assert_eq!((s.train.len(), s.val.len(), test.len()), (4, 2, 2));
    assert_eq!(s.train.image(), Some(data::ImageShape::grey(3, 2)));
    assert_eq!(s.train.labels(), &[5, 0, 4, 1]);
    assert_eq!(s.val.labels(), &[9, 2]);
    assert_eq!(test.labels(), &[7, 2]);
    assert_eq!(s.train.classes(), 10);
    // Image 3, row 2, column 1 = pixel 5: 40 * 3 + 5.
    assert_eq!(s.train.features()[[3, 5]], 125.0 / 255.0);
    // The first val example is training image 4.
    assert_eq!(s.val.features()[[0, 0]], 160.0 / 255.0);
    assert_eq!(test.features()[[1, 1]], 41.0 / 255.0);
}

#[test]
fn mnist_reads_gz_and_plain_idx_files_alike() {
    let plain = TempDir::new().unwrap();
    write_mnist(plain.path(), [false; 4]);
    let gz = TempDir::new().unwrap();
    write_mnist(gz.path(), [true; 4]);
    let mixed = TempDir::new().unwrap();
    write_mnist(mixed.path(), [true, false, false, true]);
    let want = mnist_with_val(plain.path(), 1).unwrap();
    assert_eq!(mnist_with_val(gz.path(), 1).unwrap(), want);
    assert_eq!(mnist_with_val(mixed.path(), 1).unwrap(), want);
}

#[test]
fn mnist_bad_magic_names_file_found_and_expected_numbers() {
    let tmp = TempDir::new().unwrap();
    write_mnist(tmp.path(), [false; 4]);
    write(
        tmp.path(),
        "train-images-idx3-ubyte",
        &idx_images(0x0804, 6, 3, 2, &mnist_pixels(6)),
    );
    let err = mnist(tmp.path()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::BadMagic {
                found: 0x0804,
                expected: 0x0803,
                ..
            }
        ),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "mnist file",
            "train-images-idx3-ubyte",
            "bad IDX magic number 0x00000804 at byte offset 0 (expected 0x00000803 for images)",
        ],
    );
}

#[test]
fn mnist_label_of_10_names_file_and_byte_offset() {
    let tmp = TempDir::new().unwrap();
    write_mnist(tmp.path(), [false; 4]);
    write(
        tmp.path(),
        "t10k-labels-idx1-ubyte",
        &idx_labels(IDX_LABELS_MAGIC, &[7, 10]),
    );
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::LabelOutOfRange {
                label: 10,
                offset: 9,
                ..
            }
        ),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "t10k-labels-idx1-ubyte",
            "label 10 at byte offset 9 is >= the number of classes 10",
        ],
    );
}

#[test]
fn mnist_images_and_labels_count_mismatch_names_both_files() {
    let tmp = TempDir::new().unwrap();
    write_mnist(tmp.path(), [false; 4]);
    write(
        tmp.path(),
        "train-labels-idx1-ubyte",
        &idx_labels(IDX_LABELS_MAGIC, &[1, 2, 3, 4, 5]),
    );
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::CountMismatch {
                images: 6,
                labels: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "images and labels differ in count: 6 images in",
            "train-images-idx3-ubyte, 5 labels in",
            "train-labels-idx1-ubyte",
        ],
    );
}

#[test]
fn mnist_truncated_image_data_names_file_and_offset() {
    let tmp = TempDir::new().unwrap();
    write_mnist(tmp.path(), [false; 4]);
    let short = idx_images(IDX_IMAGES_MAGIC, 2, 3, 2, &mnist_pixels(2)[..10]);
    write(tmp.path(), "t10k-images-idx3-ubyte.gz", &gzip(&short));
    std::fs::remove_file(tmp.path().join("t10k-images-idx3-ubyte")).unwrap();
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                offset: 16,
                remaining: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "t10k-images-idx3-ubyte.gz",
            "truncated data at byte offset 16",
            "2x3x2 = 12 bytes",
            "only 10 bytes remain",
        ],
    );
}

#[test]
fn mnist_truncated_header_and_trailing_bytes_are_errors() {
    let tmp = TempDir::new().unwrap();
    write_mnist(tmp.path(), [false; 4]);
    write(tmp.path(), "train-labels-idx1-ubyte", &[0, 0, 8]);
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                offset: 0,
                remaining: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "train-labels-idx1-ubyte",
            "truncated IDX header at byte offset 0",
        ],
    );

    let mut long = idx_labels(IDX_LABELS_MAGIC, &[5, 0, 4, 1, 9, 2]);
    long.extend([0, 0]);
    write(tmp.path(), "train-labels-idx1-ubyte", &long);
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert_mentions(
        &err,
        &[
            "train-labels-idx1-ubyte",
            "2 unexpected bytes",
            "byte offset 14",
        ],
    );
}

#[test]
fn mnist_missing_file_and_missing_directory_are_named() {
    let tmp = TempDir::new().unwrap();
    write_mnist(tmp.path(), [false; 4]);
    std::fs::remove_file(tmp.path().join("t10k-labels-idx1-ubyte")).unwrap();
    let err = mnist(tmp.path()).unwrap_err();
    assert!(
        matches!(&err, DataError::MissingFile { name, .. } if name == "t10k-labels-idx1-ubyte"),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "missing file t10k-labels-idx1-ubyte",
            &tmp.path().display().to_string(),
            "train-images-idx3-ubyte",
            ".gz",
        ],
    );

    let gone = tmp.path().join("nowhere");
    let err = mnist(&gone).unwrap_err();
    assert!(matches!(err, DataError::MissingDir { .. }), "{err:?}");
    assert_mentions(&err, &["nowhere", "does not exist"]);
}

#[test]
fn mnist_corrupt_gzip_names_the_file() {
    let tmp = TempDir::new().unwrap();
    write_mnist(tmp.path(), [true; 4]);
    let mut bad = gzip(&idx_labels(IDX_LABELS_MAGIC, &[7, 2]));
    let n = bad.len();
    bad[n - 8] ^= 0xff; // break the CRC
    write(tmp.path(), "t10k-labels-idx1-ubyte.gz", &bad);
    let err = mnist_with_val(tmp.path(), 1).unwrap_err();
    assert!(matches!(err, DataError::Gzip { .. }), "{err:?}");
    assert_mentions(&err, &["t10k-labels-idx1-ubyte.gz", "gzip"]);
}

/// A manual check on the real Fashion-MNIST (Debian's `dataset-fashion-mnist`, or the
/// directory in `TAPEGRAD_MNIST_DIR`); ignored because the tests must not depend on it:
/// `cargo test --release -p tapegrad-net --test reader_mnist -- --ignored --nocapture`.
#[test]
#[ignore = "reads the real Fashion-MNIST from Debian's dataset-fashion-mnist package, which CI does not install; run with --ignored"]
fn fashion_mnist_from_the_debian_package_loads() {
    let dir = std::env::var("TAPEGRAD_MNIST_DIR")
        .unwrap_or_else(|_| "/usr/share/datasets/fashion-mnist".to_owned());
    let start = std::time::Instant::now();
    let s = mnist(&dir).unwrap();
    eprintln!("read {dir} in {:?}", start.elapsed());
    assert_eq!(
        (s.train.len(), s.val.len(), s.test.as_ref().unwrap().len()),
        (55_000, 5_000, 10_000)
    );
    assert_eq!(s.train.dim(), 784);
}
