//! User-defined ops through `CustomOp`: checked with gradcheck like the built-in ones,
//! including an op where only some inputs need gradients, and recorded with `Var::custom`.
//! What the engine hands them and their errors are in custom_op_contract.rs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::{assert_close, check_grad, rng, uniform, weighted_sum, GRADCHECK_BOUND};
use ndarray::{array, ArrayViewD, ArrayViewMutD, IxDyn, Zip};
use tapegrad_autograd::{gradcheck, CustomOp, Result, Tape};

/// `softplus(x) = ln(1 + eˣ)`, computed without overflow; `d/dx = σ(x)`.
struct Softplus;

impl CustomOp<f64> for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }
    fn forward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        mut out: ArrayViewMutD<'_, f64>,
    ) -> Result<()> {
        Zip::from(&mut out)
            .and(&inputs[0])
            .for_each(|y, &x| *y = x.max(0.0) + (-x.abs()).exp().ln_1p());
        Ok(())
    }
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
        grads: &mut [Option<ArrayViewMutD<'_, f64>>],
    ) -> Result<()> {
        if let Some(dx) = &mut grads[0] {
            Zip::from(dx)
                .and(grad)
                .and(&inputs[0])
                .for_each(|d, &g, &x| *d = g / (1.0 + (-x).exp()));
        }
        Ok(())
    }
}

/// Mean Huber loss of `pred` against `target` (two inputs, same shape):
/// `h(r) = r²/2` for `|r| <= δ`, `δ(|r| - δ/2)` beyond, with `r = pred - target`.
/// Counts its backward calls.
struct Huber {
    delta: f64,
    backward_calls: Arc<AtomicUsize>,
}

impl Huber {
    fn new(delta: f64) -> Self {
        Huber {
            delta,
            backward_calls: Arc::default(),
        }
    }

    /// `dh/dr`: r inside the quadratic zone, ±δ outside.
    fn slope(&self, r: f64) -> f64 {
        r.clamp(-self.delta, self.delta)
    }
}

impl CustomOp<f64> for Huber {
    fn name(&self) -> &str {
        "huber"
    }
    fn output_shape(&self, _inputs: &[ArrayViewD<'_, f64>]) -> Result<IxDyn> {
        Ok(IxDyn(&[1]))
    }
    fn forward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        mut out: ArrayViewMutD<'_, f64>,
    ) -> Result<()> {
        let d = self.delta;
        let mut total = 0.0;
        Zip::from(&inputs[0]).and(&inputs[1]).for_each(|&p, &t| {
            let r: f64 = p - t;
            total += if r.abs() <= d {
                0.5 * r * r
            } else {
                d * (r.abs() - 0.5 * d)
            };
        });
        out.fill(total / inputs[0].len() as f64);
        Ok(())
    }
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
        grads: &mut [Option<ArrayViewMutD<'_, f64>>],
    ) -> Result<()> {
        self.backward_calls.fetch_add(1, Ordering::SeqCst);
        let g = grad.iter().next().copied().unwrap_or(0.0) / inputs[0].len() as f64;
        let (pred, target) = (&inputs[0], &inputs[1]);
        let [dp, dt] = grads else {
            unreachable!("two inputs, two gradient slots")
        };
        if let Some(dp) = dp {
            Zip::from(dp)
                .and(pred)
                .and(target)
                .for_each(|d, &p, &t| *d = g * self.slope(p - t));
        }
        if let Some(dt) = dt {
            Zip::from(dt)
                .and(pred)
                .and(target)
                .for_each(|d, &p, &t| *d = -g * self.slope(p - t));
        }
        Ok(())
    }
}

#[test]
fn softplus_custom_op_gradient_matches_central_differences() {
    let mut r = rng(400);
    for shape in [&[3, 4][..], &[1, 1], &[5], &[]] {
        let x = uniform(&mut r, shape, -4.0, 4.0);
        check_grad(&format!("softplus {shape:?}"), &[x], |tape, v| {
            weighted_sum(tape.custom(Softplus, &[v[0]])?)
        });
    }
    // Large inputs stay finite: softplus(±800) = 800 / 0.
    let tape = Tape::<f64>::new();
    let x = tape.param(array![800.0, -800.0]);
    let y = tape.custom(Softplus, &[x]).unwrap();
    assert_eq!(y.value(), array![800.0, 0.0].into_dyn());
}

#[test]
fn huber_custom_op_gradient_matches_central_differences_for_both_inputs() {
    let mut r = rng(401);
    // Residuals on both sides of ±δ, none within gradcheck's step of the kink.
    let pred = uniform(&mut r, &[4, 3], -3.0, 3.0);
    let target = uniform(&mut r, &[4, 3], -3.0, 3.0);
    let residual = pred.mapv(|p| 3.0 * p.tanh()) - &target;
    assert!(residual.iter().all(|r| (r.abs() - 1.0).abs() > 1e-3));
    assert!(residual.iter().any(|r| r.abs() > 1.0));
    assert!(residual.iter().any(|r| r.abs() < 1.0));
    check_grad("huber(pred, target)", &[pred, target], |tape, v| {
        // Composed with built-in ops on both sides.
        let h = tape.custom(Huber::new(1.0), &[v[0].tanh().scale(3.0), v[1]])?;
        Ok(h.square().add_scalar(0.5))
    });
}

