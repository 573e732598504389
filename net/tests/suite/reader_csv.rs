//! The CSV reader on small files (plain and gzipped): good ones, then broken ones.

use tapegrad_net::data::{csv, read_csv, DataError};
use tempfile::TempDir;

use crate::common::*;

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
