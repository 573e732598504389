//! A user-defined op, the Huber loss, added through `CustomOp`, checked, then used.
//!
//! ```sh
//! cargo run --release --example custom_op
//! ```
//!
//! `huber(p, y)` is elementwise `½ r²` where `|r| ≤ δ` and `δ (|r| - ½ δ)` beyond, for
//! `r = p - y`: quadratic near zero, linear in the tails, so outliers pull on a fit with a force
//! of at most `δ`. Its derivatives are `clamp(r, -δ, δ)` for `p` and the negative for `y`.
//!
//! The op is recorded with `pred.custom(Huber { delta }, &[target])` (the first input is the
//! `Var` it is called on). The example (1) checks the hand-written backward against central
//! differences with `gradcheck` (both inputs, points on both sides of the kink) and against the
//! same loss composed of built-in ops (`c (r - c/2)` with `c = clamp(r, -δ, δ)`), then (2) fits a
//! line to data with 10% gross outliers twice, with the Huber loss and with the squared error
//! (`mse`). The claims: gradcheck's relative error is below [`GRADCHECK_TOLERANCE`], the
//! composed loss agrees to 1e-15, both losses fall monotonically, and the Huber fit lands within
//! 0.1 of the true line's parameters, at most a quarter of the least-squares fit's distance.

use std::error::Error as StdError;
use std::sync::Arc;

use ndarray::{array, Array1, ArrayD, ArrayViewD, ArrayViewMutD, Ix1, IxDyn, Zip};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::autograd::{gradcheck, CustomOp, Element, Error, Result, Tape, Var};

/// The line that generates the data: `y = SLOPE x + INTERCEPT`.
const SLOPE: f64 = 2.0;
const INTERCEPT: f64 = -1.0;
const SEED: u64 = 3;
/// The Huber threshold `δ`.
const DELTA: f64 = 0.2;
/// Largest relative error gradcheck may report.
const GRADCHECK_TOLERANCE: f64 = 1e-7;
/// Gradient-descent steps and step size for the line fits.
const STEPS: usize = 2000;
const LR: f64 = 0.2;

/// The elementwise Huber loss of predictions (input 0) against targets (input 1), which must
/// have the same shape.
struct Huber {
    delta: f64,
}

impl<T: Element> CustomOp<T> for Huber {
    fn name(&self) -> &str {
        "huber"
    }

    fn output_shape(&self, inputs: &[ArrayViewD<'_, T>]) -> Result<IxDyn> {
        let (p, _) = self.operands(inputs)?;
        Ok(p.raw_dim())
    }

    fn forward(&self, inputs: &[ArrayViewD<'_, T>], mut out: ArrayViewMutD<'_, T>) -> Result<()> {
        let (p, y) = self.operands(inputs)?;
        let d = T::cast(self.delta);
        let half = T::cast(0.5);
        Zip::from(&mut out).and(p).and(y).for_each(|o, &p, &y| {
            let r = (p - y).abs();
            *o = if r <= d {
                half * r * r
            } else {
                d * (r - half * d)
            };
        });
        Ok(())
    }

    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, T>],
        _output: &ArrayViewD<'_, T>,
        grad: &ArrayViewD<'_, T>,
        grads: &mut [Option<ArrayViewMutD<'_, T>>],
    ) -> Result<()> {
        let (p, y) = self.operands(inputs)?;
        let d = T::cast(self.delta);
        // d/dp = g clamp(p - y, -δ, δ); d/dy = its negative. Each only if that input needs it.
        for (dst, sign) in grads.iter_mut().zip([T::one(), -T::one()]) {
            if let Some(dst) = dst {
                Zip::from(dst)
                    .and(p)
                    .and(y)
                    .and(grad)
                    .for_each(|o, &p, &y, &g| *o = sign * g * (p - y).max(-d).min(d));
            }
        }
        Ok(())
    }
}

impl Huber {
    /// The two operands, or an error naming the op when they don't fit.
    fn operands<'a, 'b, T: Element>(
        &self,
        inputs: &'a [ArrayViewD<'b, T>],
    ) -> Result<(&'a ArrayViewD<'b, T>, &'a ArrayViewD<'b, T>)> {
        match inputs {
            [p, y] if p.shape() == y.shape() => Ok((p, y)),
            [p, y] => Err(Error::ShapeMismatch {
                op: "huber",
                lhs: p.shape().to_vec(),
                rhs: y.shape().to_vec(),
                reason: "predictions and targets must have the same shape".into(),
            }),
            _ => Err(Error::CustomOp {
                op: "huber".into(),
                message: format!(
                    "takes 2 inputs (predictions, targets), got {}",
                    inputs.len()
                ),
            }),
        }
    }
}