#[test]
fn huber_with_a_constant_target_gives_the_prediction_its_gradient_only() {
    let mut r = rng(402);
    let pred = uniform(&mut r, &[5, 2], -3.0, 3.0);
    let target = uniform(&mut r, &[5, 2], -3.0, 3.0);

    let tape = Tape::<f64>::new();
    let p = tape.param(pred.clone());
    let t = tape.constant(target.clone());
    let grads = tape
        .custom(Huber::new(1.0), &[p, t])
        .unwrap()
        .backward()
        .unwrap();
    assert!(grads.get(t).is_none(), "the constant target got a gradient");
    let expected = (&pred - &target).mapv(|r| r.clamp(-1.0, 1.0) / 10.0); // mean of 10
    assert_close("d huber / d pred", &grads[p], &expected, 1e-15);

    // gradcheck over the prediction alone, the target recorded as a constant each time.
    let report = gradcheck(&[pred], |tape, v| {
        let t = tape.constant(target.clone());
        tape.custom(Huber::new(1.0), &[v[0], t])
    })
    .unwrap();
    eprintln!("huber, constant target: {:?}", report.relative_errors);
    assert!(report.max_relative_error() < GRADCHECK_BOUND, "{report:?}");
}

#[test]
fn custom_op_backward_is_not_called_when_no_input_needs_a_gradient() {
    let tape = Tape::<f64>::new();
    let w = tape.param(array![1.0, -1.0]);
    let (a, b) = (
        tape.constant(array![1.0, 5.0]),
        tape.constant(array![0.0, 0.0]),
    );
    let constant_only = Huber::new(1.0);
    let calls = Arc::clone(&constant_only.backward_calls);
    let h = tape.custom(constant_only, &[a, b]).unwrap();
    assert!(!h.requires_grad());
    let loss = h.mul(w.sum()).unwrap();
    let grads = loss.backward().unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "backward of a constant-only custom op ran"
    );
    assert_eq!(grads[w], array![2.5, 2.5].into_dyn()); // huber([1, 5], 0) = (0.5 + 4.5) / 2
}

/// Softplus with a deliberately wrong derivative (`σ(x)²` instead of `σ(x)`).
struct WrongSoftplus;

impl CustomOp<f64> for WrongSoftplus {
    fn name(&self) -> &str {
        "wrong softplus"
    }
    fn forward(&self, inputs: &[ArrayViewD<'_, f64>], out: ArrayViewMutD<'_, f64>) -> Result<()> {
        Softplus.forward(inputs, out)
    }
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
        grads: &mut [Option<ArrayViewMutD<'_, f64>>],
    ) -> Result<()> {
        if let Some(dx) = &mut grads[0] {
            Zip::from(dx)
                .and(grad)
                .and(&inputs[0])
                .for_each(|d, &g, &x| *d = g * (1.0 / (1.0 + (-x).exp())).powi(2));
        }
        Ok(())
    }
}

#[test]
fn gradcheck_flags_a_custom_op_with_a_wrong_derivative() {
    // The checker this suite relies on can fail: a wrong rule is off by O(1), not 1e-6.
    let x = uniform(&mut rng(403), &[3, 3], -2.0, 2.0);
    let report = gradcheck(&[x], |tape, v| {
        weighted_sum(tape.custom(WrongSoftplus, &[v[0]])?)
    })
    .unwrap();
    assert!(report.max_relative_error() > 0.1, "{report:?}");
}

/// `a - 2b`: not symmetric, so the order of the inputs shows.
struct SubTwice;

impl CustomOp<f64> for SubTwice {
    fn name(&self) -> &str {
        "sub_twice"
    }
    fn forward(&self, x: &[ArrayViewD<'_, f64>], mut out: ArrayViewMutD<'_, f64>) -> Result<()> {
        Zip::from(&mut out)
            .and(&x[0])
            .and(&x[1])
            .for_each(|y, &a, &b| *y = a - 2.0 * b);
        Ok(())
    }
    fn backward(
        &self,
        _: &[ArrayViewD<'_, f64>],
        _: &ArrayViewD<'_, f64>,
        g: &ArrayViewD<'_, f64>,
        grads: &mut [Option<ArrayViewMutD<'_, f64>>],
    ) -> Result<()> {
        for (dst, factor) in grads.iter_mut().zip([1.0, -2.0]) {
            if let Some(dst) = dst {
                Zip::from(dst).and(g).for_each(|d, &g| *d = factor * g);
            }
        }
        Ok(())
    }
}

#[test]
fn var_custom_records_self_as_the_first_input() {
    let tape = Tape::<f64>::new();
    let a = tape.param(array![5.0, 1.0]);
    let b = tape.param(array![1.0, 2.0]);
    let y = a.custom(SubTwice, &[b]).unwrap();
    let z = tape.custom(SubTwice, &[a, b]).unwrap();
    assert_eq!(y.value(), array![3.0, -3.0].into_dyn());
    assert_eq!(y.value(), z.value());
    let g = y.sum().backward().unwrap();
    assert_eq!(g[a], array![1.0, 1.0].into_dyn());
    assert_eq!(g[b], array![-2.0, -2.0].into_dyn());
    check_grad("Var::custom", &[a.value(), b.value()], |_, v| {
        weighted_sum(v[0].custom(SubTwice, &[v[1]])?)
    });
}
