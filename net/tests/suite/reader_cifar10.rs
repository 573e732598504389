//! The CIFAR-10 reader on small files written in the real binary format: good ones, then broken ones.

use std::path::Path;

use tapegrad_net::data::{
    self, cifar10_with_val, DataError, CIFAR10_RECORD, CIFAR10_SHAPE, CIFAR10_TRAIN_FILES,
};
use tempfile::TempDir;

use crate::common::*;

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