/// The mean Huber loss of `pred` against `target`, recorded on their tape.
fn huber_loss<'t>(pred: Var<'t, f64>, target: Var<'t, f64>, delta: f64) -> Result<Var<'t, f64>> {
    Ok(pred.custom(Huber { delta }, &[target])?.mean())
}

/// The same loss from built-in ops, to check the custom op against: with `r = p - y` and
/// `c = clamp(r, -δ, δ)`, `huber(r) = c (r - c/2)`, and its derivative is `c` everywhere.
fn huber_composed<'t>(
    pred: Var<'t, f64>,
    target: Var<'t, f64>,
    delta: f64,
) -> Result<Var<'t, f64>> {
    let r = pred.sub(target)?;
    let c = r.clamp(-delta, delta)?;
    Ok(c.mul(r.sub(c.scale(0.5))?)?.mean())
}

/// Check points: residuals on both sides of `±δ`.
fn check_points() -> [ArrayD<f64>; 2] {
    let p = array![[0.1, -0.3, 2.0], [-1.5, 0.45, 0.0]].into_dyn();
    let y = array![[0.0, 0.0, 0.0], [-1.4, 0.5, 0.15]].into_dyn();
    [p, y]
}

/// `gradcheck` of the mean Huber loss with respect to both inputs, at [`check_points`].
/// Returns the worst relative error.
fn check_gradients() -> Result<f64> {
    let report = gradcheck(&check_points(), |_, v| huber_loss(v[0], v[1], DELTA))?;
    Ok(report.max_relative_error())
}

/// The loss then both inputs' gradients at [`check_points`], from the custom op or from
/// [`huber_composed`].
fn loss_and_gradients(composed: bool) -> Result<Vec<f64>> {
    let [p, y] = check_points();
    let tape = Tape::new();
    let (pv, yv) = (tape.param(p), tape.param(y));
    let loss = if composed {
        huber_composed(pv, yv, DELTA)?
    } else {
        huber_loss(pv, yv, DELTA)?
    };
    let grads = loss.backward()?;
    let (dp, dy) = (grads.wrt(pv)?, grads.wrt(yv)?);
    Ok(std::iter::once(loss.item()?)
        .chain(dp.iter().chain(dy).copied())
        .collect())
}

/// The largest difference between the custom op and [`huber_composed`], over the loss and
/// every gradient entry.
fn composed_difference() -> Result<f64> {
    let (custom, composed) = (loss_and_gradients(false)?, loss_and_gradients(true)?);
    Ok(custom
        .iter()
        .zip(&composed)
        .fold(0.0, |m, (a, b)| m.max((a - b).abs())))
}

/// A fitted line and the loss at every step.
struct LineFit {
    slope: f64,
    intercept: f64,
    losses: Vec<f64>,
}

impl LineFit {
    /// Distance from the generating line's parameters.
    fn error(&self) -> f64 {
        (self.slope - SLOPE).abs() + (self.intercept - INTERCEPT).abs()
    }
}

/// Which loss a fit minimises.
#[derive(Debug, Clone, Copy)]
enum Loss {
    Huber,
    Squared,
}

/// Fits `y ≈ a x + c` by full-batch gradient descent on `loss`.
fn fit_line(x: &Array1<f64>, y: &Array1<f64>, loss: Loss) -> Result<LineFit> {
    let x = Arc::new(x.clone());
    let y = Arc::new(y.clone());
    // One-element parameters broadcast against the `[n]` data.
    let mut slope = Arc::new(array![0.0]);
    let mut intercept = Arc::new(array![0.0]);
    let mut tape = Tape::new();
    let mut losses = Vec::with_capacity(STEPS);
    for _ in 0..STEPS {
        let (ga, gc) = {
            let (xv, yv) = (tape.constant(&x), tape.constant(&y));
            let (a, c) = (tape.param(&slope), tape.param(&intercept));
            let pred = xv.mul(a)?.add(c)?;
            let l = match loss {
                Loss::Huber => huber_loss(pred, yv, DELTA)?,
                Loss::Squared => pred.mse(yv)?.scale(0.5),
            };
            losses.push(l.item()?);
            let mut grads = l.backward()?;
            let ga = grads.take_as::<Ix1>(a)?;
            let gc = grads.take_as::<Ix1>(c)?;
            tape.recycle(grads);
            (ga, gc)
        };
        tape.clear();
        Arc::make_mut(&mut slope).scaled_add(-LR, &ga);
        Arc::make_mut(&mut intercept).scaled_add(-LR, &gc);
    }
    Ok(LineFit {
        slope: slope[0],
        intercept: intercept[0],
        losses,
    })
}

