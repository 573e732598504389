//! What a data reader's `Ok` promises: usable data sets, never silent garbage.

use tapegrad_net::data::Splits;

/// Panics unless every set in `splits` has at least one feature, at least one class,
/// labels below the class count and finite features, the training set is not empty, and a
/// training set of fewer than two classes is refused for training.
///
/// A reader may return one class (a test file of a single class is fine to evaluate on);
/// training on it must be a clear error ([`Dataset::check_trainable`]), never a silent run.
///
/// [`Dataset::check_trainable`]: tapegrad_net::data::Dataset::check_trainable
pub fn check(reader: &str, splits: &Splits) {
    assert!(
        !splits.train.is_empty(),
        "{reader}: Ok with an empty training set"
    );
    assert!(
        splits.train.classes() >= 2 || splits.train.check_trainable().is_err(),
        "{reader}: a training set of {} class(es) is accepted for training",
        splits.train.classes()
    );
    for set in splits.iter() {
        let name = set.name();
        assert!(set.dim() >= 1, "{reader}: Ok with {name} of zero features");
        assert!(set.classes() >= 1, "{reader}: Ok with {name} of no classes");
        assert!(
            set.labels().iter().all(|&y| y < set.classes()),
            "{reader}: Ok with a label of {name} not below its {} classes",
            set.classes()
        );
        assert!(
            set.features().iter().all(|x| x.is_finite()),
            "{reader}: Ok with a non-finite feature in {name}"
        );
        assert_eq!(
            set.features().nrows(),
            set.labels().len(),
            "{reader}: Ok with {name} holding more or fewer feature rows than labels"
        );
    }
}
