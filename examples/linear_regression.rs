//! Least squares two ways: gradient descent on the tape, and the normal equations.
//!
//! ```sh
//! cargo run --release --example linear_regression
//! ```
//!
//! Synthetic data `y = X w* + b* + noise` (200 examples, 5 features, seeded). Full-batch
//! gradient descent on the mean squared error (`mse`), recorded on one reused tape, must land
//! on the closed-form least-squares solution: the normal equations `(AᵀA) θ = Aᵀy` with
//! `A = [X | 1]`, solved here by a hand-written Cholesky factorisation (ndarray has no solver
//! without BLAS/LAPACK). The claim: every learned weight matches within [`TOLERANCE`].

use std::error::Error;
use std::sync::Arc;

use ndarray::{concatenate, Array1, Array2, Axis, Ix1, Ix2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::autograd::Tape;

/// Seed of the synthetic data.
const SEED: u64 = 7;
/// Number of examples.
const N: usize = 200;
/// The weights that generate the data.
const TRUE_W: [f64; 5] = [1.5, -2.0, 0.5, 3.0, -0.75];
/// The bias that generates the data.
const TRUE_B: f64 = 0.25;
/// Standard deviation of the noise added to `y`.
const NOISE: f64 = 0.1;
/// Gradient-descent step size and number of steps.
const LR: f64 = 0.2;
const STEPS: usize = 300;
/// How close gradient descent must get to the normal-equations solution (max abs difference
/// over the weights and the bias).
const TOLERANCE: f64 = 1e-8;

/// A regression problem: `x` is `[n, d]`, `y` is `[n]`.
struct Data {
    x: Array2<f64>,
    y: Array1<f64>,
}

/// What the example shows, as numbers.
struct Report {
    /// Gradient descent's weights then bias.
    gd: Array1<f64>,
    /// The normal equations' weights then bias.
    exact: Array1<f64>,
    /// The mean squared error at every gradient-descent step.
    losses: Vec<f64>,
    /// The mean squared error of the closed-form solution.
    exact_loss: f64,
    /// `max_k |gd_k - exact_k|`.
    max_diff: f64,
}

/// A standard normal sample (Box–Muller; `rand` alone has no normal distribution).
fn normal(rng: &mut StdRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // in (0, 1]: ln is finite
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `N` examples with standard normal features and `y = x·w* + b* + NOISE·z`.
fn synthetic(seed: u64) -> Data {
    let mut rng = StdRng::seed_from_u64(seed);
    let w = Array1::from(TRUE_W.to_vec());
    let x = Array2::from_shape_simple_fn((N, w.len()), || normal(&mut rng));
    let y = x.dot(&w) + TRUE_B + Array1::from_shape_simple_fn(N, || NOISE * normal(&mut rng));
    Data { x, y }
}

/// Full-batch gradient descent on `mean((X w + b - y)²)`, on one tape reused for every step.
/// Returns the weights then the bias, and the loss at each step.
fn gradient_descent(
    data: &Data,
    lr: f64,
    steps: usize,
) -> Result<(Array1<f64>, Vec<f64>), tapegrad::autograd::Error> {
    let (n, d) = data.x.dim();
    // Shared with the tape through `Arc`: recorded every step, never copied. The targets are a
    // column like the predictions `X w + b`: `mse` refuses `[n, 1]` against `[n]` (which `sub`
    // would broadcast into an `[n, n]` table).
    let x = Arc::new(data.x.clone());
    let y = Arc::new(data.y.to_shape((n, 1)).expect("n elements").into_owned());
    let mut w = Arc::new(Array2::<f64>::zeros((d, 1)));
    let mut b = Arc::new(Array1::<f64>::zeros(1));
    let mut tape = Tape::new();
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let (loss, gw, gb) = {
            let (xv, yv) = (tape.constant(&x), tape.constant(&y));
            let (wv, bv) = (tape.param(&w), tape.param(&b));
            let loss = xv.matmul(wv)?.add(bv)?.mse(yv)?;
            let mut grads = loss.backward()?;
            let gw = grads.take_as::<Ix2>(wv)?;
            let gb = grads.take_as::<Ix1>(bv)?;
            tape.recycle(grads);
            (loss.item()?, gw, gb)
        };
        // The tape drops its references to w and b, so make_mut updates them in place.
        tape.clear();
        Arc::make_mut(&mut w).scaled_add(-lr, &gw);
        Arc::make_mut(&mut b).scaled_add(-lr, &gb);
        tape.give_buffer(gw);
        tape.give_buffer(gb);
        losses.push(loss);
    }
    let theta = concatenate![Axis(0), w.column(0), b.view()];
    Ok((theta, losses))
}

/// Solves `a θ = rhs` for a symmetric positive definite `a` by Cholesky, `a = L Lᵀ`; `None`
/// when `a` is not positive definite.
fn cholesky_solve(a: &Array2<f64>, rhs: &Array1<f64>) -> Option<Array1<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let pivot = a[[i, i]] - s;
                if pivot <= 0.0 {
                    return None;
                }
                l[[i, i]] = pivot.sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
    }
    // L z = rhs, then Lᵀ θ = z.
    let mut z = Array1::<f64>::zeros(n);
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[[i, k]] * z[k]).sum();
        z[i] = (rhs[i] - s) / l[[i, i]];
    }
    let mut theta = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[[k, i]] * theta[k]).sum();
        theta[i] = (z[i] - s) / l[[i, i]];
    }
    Some(theta)
}

