//! Data specs (`--data`): parsing every accepted form, refusing bad ones, loading each source; and the spiral generator.

use tapegrad_net::data::{digits_splits, load, spiral, DataError, DataSpec};
use tempfile::TempDir;

mod common;
use common::*;

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
