//! Numerical gradient checking by central differences, in `f64`.

use ndarray::{ArrayD, AsArray, Dimension, Zip};

use crate::{Error, Result, Tape, Var};

/// How the tape's gradients compare with central differences, per input.
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckReport {
    /// Per input: `max_k |analytic_k - numeric_k| / max(max_k |analytic_k|, max_k |numeric_k|)`,
    /// the largest error relative to the largest gradient entry of that input (0 when both
    /// gradients are exactly zero).
    pub relative_errors: Vec<f64>,
    /// Per input: `max_k |analytic_k - numeric_k|`.
    pub absolute_errors: Vec<f64>,
}

impl GradcheckReport {
    /// The worst relative error over all inputs.
    pub fn max_relative_error(&self) -> f64 {
        self.relative_errors.iter().copied().fold(0.0, f64::max)
    }
}

/// Checks the tape's gradients of `f` at `inputs` against central differences
/// `(f(x + h) - f(x - h)) / 2h` with `h = 1e-6`.
///
/// `f` gets a fresh tape and one parameter per input, and returns a one-element output. It is
/// evaluated `2 · (total number of input elements) + 1` times, so keep the inputs small.
///
/// The relative error of an input is measured against its largest gradient entry (see
/// [`GradcheckReport::relative_errors`]): entry-wise relative errors blow up on entries that are
/// zero up to rounding, which says nothing about the rule being checked.
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::gradcheck;
///
/// let x = array![[0.5, -1.0], [2.0, 0.25]].into_dyn();
/// let report = gradcheck(&[x], |_, v| Ok(v[0].tanh().square().sum()))?;
/// assert!(report.max_relative_error() < 1e-8);
/// # Ok::<(), tapegrad_autograd::Error>(())
/// ```
pub fn gradcheck<F>(inputs: &[ArrayD<f64>], f: F) -> Result<GradcheckReport>
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Result<Var<'t, f64>>,
{
    const H: f64 = 1e-6;
    let analytic: Vec<ArrayD<f64>> = {
        let tape = Tape::new();
        let vars: Vec<_> = inputs.iter().map(|x| tape.param(x.clone())).collect();
        let grads = f(&tape, &vars)?.backward()?;
        vars.iter()
            .map(|&v| {
                grads
                    .get(v)
                    .cloned()
                    .unwrap_or_else(|| ArrayD::zeros(v.shape()))
            })
            .collect()
    };
    let eval = |xs: &[ArrayD<f64>]| -> Result<f64> {
        let tape = Tape::new();
        let vars: Vec<_> = xs.iter().map(|x| tape.constant(x.clone())).collect();
        let out = f(&tape, &vars)?;
        out.item().map_err(|e| match e {
            Error::NotScalar { shape, len, .. } => Error::NotScalar {
                op: "gradcheck",
                shape,
                len,
            },
            e => e,
        })
    };
    let mut report = GradcheckReport {
        relative_errors: Vec::new(),
        absolute_errors: Vec::new(),
    };
    let mut xs: Vec<ArrayD<f64>> = inputs
        .iter()
        .map(|x| x.as_standard_layout().into_owned())
        .collect();
    for (k, grad) in analytic.iter().enumerate() {
        let (mut worst, mut scale) = (0f64, 0f64);
        for (flat, &a) in grad.iter().enumerate() {
            let x = element(&mut xs[k], flat);
            let x = *x;
            set(&mut xs[k], flat, x + H);
            let up = eval(&xs)?;
            set(&mut xs[k], flat, x - H);
            let down = eval(&xs)?;
            set(&mut xs[k], flat, x);
            let numeric = (up - down) / (2.0 * H);
            worst = worst.max((a - numeric).abs());
            scale = scale.max(a.abs()).max(numeric.abs());
        }
        report.absolute_errors.push(worst);
        report
            .relative_errors
            .push(if scale > 0.0 { worst / scale } else { 0.0 });
    }
    Ok(report)
}

/// Sets the `flat`-th element of `x`, which is in standard layout.
fn set(x: &mut ArrayD<f64>, flat: usize, value: f64) {
    *element(x, flat) = value;
}

/// The `flat`-th element of `x`, which is in standard layout.
fn element(x: &mut ArrayD<f64>, flat: usize) -> &mut f64 {
    &mut x
        .as_slice_mut()
        .expect("inputs are copied into standard layout")[flat]
}

/// `max_k |a_k - b_k| / max(max_k |a_k|, max_k |b_k|)`: the largest difference relative to the
/// largest entry (0 when both are all zeros), the measure [`GradcheckReport`] uses.
///
/// ```
/// use ndarray::array;
/// let (a, b) = (array![1.0, -4.0], array![1.0, -3.0]);
/// assert_eq!(tapegrad_autograd::relative_error(&a, &b), 0.25);
/// ```
///
/// # Panics
/// If the shapes differ.
pub fn relative_error<'a, D: Dimension>(
    a: impl AsArray<'a, f64, D>,
    b: impl AsArray<'a, f64, D>,
) -> f64 {
    let (a, b) = (a.into(), b.into());
    let diff = Zip::from(&a)
        .and(&b)
        .fold(0f64, |m, &x, &y| m.max((x - y).abs()));
    let scale = a.iter().chain(b.iter()).fold(0f64, |m, v| m.max(v.abs()));
    if scale == 0.0 {
        0.0
    } else {
        diff / scale
    }
}