/// 100 points on the line with small noise, every tenth moved up by 8 to 12.
fn data(seed: u64) -> (Array1<f64>, Array1<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Array1::from_shape_simple_fn(100, || rng.random_range(-1.0..1.0));
    let y = Array1::from_shape_fn(100, |i| {
        let noise = rng.random_range(-0.1..0.1);
        let outlier = if i % 10 == 0 {
            rng.random_range(8.0..12.0)
        } else {
            0.0
        };
        SLOPE * x[i] + INTERCEPT + noise + outlier
    });
    (x, y)
}

/// Everything the example claims, as numbers.
struct Report {
    gradcheck_error: f64,
    /// Largest difference from the same loss composed of built-in ops.
    composed_difference: f64,
    huber: LineFit,
    squared: LineFit,
}

fn run() -> Result<Report, Box<dyn StdError>> {
    let gradcheck_error = check_gradients()?;
    let composed_difference = composed_difference()?;
    let (x, y) = data(SEED);
    Ok(Report {
        gradcheck_error,
        composed_difference,
        huber: fit_line(&x, &y, Loss::Huber)?,
        squared: fit_line(&x, &y, Loss::Squared)?,
    })
}

fn main() -> Result<(), Box<dyn StdError>> {
    let r = run()?;
    println!(
        "huber (delta {DELTA}) as a CustomOp: gradcheck max relative error {:.1e} (tolerance {GRADCHECK_TOLERANCE:.0e})",
        r.gradcheck_error
    );
    println!(
        "composed from built-ins, c (r - c/2) with c = clamp(r, -delta, delta): max difference {:.1e} (loss and gradients)",
        r.composed_difference
    );
    println!("fitting y = {SLOPE} x {INTERCEPT:+} to 100 points, 10 of them outliers (+8..12), {STEPS} GD steps:");
    for (name, fit) in [("huber", &r.huber), ("squared", &r.squared)] {
        println!(
            "  {name:<8} loss {:.4} -> {:.4}   y = {:.3} x {:+.3}   (|Δslope| + |Δintercept| = {:.3})",
            fit.losses[0],
            fit.losses[STEPS - 1],
            fit.slope,
            fit.intercept,
            fit.error()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradcheck_passes() {
        let e = check_gradients().unwrap();
        assert!(e < GRADCHECK_TOLERANCE, "{e}");
    }

    #[test]
    fn the_custom_op_agrees_with_the_composed_builtins() {
        // Loss and both gradients, at residuals inside and outside ±δ; only rounding differs.
        let e = composed_difference().unwrap();
        assert!(e < 1e-15, "{e}");
    }

    #[test]
    fn huber_fits_the_line_despite_the_outliers() {
        let r = run().unwrap();
        for fit in [&r.huber, &r.squared] {
            // Both losses are convex with curvature below 1/LR: gradient descent never goes up
            // (up to rounding once converged).
            let monotone = fit.losses.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-12));
            assert!(
                monotone && fit.losses[STEPS - 1] < 0.9 * fit.losses[0],
                "the loss falls"
            );
        }
        assert!(r.huber.error() < 0.1, "huber: {}", r.huber.error());
        assert!(r.huber.error() < 0.25 * r.squared.error());
    }

    #[test]
    fn mismatched_shapes_are_an_error_not_a_panic() {
        let tape = Tape::<f64>::new();
        let p = tape.param(array![1.0, 2.0]);
        let y = tape.constant(array![1.0, 2.0, 3.0]);
        let err = huber_loss(p, y, DELTA).unwrap_err();
        assert!(
            matches!(err, Error::ShapeMismatch { op: "huber", .. }),
            "{err}"
        );
    }
}
