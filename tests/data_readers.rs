//! Integration tests of `tapegrad::net::data`: the embedded digits set, each file reader on
//! small files written in the real formats (good ones, then broken ones), mean-image
//! subtraction, and data spec parsing.

use std::io::Write;
use std::path::{Path, PathBuf};

use stored_gzip::gzip;
use tapegrad::net::data::{
    self, cifar10_with_val, csv, digits, digits_splits, load, mnist, mnist_with_val, read_csv,
    spiral, DataError, DataSpec, Dataset, MeanImage, SplitFractions, CIFAR10_RECORD, CIFAR10_SHAPE,
    CIFAR10_TRAIN_FILES, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, MNIST_FILES,
};
use tempfile::TempDir;

/// A gzip writer for the tests, so that they need no compression crate of their own: the
/// library embeds a gzipped file, and gzip's "stored" (uncompressed) blocks are easy to write.
mod stored_gzip {
    /// CRC-32 (IEEE), bit by bit: slow but tiny, and the test files are small.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A valid gzip stream of `bytes` using stored deflate blocks.
    pub fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        let mut chunks = bytes.chunks(65_535).peekable();
        if chunks.peek().is_none() {
            out.extend([1, 0, 0, 0xff, 0xff]);
        }
        while let Some(chunk) = chunks.next() {
            let last = u8::from(chunks.peek().is_none());
            let len = chunk.len() as u16;
            out.push(last);
            out.extend(len.to_le_bytes());
            out.extend((!len).to_le_bytes());
            out.extend(chunk);
        }
        out.extend(crc32(bytes).to_le_bytes());
        out.extend((bytes.len() as u32).to_le_bytes());
        out
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).expect("create test file");
    f.write_all(bytes).expect("write test file");
    path
}

/// Asserts that `message` contains every one of `parts`.
fn assert_mentions(err: &DataError, parts: &[&str]) {
    let message = err.to_string();
    for part in parts {
        assert!(
            message.contains(part),
            "message {message:?} should mention {part:?}"
        );
    }
}

/// Rows of a data set as sortable keys (feature bits, then the label).
fn row_keys(d: &Dataset) -> Vec<(Vec<u32>, usize)> {
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

// ---------------------------------------------------------------------------------------
// digits

#[test]
fn digits_has_1797_rows_of_64_features_scaled_into_unit_interval() {
    let d = digits().unwrap();
    assert_eq!(d.len(), 1797);
    assert_eq!(d.dim(), 64);
    assert_eq!(d.classes(), 10);
    assert_eq!(d.image(), Some(data::ImageShape::grey(8, 8)));
    assert!(d.features().iter().all(|&x| (0.0..=1.0).contains(&x)));
    // Block counts 0..16 divided by 16: both ends are reached.
    assert_eq!(d.features().iter().cloned().fold(f32::MAX, f32::min), 0.0);
    assert_eq!(d.features().iter().cloned().fold(f32::MIN, f32::max), 1.0);
    // First row of the file: 0,0,5,13,9,1,0,0,... label 0.
    assert_eq!(d.features()[[0, 2]], 5.0 / 16.0);
    assert_eq!(d.features()[[0, 3]], 13.0 / 16.0);
    assert_eq!(d.labels()[0], 0);
}

#[test]
fn digits_class_counts_match_the_uci_test_partition() {
    let counts = digits().unwrap().class_counts();
    assert_eq!(
        counts,
        vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    );
}

#[test]
fn digits_splits_are_1258_270_269_and_partition_the_rows() {
    let all = digits().unwrap();
    let s = digits_splits(7).unwrap();
    let test = s.test.as_ref().unwrap();
    assert_eq!((s.train.len(), s.val.len(), test.len()), (1258, 270, 269));
    assert_eq!(
        (s.train.name(), s.val.name(), test.name()),
        ("digits/train", "digits/val", "digits/test")
    );
    // Train + val + test hold exactly the rows of the whole set, each once.
    let mut union = row_keys(&s.train);
    union.extend(row_keys(&s.val));
    union.extend(row_keys(test));
    union.sort();
    assert_eq!(union, row_keys(&all));
}

#[test]
fn shuffle_split_uses_each_index_exactly_once() {
    // Feature 0 is the row index, so the splits' indices can be read back.
    let n = 101;
    let features = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| i as f32);
    let d = Dataset::new("ids", features, vec![0; n], 1, None).unwrap();
    let s = d.shuffle_split(SplitFractions::default(), 3).unwrap();
    let mut ids: Vec<usize> = s
        .iter()
        .flat_map(|part| part.features().column(0).to_vec())
        .map(|x| x as usize)
        .collect();
    assert_eq!(ids.len(), n);
    ids.sort();
    assert_eq!(ids, (0..n).collect::<Vec<_>>());
}