/// The least-squares weights then bias, from the normal equations `(AᵀA) θ = Aᵀy`,
/// `A = [X | 1]`.
fn normal_equations(data: &Data) -> Option<Array1<f64>> {
    let a = concatenate![Axis(1), data.x, Array2::ones((data.x.nrows(), 1))];
    cholesky_solve(&a.t().dot(&a), &a.t().dot(&data.y))
}

/// The mean squared error of weights-then-bias `theta`.
fn mean_squared_error(data: &Data, theta: &Array1<f64>) -> f64 {
    let d = data.x.ncols();
    let pred = data.x.dot(&theta.slice(ndarray::s![..d])) + theta[d];
    (pred - &data.y).mapv(|r| r * r).mean().unwrap_or(f64::NAN)
}

/// Fits the seeded data both ways and compares.
fn run(seed: u64) -> Result<Report, Box<dyn Error>> {
    let data = synthetic(seed);
    let (gd, losses) = gradient_descent(&data, LR, STEPS)?;
    let exact = normal_equations(&data).ok_or("AᵀA is not positive definite")?;
    let max_diff = (&gd - &exact).iter().fold(0.0, |m: f64, d| m.max(d.abs()));
    let exact_loss = mean_squared_error(&data, &exact);
    Ok(Report {
        gd,
        exact,
        losses,
        exact_loss,
        max_diff,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let r = run(SEED)?;
    let first = r.losses.first().copied().unwrap_or(f64::NAN);
    let last = r.losses.last().copied().unwrap_or(f64::NAN);
    println!(
        "least squares: {N} examples x {} features + bias (seed {SEED})",
        TRUE_W.len()
    );
    println!("gradient descent on the tape: {STEPS} steps, lr {LR}, MSE {first:.4} -> {last:.6}");
    println!("normal equations (Cholesky):  MSE {:.6}", r.exact_loss);
    println!("  true       {:.4?} b {TRUE_B:.4}", TRUE_W);
    println!("  normal eq. {:.4}", r.exact);
    println!("  tape GD    {:.4}", r.gd);
    println!(
        "max |GD - normal equations| = {:.1e} (tolerance {TOLERANCE:.0e}): {}",
        r.max_diff,
        if r.max_diff < TOLERANCE {
            "match"
        } else {
            "MISMATCH"
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_descent_matches_the_normal_equations() {
        let r = run(SEED).unwrap();
        assert!(r.max_diff < TOLERANCE, "max diff {}", r.max_diff);
        // And both are the least-squares minimum: the last GD loss is the closed-form one.
        let last = *r.losses.last().unwrap();
        assert!(
            (last - r.exact_loss).abs() < 1e-12,
            "{last} vs {}",
            r.exact_loss
        );
    }

    #[test]
    fn the_loss_falls() {
        let r = run(SEED).unwrap();
        // Monotone, up to rounding once converged.
        assert!(
            r.losses.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-12)),
            "monotone"
        );
        assert!(r.losses[STEPS - 1] < 0.01 * r.losses[0]);
    }

    #[test]
    fn the_fit_recovers_the_generating_weights() {
        let r = run(SEED).unwrap();
        for (k, &w) in TRUE_W.iter().enumerate() {
            assert!((r.exact[k] - w).abs() < 0.05, "w{k}: {} vs {w}", r.exact[k]);
        }
        assert!((r.exact[TRUE_W.len()] - TRUE_B).abs() < 0.05);
    }

    #[test]
    fn a_flat_target_is_refused_not_broadcast() {
        // The trap `mse` closes: `[n, 1] - [n]` broadcasts to `[n, n]`, a wrong but finite loss.
        let data = synthetic(SEED);
        let tape = Tape::<f64>::new();
        let pred = tape.param(Array2::<f64>::zeros((N, 1)));
        let flat = tape.constant(data.y.clone());
        assert_eq!(pred.sub(flat).unwrap().shape(), vec![N, N]);
        let err = pred.mse(flat).unwrap_err();
        assert!(
            matches!(
                err,
                tapegrad::autograd::Error::ShapeMismatch { op: "mse", .. }
            ),
            "{err}"
        );
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        let a = ndarray::array![[4.0, 2.0], [2.0, 3.0]];
        let x = cholesky_solve(&a, &ndarray::array![2.0, 1.0]).unwrap();
        assert!((&a.dot(&x) - &ndarray::array![2.0, 1.0])
            .iter()
            .all(|e| e.abs() < 1e-15));
        assert!(cholesky_solve(&ndarray::array![[1.0, 2.0], [2.0, 1.0]], &x).is_none());
    }
}
