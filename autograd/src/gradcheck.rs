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
    /// Compares gradients `analytic` with `numeric` (for example from [`numeric_gradients`]),
    /// input by input.
    ///
    /// # Panics
    /// If the two lists differ in length or an input's two gradients in shape.
    pub fn compare(analytic: &[ArrayD<f64>], numeric: &[ArrayD<f64>]) -> Self {
        assert_eq!(analytic.len(), numeric.len(), "one gradient per input");
        let mut report = GradcheckReport {
            relative_errors: Vec::new(),
            absolute_errors: Vec::new(),
        };
        for (a, n) in analytic.iter().zip(numeric) {
            let worst = Zip::from(a)
                .and(n)
                .fold(0f64, |m, &x, &y| m.max((x - y).abs()));
            report.absolute_errors.push(worst);
            report.relative_errors.push(relative_error(a, n));
        }
        report
    }

    /// The worst relative error over all inputs.
    pub fn max_relative_error(&self) -> f64 {
        self.relative_errors.iter().copied().fold(0.0, f64::max)
    }
}

/// Checks the tape's gradients of `f` at `inputs` against central differences
/// ([`numeric_gradients`]).
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
    let numeric = numeric_gradients(inputs, |xs| {
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
    })?;
    Ok(GradcheckReport::compare(&analytic, &numeric))
}

/// The step `h` of the central differences: `1e-6`, where truncation (`~h²`) and rounding
/// (`~ε/h`) errors of `f64` are about equal for well-scaled functions.
pub const CENTRAL_DIFFERENCE_STEP: f64 = 1e-6;

/// The gradient of `f` at `inputs` by central differences,
/// `(f(x + h e_k) - f(x - h e_k)) / 2h` for every element `k` of every input, with
/// `h =` [`CENTRAL_DIFFERENCE_STEP`]: the one numerical derivative the workspace checks
/// gradients against. `f` is called `2 ·` (number of elements) times, with copies of `inputs`
/// in standard layout of which one element is moved.
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::numeric_gradients;
///
/// let x = array![1.0, -2.0].into_dyn();
/// // f(x) = Σ x³, so df/dx = 3x².
/// let g = numeric_gradients(&[x], |xs| Ok::<_, ()>(xs[0].mapv(|v| v * v * v).sum()))?;
/// assert!((g[0][0] - 3.0).abs() < 1e-6 && (g[0][1] - 12.0).abs() < 1e-6);
/// # Ok::<(), ()>(())
/// ```
pub fn numeric_gradients<E>(
    inputs: &[ArrayD<f64>],
    mut f: impl FnMut(&[ArrayD<f64>]) -> std::result::Result<f64, E>,
) -> std::result::Result<Vec<ArrayD<f64>>, E> {
    const H: f64 = CENTRAL_DIFFERENCE_STEP;
    let mut xs: Vec<ArrayD<f64>> = inputs
        .iter()
        .map(|x| x.as_standard_layout().into_owned())
        .collect();
    let mut grads = Vec::with_capacity(xs.len());
    for k in 0..xs.len() {
        let mut grad = ArrayD::zeros(xs[k].raw_dim());
        for (flat, g) in grad.iter_mut().enumerate() {
            let x = *element(&mut xs[k], flat);
            set(&mut xs[k], flat, x + H);
            let up = f(&xs)?;
            set(&mut xs[k], flat, x - H);
            let down = f(&xs)?;
            set(&mut xs[k], flat, x);
            *g = (up - down) / (2.0 * H);
        }
        grads.push(grad);
    }
    Ok(grads)
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
