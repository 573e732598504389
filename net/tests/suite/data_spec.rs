//! Data specs (`--data`): parsing every accepted form, refusing bad ones, loading each source; and the spiral generator.

use std::path::Path;

use tapegrad_net::data::{
    accepted_forms, digits_splits, load, spiral, Argument, DataError, DataSpec, FORMATS,
};
use tempfile::TempDir;

use crate::common::*;

#[test]
fn data_spec_parses_every_accepted_form_and_prints_back() {
    let cases = [
        ("digits", "digits", None),
        ("spiral", "spiral", None),
        ("spiral:50,4", "spiral", None),
        ("cifar10:/data/cifar", "cifar10", Some("/data/cifar")),
        ("mnist:rel/fashion", "mnist", Some("rel/fashion")),
        ("csv:my data.csv.gz", "csv", Some("my data.csv.gz")),
    ];
    for (text, name, path) in cases {
        let spec = text.parse::<DataSpec>().unwrap();
        assert_eq!(
            (spec.name(), spec.path()),
            (name, path.map(Path::new)),
            "{text}"
        );
        assert_eq!(spec.to_string(), text);
        assert_eq!(spec.to_string().parse::<DataSpec>().unwrap(), spec);
    }
    assert_eq!(
        "MNIST:/x".parse::<DataSpec>().unwrap(),
        "mnist:/x".parse::<DataSpec>().unwrap()
    );
    assert_eq!("digits".parse::<DataSpec>().unwrap(), DataSpec::default());
}

#[test]
fn spiral_spec_is_written_in_canonical_form_and_its_default_size_is_plain_spiral() {
    let spec = |text: &str| text.parse::<DataSpec>().unwrap();
    assert_eq!(spec("spiral: 50 , 4").to_string(), "spiral:50,4");
    assert_eq!(spec("spiral:100,3"), spec("spiral"));
    assert_eq!(spec("spiral:100,3").to_string(), "spiral");
    assert_ne!(spec("spiral:50,4"), spec("spiral:4,50"));
}

#[test]
fn every_format_of_the_table_is_listed_in_spec_errors_and_parses_by_its_name() {
    let err = "imagenet".parse::<DataSpec>().unwrap_err();
    for format in FORMATS {
        assert_mentions(&err, &[format.syntax]);
        let example = match format.argument {
            Argument::Path(_) => format!("{}:some/where", format.name),
            Argument::None | Argument::Optional(_) => format.name.to_owned(),
        };
        let spec = example.parse::<DataSpec>().unwrap();
        assert_eq!(spec.name(), format.name);
        assert_eq!(spec.input_scale(), format.input_scale);
    }
    assert_eq!(accepted_forms().matches(", ").count() + 1, FORMATS.len());
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
    let c = load(&format!("csv:{}", csv_path.display()).parse().unwrap(), 1).unwrap();
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
        load(&DataSpec::default(), 4).unwrap(),
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
