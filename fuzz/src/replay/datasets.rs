//! What a data reader's `Ok` promises: usable data sets, never silent garbage.

use tapegrad_net::data::Splits;

/// Panics unless every set in `splits` has at least one feature, at least two classes,
/// labels below the class count and finite features, and the training set is not empty.
pub fn check(reader: &str, splits: &Splits) {
    assert!(
        !splits.train.is_empty(),
        "{reader}: Ok with an empty training set"
    );
    for set in splits.iter() {
        let name = set.name();
        assert!(set.dim() >= 1, "{reader}: Ok with {name} of zero features");
        assert!(
            set.classes() >= 2,
            "{reader}: Ok with {name} of {} classes",
            set.classes()
        );
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
