//! The embedded digits set: its size, scaling, class counts, and the seeded 70/15/15% split.

use tapegrad_net::data::{self, digits, digits_splits, Dataset, SplitFractions};

use crate::common::row_keys;

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
