//! Mean-image subtraction: fitted on the training set, applied to every split alike.

use tapegrad_net::data::{digits, digits_splits, MeanImage};

use crate::common::assert_mentions;

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