#[test]
fn digits_split_is_reproducible_for_a_seed_and_differs_for_another() {
    let a = digits_splits(1).unwrap();
    let b = digits_splits(1).unwrap();
    let c = digits_splits(2).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.train.features(), c.train.features());
    assert_ne!(row_keys(&a.val), row_keys(&c.val));
}

// ---------------------------------------------------------------------------------------
// CIFAR-10

/// One CIFAR-10 record: label, then pixel `p` of channel `c` = `(7 * p + 31 * c + seed) % 256`.
fn cifar_record(label: u8, seed: usize) -> Vec<u8> {
    let mut r = vec![label];
    r.extend((0..3 * 1024).map(|i| ((7 * (i % 1024) + 31 * (i / 1024) + seed) % 256) as u8));
    r
}

/// Writes five training files of two records and a test file of three; labels count up.
fn write_cifar(dir: &Path) {
    assert_eq!(cifar_record(0, 0).len(), CIFAR10_RECORD);
    for (f, name) in CIFAR10_TRAIN_FILES.iter().enumerate() {
        let bytes: Vec<u8> = (0..2)
            .flat_map(|r| cifar_record((2 * f + r) as u8 % 10, 2 * f + r))
            .collect();
        write(dir, name, &bytes);
    }
    let test: Vec<u8> = (0..3)
        .flat_map(|r| cifar_record(9 - r as u8, 100 + r))
        .collect();
    write(dir, "test_batch.bin", &test);
}

#[test]
fn cifar10_reads_records_channel_major_scaled_by_255_with_last_examples_as_val() {
    let tmp = TempDir::new().unwrap();
    write_cifar(tmp.path());
    let s = cifar10_with_val(tmp.path(), 3).unwrap();
    let test = s.test.as_ref().unwrap();
    assert_eq!((s.train.len(), s.val.len(), test.len()), (7, 3, 3));
    assert_eq!(s.train.dim(), 3072);
    assert_eq!(s.train.image(), Some(CIFAR10_SHAPE));
    assert_eq!(s.train.labels(), &[0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(s.val.labels(), &[7, 8, 9]);
    assert_eq!(test.labels(), &[9, 8, 7]);
    // Record 4 (seed 4): green (c = 1) pixel at y = 2, x = 5 is p = 69: (7*69 + 31 + 4) % 256.
    let want = ((7 * 69 + 31 + 4) % 256) as f32 / 255.0;
    assert_eq!(s.train.features()[[4, CIFAR10_SHAPE.index(2, 5, 1)]], want);
    assert_eq!(CIFAR10_SHAPE.index(2, 5, 1), 1024 + 69);
    // The first val example is training record 7 (seed 7), blue pixel 0.
    assert_eq!(s.val.features()[[0, 2048]], 69.0 / 255.0);
    assert!(s.train.features().iter().all(|&x| (0.0..=1.0).contains(&x)));
}

#[test]
fn cifar10_finds_the_files_in_the_tarballs_subdirectory() {
    let tmp = TempDir::new().unwrap();
    let nested = tmp.path().join("cifar-10-batches-bin");
    std::fs::create_dir(&nested).unwrap();
    write_cifar(&nested);
    assert_eq!(cifar10_with_val(tmp.path(), 1).unwrap().train.len(), 9);
}

#[test]
fn cifar10_truncated_record_names_file_offset_and_bytes_left() {
    let tmp = TempDir::new().unwrap();
    write_cifar(tmp.path());
    let mut bytes = [cifar_record(1, 0), cifar_record(2, 1)].concat();
    bytes.extend([5u8; 20]);
    write(tmp.path(), "data_batch_3.bin", &bytes);
    let err = cifar10_with_val(tmp.path(), 1).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                offset: 6146,
                remaining: 20,
                ..
            }
        ),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "cifar10 file",
            "data_batch_3.bin",
            "truncated record at byte offset 6146",
            "3073 bytes",
            "only 20 bytes remain",
        ],
    );
}

