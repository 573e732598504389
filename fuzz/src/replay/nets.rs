//! What a model or state reader's `Ok` promises about a net: finite weights, and as many
//! classes as W2 has columns.

use tapegrad_net::TwoLayerNet;

/// Panics if `values` (the tensor `name`) hold NaN or infinity.
pub fn check_finite<'a>(reader: &str, name: &str, values: impl IntoIterator<Item = &'a f32>) {
    assert!(
        values.into_iter().all(|x| x.is_finite()),
        "{reader}: Ok with a non-finite value in tensor {name}"
    );
}

/// Panics unless `net`'s tensors (named with `prefix`) are finite and it has `classes`
/// classes (W2's columns).
pub fn check(reader: &str, prefix: &str, net: &TwoLayerNet<f32>, classes: usize) {
    check_finite(reader, &format!("{prefix}W1"), net.w1.iter());
    check_finite(reader, &format!("{prefix}b1"), net.b1.iter());
    check_finite(reader, &format!("{prefix}W2"), net.w2.iter());
    check_finite(reader, &format!("{prefix}b2"), net.b2.iter());
    assert_eq!(
        net.dims().2,
        classes,
        "{reader}: Ok with metadata classes = {classes} but {prefix}W2 has {} columns",
        net.dims().2
    );
}
