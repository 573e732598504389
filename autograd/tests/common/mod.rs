//! Helpers shared by the integration tests: seeded random arrays, fixed non-uniform weights,
//! element-wise comparison, and a `gradcheck` wrapper that also proves the check is not vacuous.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use ndarray::{ArrayD, Dimension, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_autograd::{gradcheck, Element, Error, GradcheckReport, Result, Tape, Var};

/// The bound every f64 gradcheck in this suite must meet: the worst error of the tape's
/// gradient against central differences, relative to the largest entry of that input's
/// gradient. Central differences with h = 1e-6 are accurate to about 1e-9 on these small,
/// well-scaled inputs, so 1e-6 leaves room for rounding while any wrong rule (a missing
/// factor, a wrong sign, a transposed or mis-broadcast gradient) is off by O(1).
pub const GRADCHECK_BOUND: f64 = 1e-6;

/// A reproducible random number generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Uniform values in `[lo, hi)`.
pub fn uniform(rng: &mut StdRng, shape: &[usize], lo: f64, hi: f64) -> ArrayD<f64> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.random_range(lo..hi))
}

/// Values whose magnitude is in `[lo, hi)`, with a random sign: inputs that stay away from a
/// kink at 0 (relu) by much more than gradcheck's step.
pub fn away_from_zero(rng: &mut StdRng, shape: &[usize], lo: f64, hi: f64) -> ArrayD<f64> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        let m = rng.random_range(lo..hi);
        if rng.random_bool(0.5) {
            m
        } else {
            -m
        }
    })
}

/// Fixed weights of a shape, all different from each other, so that the gradient flowing
/// into an op differs from element to element: a backward rule that permutes, transposes or
/// mis-broadcasts the gradient cannot pass by symmetry.
pub fn weights<T: Element>(shape: &[usize]) -> ArrayD<T> {
    let n = shape.iter().product();
    let w = (0..n).map(|k| T::cast(0.3 + (k as f64 * 1.7 + 0.4).sin()));
    ArrayD::from_shape_vec(IxDyn(shape), w.collect()).expect("length is the shape's size")
}

/// `Σ y ⊙ weights(shape of y)`: a scalar whose gradient with respect to `y` is the weights.
pub fn weighted_sum<T: Element>(y: Var<'_, T>) -> Result<Var<'_, T>> {
    let w = y.tape().constant(weights::<T>(&y.shape()));
    Ok(y.mul(w)?.sum())
}

/// Runs `gradcheck` on `f` at `inputs`, and asserts the worst relative error is below
/// [`GRADCHECK_BOUND`]. Before that, asserts every input gets a gradient with an entry of
/// magnitude above 1e-3 from the tape, so the comparison is never between two zeros.
pub fn check_grad<F>(name: &str, inputs: &[ArrayD<f64>], f: F) -> GradcheckReport
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Result<Var<'t, f64>>,
{
    {
        let tape = Tape::new();
        let vars: Vec<_> = inputs.iter().map(|x| tape.param(x.clone())).collect();
        let out = f(&tape, &vars).unwrap_or_else(|e| panic!("{name}: {e}"));
        let grads = out.backward().unwrap_or_else(|e| panic!("{name}: {e}"));
        for (k, &v) in vars.iter().enumerate() {
            let g = grads
                .wrt(v)
                .unwrap_or_else(|e| panic!("{name}: input {k}: {e}"));
            assert!(
                g.iter().any(|x| x.abs() > 1e-3),
                "{name}: input {k} has a gradient of ~0, the check would prove nothing: {g}"
            );
        }
    }
    let report = gradcheck(inputs, &f).unwrap_or_else(|e| panic!("{name}: {e}"));
    let worst = report.max_relative_error();
    eprintln!("gradcheck {name}: max relative error {worst:.1e}");
    assert!(
        worst < GRADCHECK_BOUND,
        "{name}: tape gradient differs from central differences: relative errors {:?}, \
         absolute errors {:?} (bound {GRADCHECK_BOUND})",
        report.relative_errors,
        report.absolute_errors
    );
    report
}

/// Asserts `actual` has `expected`'s shape and every element is within `tol` of it, absolutely
/// or relative to the larger magnitude of the two.
pub fn assert_close(what: &str, actual: &ArrayD<f64>, expected: &ArrayD<f64>, tol: f64) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shapes differ");
    for ((idx, &a), &e) in actual.indexed_iter().zip(expected.iter()) {
        let diff = (a - e).abs();
        assert!(
            diff <= tol || diff <= tol * a.abs().max(e.abs()),
            "{what}: at {:?}: got {a}, expected {e} (tolerance {tol})\n got {actual}\n expected {expected}",
            idx.slice()
        );
    }
}

/// A tape gradient as an f64 array (for comparing f32 results against f64 ones).
pub fn to_f64<T: Element>(a: &ArrayD<T>) -> ArrayD<f64> {
    a.mapv(|v| v.as_f64())
}

/// Asserts `result` failed with exactly `expected`, worded exactly as `message`.
#[track_caller]
pub fn assert_error<T>(result: Result<T>, expected: Error, message: &str) {
    let Err(err) = result else {
        panic!("expected the error {expected:?}, but the call succeeded")
    };
    assert_eq!(err, expected);
    assert_eq!(err.to_string(), message);
}

/// The message of `Error::ForeignVariable` after its op name.
pub const FOREIGN: &str =
    "the variables belong to different tapes; record every variable of a computation on the \
     same tape";