#[test]
fn cifar10_label_of_10_or_more_names_file_and_offset() {
    let tmp = TempDir::new().unwrap();
    write_cifar(tmp.path());
    write(
        tmp.path(),
        "test_batch.bin",
        &[cifar_record(3, 0), cifar_record(12, 1)].concat(),
    );
    let err = cifar10_with_val(tmp.path(), 1).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::LabelOutOfRange {
                label: 12,
                offset: 3073,
                classes: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "test_batch.bin",
            "label 12 at byte offset 3073 is >= the number of classes 10",
        ],
    );
}

#[test]
fn cifar10_missing_file_names_it_the_directory_and_the_expected_files() {
    let tmp = TempDir::new().unwrap();
    write_cifar(tmp.path());
    std::fs::remove_file(tmp.path().join("test_batch.bin")).unwrap();
    let err = cifar10_with_val(tmp.path(), 1).unwrap_err();
    assert!(
        matches!(&err, DataError::MissingFile { name, .. } if name == "test_batch.bin"),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "missing file test_batch.bin",
            &tmp.path().display().to_string(),
            "data_batch_1.bin",
        ],
    );
}

#[test]
fn cifar10_rejects_a_validation_set_as_large_as_the_training_set() {
    let tmp = TempDir::new().unwrap();
    write_cifar(tmp.path());
    let err = data::cifar10(tmp.path()).unwrap_err();
    assert!(matches!(err, DataError::Invalid(_)), "{err:?}");
    assert_mentions(&err, &["1000", "10"]);
}

#[test]
fn cifar10_empty_file_is_an_error_naming_it() {
    let tmp = TempDir::new().unwrap();
    write_cifar(tmp.path());
    write(tmp.path(), "data_batch_5.bin", &[]);
    let err = cifar10_with_val(tmp.path(), 1).unwrap_err();
    assert!(matches!(err, DataError::Malformed { .. }), "{err:?}");
    assert_mentions(&err, &["data_batch_5.bin", "no records"]);
}

// ---------------------------------------------------------------------------------------
// MNIST / IDX

fn idx_images(magic: u32, count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [magic, count, rows, cols] {
        b.extend(v.to_be_bytes());
    }
    b.extend(pixels);
    b
}

fn idx_labels(magic: u32, labels: &[u8]) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    b.extend((labels.len() as u32).to_be_bytes());
    b.extend(labels);
    b
}

/// Pixel `j` of image `i` (3x2 images): `40 * i + j`.
fn mnist_pixels(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (0..6).map(move |j| (40 * i + j) as u8))
        .collect()
}

/// Writes 6 training and 2 test images of 3x2 pixels; `gz` picks which files to gzip.
fn write_mnist(dir: &Path, gz: [bool; 4]) {
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
/// `cargo test --release --test data_readers -- --ignored --nocapture`.
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

// ---------------------------------------------------------------------------------------
// CSV

const GOOD_CSV: &str = "x1, x2, x3, label\n1.5,2,-3,0\n4,5,6,2\n\n7,8e-1,9,1.0\r\n10,11,12,2\n";

#[test]
fn csv_reads_rows_skips_header_and_keeps_values_unscaled() {
    let tmp = TempDir::new().unwrap();
    let d = read_csv(write(tmp.path(), "toy.csv", GOOD_CSV.as_bytes())).unwrap();
    assert_eq!((d.len(), d.dim(), d.classes(), d.name()), (4, 3, 3, "toy"));
    assert_eq!(d.labels(), &[0, 2, 1, 2]);
    assert_eq!(d.features()[[0, 0]], 1.5);
    assert_eq!(d.features()[[0, 2]], -3.0);
    assert_eq!(d.features()[[2, 1]], 0.8);
    assert_eq!(d.features()[[3, 2]], 12.0);
    assert_eq!(d.image(), None);
}

#[test]
fn csv_gz_reads_like_plain_and_splits_70_15_15_by_seed() {
    let tmp = TempDir::new().unwrap();
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!("{i},{},{}\n", i * 2, i % 4));
    }
    let plain = write(tmp.path(), "rows.csv", text.as_bytes());
    let gz = write(tmp.path(), "rows.csv.gz", &gzip(text.as_bytes()));
    assert_eq!(read_csv(&gz).unwrap(), read_csv(&plain).unwrap());
    let s = csv(&gz, 5).unwrap();
    assert_eq!(
        (s.train.len(), s.val.len(), s.test.as_ref().unwrap().len()),
        (28, 6, 6)
    );
    assert_eq!(s, csv(&plain, 5).unwrap());
    assert_eq!(s.train.classes(), 4);
}

