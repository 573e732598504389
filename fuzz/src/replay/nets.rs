//! What a model or state reader's `Ok` promises about a net: finite weights, and as many
//! classes as the last layer has columns.

use tapegrad_net::Mlp;

/// Panics if `values` (the tensor `name`) hold NaN or infinity.
pub fn check_finite<'a>(reader: &str, name: &str, values: impl IntoIterator<Item = &'a f32>) {
    assert!(
        values.into_iter().all(|x| x.is_finite()),
        "{reader}: Ok with a non-finite value in tensor {name}"
    );
}

/// Panics unless the standard deviations of a standardised model (tensor `std`) are positive
/// and finite.
pub fn check_std(reader: &str, mean: &tapegrad_net::data::MeanImage) {
    if let Some(std) = mean.std() {
        assert!(
            std.iter().all(|s| s.is_finite() && *s > 0.0),
            "{reader}: Ok with a standard deviation that is not positive and finite in tensor std"
        );
        assert_eq!(
            std.len(),
            mean.dim(),
            "{reader}: Ok with std and mean of other lengths"
        );
    }
}

/// Panics unless `net`'s tensors (named with `prefix`) are finite and it has `classes`
/// classes (the last layer's columns).
pub fn check(reader: &str, prefix: &str, net: &Mlp<f32>, classes: usize) {
    for (name, value) in net.parameters() {
        check_finite(reader, &format!("{prefix}{name}"), value.iter());
    }
    assert_eq!(
        net.classes(),
        classes,
        "{reader}: Ok with metadata classes = {classes} but {prefix}'s last layer has {} columns",
        net.classes()
    );
}