#[test]
fn csv_ragged_row_names_file_line_and_field_counts() {
    let tmp = TempDir::new().unwrap();
    let path = write(
        tmp.path(),
        "f.csv",
        b"a,b,c,y\n1,2,3,0\n1,2,3,1\n\n4,5,6,1\n4,5,6,0\n1,2,1\n",
    );
    let err = read_csv(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::RaggedRow {
                line: 7,
                fields: 3,
                expected: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &[
            "csv file",
            "f.csv line 7: 3 fields, but earlier rows have 4",
        ],
    );
}

#[test]
fn csv_non_number_field_names_file_line_field_and_text() {
    let tmp = TempDir::new().unwrap();
    let path = write(tmp.path(), "f.csv", b"1,2,0\n3,4,1\n5,abc,0\n");
    let err = read_csv(&path).unwrap_err();
    assert!(
        matches!(&err, DataError::BadField { line: 3, field: 2, text, .. } if text == "abc"),
        "{err:?}"
    );
    assert_mentions(&err, &["f.csv line 3 field 2: 'abc' is not a number"]);
}

#[test]
fn csv_bad_labels_and_non_finite_features_are_errors() {
    let tmp = TempDir::new().unwrap();
    for (text, line, field, what) in [
        ("1,2,0\n3,4,-1\n", 2, 3, "'-1' is not a class label"),
        ("1,2,0\n3,4,2.5\n", 2, 3, "'2.5' is not a class label"),
        ("1,2,0\n3,inf,1\n", 2, 2, "'inf' is not a finite number"),
    ] {
        let err = read_csv(write(tmp.path(), "g.csv", text.as_bytes())).unwrap_err();
        assert!(
            matches!(err, DataError::BadField { line: l, field: f, .. } if (l, f) == (line, field)),
            "{err:?}"
        );
        assert_mentions(
            &err,
            &["g.csv", &format!("line {line} field {field}"), what],
        );
    }
}

#[test]
fn csv_missing_or_empty_file_is_an_error_naming_it() {
    let tmp = TempDir::new().unwrap();
    let err = read_csv(tmp.path().join("absent.csv")).unwrap_err();
    assert!(matches!(err, DataError::MissingFile { .. }), "{err:?}");
    assert_mentions(&err, &["absent.csv", &tmp.path().display().to_string()]);
    let err = read_csv(write(tmp.path(), "header_only.csv", b"a,b,label\n")).unwrap_err();
    assert_mentions(&err, &["header_only.csv", "no data rows"]);
}

// ---------------------------------------------------------------------------------------
// Preprocessing

#[test]
fn mean_image_subtraction_zeroes_train_column_means_and_shifts_val_and_test_alike() {
    let original = digits_splits(3).unwrap();
    let mut s = original.clone();
    let mean = MeanImage::fit_apply(&mut s).unwrap();
    assert_eq!(mean.dim(), 64);
    let n = s.train.len() as f64;
    for column in s.train.features().columns() {
        let m: f64 = column.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        assert!(m.abs() < 1e-6, "column mean {m}");
    }
    let (i, j) = (10, 36);
    let m = mean.as_array()[j];
    assert_eq!(
        s.val.features()[[i, j]],
        original.val.features()[[i, j]] - m
    );
    let (test, test0) = (s.test.as_ref().unwrap(), original.test.as_ref().unwrap());
    assert_eq!(test.features()[[i, j]], test0.features()[[i, j]] - m);

    // Stored as an array and rebuilt, it centres new data the same way.
    let rebuilt = MeanImage::from_array(mean.as_array().clone());
    let mut again = original.val.clone();
    rebuilt.apply(&mut again).unwrap();
    assert_eq!(again, s.val);
}

#[test]
fn mean_image_of_wrong_dimension_is_an_error() {
    let mean = MeanImage::from_array(ndarray::Array1::zeros(3));
    let mut d = digits().unwrap();
    let err = mean.apply(&mut d).unwrap_err();
    assert_mentions(&err, &["digits", "3 features", "64"]);
}

// ---------------------------------------------------------------------------------------
// Specs, load, spiral

#[test]
fn data_spec_parses_every_accepted_form_and_prints_back() {
    let cases = [
        ("digits", DataSpec::Digits),
        (
            "spiral",
            DataSpec::Spiral {
                points_per_class: 100,
                classes: 3,
            },
        ),
        (
            "spiral:50,4",
            DataSpec::Spiral {
                points_per_class: 50,
                classes: 4,
            },
        ),
        (
            "cifar10:/data/cifar",
            DataSpec::Cifar10("/data/cifar".into()),
        ),
        ("mnist:rel/fashion", DataSpec::Mnist("rel/fashion".into())),
        ("csv:my data.csv.gz", DataSpec::Csv("my data.csv.gz".into())),
    ];
    for (text, spec) in cases {
        assert_eq!(text.parse::<DataSpec>().unwrap(), spec, "{text}");
        assert_eq!(spec.to_string(), text);
    }
    assert_eq!(
        "MNIST:/x".parse::<DataSpec>().unwrap(),
        DataSpec::Mnist("/x".into())
    );
}

#[test]
fn data_spec_rejects_bad_forms_listing_the_accepted_ones() {
    for bad in [
        "",
        "imagenet:/x",
        "mnist",
        "mnist:",
        "csv:  ",
        "digits:3",
        "spiral:a,b",
        "spiral:0,3",
    ] {
        let err = bad.parse::<DataSpec>().unwrap_err();
        assert!(matches!(err, DataError::Spec { .. }), "{bad}: {err:?}");
        assert_mentions(
            &err,
            &["digits, spiral", "cifar10:DIR", "mnist:DIR", "csv:FILE"],
        );
    }
    assert_mentions(
        &"imagenet:/x".parse::<DataSpec>().unwrap_err(),
        &["'imagenet:/x'", "unknown data source 'imagenet'"],
    );
}

#[test]
fn load_follows_the_spec_for_each_source() {
    let tmp = TempDir::new().unwrap();
    write_mnist(tmp.path(), [false; 4]);
    let m = load(
        &format!("mnist:{}", tmp.path().display()).parse().unwrap(),
        0,
    );
    // The default validation set (5,000) is larger than the 6 training images.
    assert!(matches!(m, Err(DataError::Invalid(_))));
    let csv_path = write(tmp.path(), "t.csv", GOOD_CSV.as_bytes());
    let c = load(&DataSpec::Csv(csv_path), 1).unwrap();
    assert_eq!(
        c.train.len() + c.val.len() + c.test.map_or(0, |t| t.len()),
        4
    );
    let sp = load(&"spiral:20,4".parse().unwrap(), 9).unwrap();
    assert_eq!(
        (sp.train.len(), sp.val.len(), sp.test.unwrap().len()),
        (56, 12, 12)
    );
    assert_eq!(
        load(&DataSpec::Digits, 4).unwrap(),
        digits_splits(4).unwrap()
    );
}

#[test]
fn spiral_is_seeded_balanced_and_within_the_unit_disc() {
    let a = spiral(50, 3, 11).unwrap();
    assert_eq!(a, spiral(50, 3, 11).unwrap());
    assert_ne!(a, spiral(50, 3, 12).unwrap());
    assert_eq!(a.class_counts(), vec![50, 50, 50]);
    for row in a.features().rows() {
        assert!(row[0].hypot(row[1]) <= 1.0 + 1e-6);
    }
    assert!(matches!(spiral(0, 3, 0), Err(DataError::Invalid(_))));
}
