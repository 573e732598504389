//! User-defined ops through `CustomOp`: checked with gradcheck like the built-in ones,
//! including an op where only some inputs need gradients; and the errors of ops that break
//! the contract (variant and full message).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{
    assert_close, assert_error, check_grad, rng, uniform, weighted_sum, FOREIGN, GRADCHECK_BOUND,
};
use ndarray::{array, ArrayD, ArrayViewD, Zip};
use tapegrad::autograd::{gradcheck, CustomOp, Error, Result, Tape};

/// `softplus(x) = ln(1 + eˣ)`, computed without overflow; `d/dx = σ(x)`.
struct Softplus;

impl CustomOp<f64> for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }
    fn forward(&self, inputs: &[ArrayViewD<'_, f64>]) -> Result<ArrayD<f64>> {
        Ok(inputs[0].mapv(|x| x.max(0.0) + (-x.abs()).exp().ln_1p()))
    }
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
    ) -> Result<Vec<ArrayD<f64>>> {
        Ok(vec![grad * &inputs[0].mapv(|x| 1.0 / (1.0 + (-x).exp()))])
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
    fn forward(&self, inputs: &[ArrayViewD<'_, f64>]) -> Result<ArrayD<f64>> {
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
        Ok(array![total / inputs[0].len() as f64].into_dyn())
    }
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
    ) -> Result<Vec<ArrayD<f64>>> {
        self.backward_calls.fetch_add(1, Ordering::SeqCst);
        let g = grad.iter().next().copied().unwrap_or(0.0) / inputs[0].len() as f64;
        let mut dp = inputs[0].to_owned();
        Zip::from(&mut dp)
            .and(&inputs[1])
            .for_each(|p, &t| *p = g * self.slope(*p - t));
        let dt = dp.mapv(|v| -v);
        Ok(vec![dp, dt])
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
    fn forward(&self, inputs: &[ArrayViewD<'_, f64>]) -> Result<ArrayD<f64>> {
        Softplus.forward(inputs)
    }
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
    ) -> Result<Vec<ArrayD<f64>>> {
        Ok(vec![
            grad * &inputs[0].mapv(|x| (1.0 / (1.0 + (-x).exp())).powi(2)),
        ])
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

/// Custom ops that break the contract in one way each.
enum Faulty {
    /// backward returns one gradient for two inputs.
    Count,
    /// backward returns a gradient of the wrong shape.
    Shape,
    /// forward refuses its inputs.
    Forward,
}

impl CustomOp<f64> for Faulty {
    fn name(&self) -> &str {
        "faulty"
    }
    fn forward(&self, inputs: &[ArrayViewD<'_, f64>]) -> Result<ArrayD<f64>> {
        match self {
            Faulty::Forward => Err(Error::CustomOp {
                op: "faulty".into(),
                message: "inputs must be positive".into(),
            }),
            _ => Ok(inputs[0].to_owned()),
        }
    }
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
    ) -> Result<Vec<ArrayD<f64>>> {
        Ok(match self {
            Faulty::Shape => inputs
                .iter()
                .map(|x| ArrayD::zeros(vec![x.len()]))
                .collect(),
            _ => vec![grad.to_owned()],
        })
    }
}

#[test]
fn custom_op_backward_returning_the_wrong_number_of_gradients_is_a_custom_op_error() {
    let tape = Tape::<f64>::new();
    let (a, b) = (
        tape.param(ArrayD::zeros(vec![2, 3])),
        tape.param(ArrayD::zeros(vec![2, 3])),
    );
    let y = tape.custom(Faulty::Count, &[a, b]).unwrap();
    assert_error(
        y.sum().backward(),
        Error::CustomOp {
            op: "faulty".into(),
            message: "backward returned 1 gradient for 2 inputs".into(),
        },
        "faulty: backward returned 1 gradient for 2 inputs",
    );
}

#[test]
fn custom_op_backward_returning_a_wrong_shape_is_a_custom_op_error() {
    let tape = Tape::<f64>::new();
    let a = tape.param(ArrayD::zeros(vec![2, 3]));
    let y = tape.custom(Faulty::Shape, &[a]).unwrap();
    assert_error(
        y.sum().backward(),
        Error::CustomOp {
            op: "faulty".into(),
            message: "backward returned a gradient of shape [6] for input 0 of shape [2, 3]".into(),
        },
        "faulty: backward returned a gradient of shape [6] for input 0 of shape [2, 3]",
    );
}

#[test]
fn custom_op_forward_error_is_returned_and_records_nothing() {
    let tape = Tape::<f64>::new();
    let a = tape.param(ArrayD::zeros(vec![2]));
    assert_error(
        tape.custom(Faulty::Forward, &[a]),
        Error::CustomOp {
            op: "faulty".into(),
            message: "inputs must be positive".into(),
        },
        "faulty: inputs must be positive",
    );
    assert_eq!(tape.len(), 1);
}

#[test]
fn variables_of_another_tape_in_a_custom_op_are_foreign() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let a = t1.param(ArrayD::zeros(vec![2]));
    let b = t2.param(ArrayD::zeros(vec![2]));
    assert_error(
        t1.custom(Faulty::Count, &[a, b]),
        Error::ForeignVariable { op: "custom op" },
        &format!("custom op: {FOREIGN}"),
    );
}

/// `Σ (a - b)²` that computes only the gradients it is asked for, recording which.
struct SquaredDistance {
    asked: Arc<std::sync::Mutex<Vec<bool>>>,
    skip_needed: bool,
}

impl CustomOp<f64> for SquaredDistance {
    fn name(&self) -> &str {
        "squared_distance"
    }
    fn forward(&self, inputs: &[ArrayViewD<'_, f64>]) -> Result<ArrayD<f64>> {
        let d = &inputs[0] - &inputs[1];
        Ok(ndarray::arr0(d.mapv(|v| v * v).sum()).into_dyn())
    }
    fn backward(
        &self,
        _inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        _grad: &ArrayViewD<'_, f64>,
    ) -> Result<Vec<ArrayD<f64>>> {
        unreachable!("the engine calls backward_needed, which this op implements")
    }
    fn backward_needed(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
        needs: &[bool],
    ) -> Result<Vec<Option<ArrayD<f64>>>> {
        *self.asked.lock().unwrap() = needs.to_vec();
        let g = grad.iter().next().copied().unwrap_or(0.0);
        let d = &inputs[0] - &inputs[1];
        // d/da = 2g(a - b), d/db = -2g(a - b); computed only where needed.
        let da = (needs[0] && !self.skip_needed).then(|| d.mapv(|v| 2.0 * g * v));
        let db = needs[1].then(|| d.mapv(|v| -2.0 * g * v));
        Ok(vec![da, db])
    }
}

#[test]
fn backward_needed_is_told_which_inputs_need_gradients_and_may_skip_the_rest() {
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tape = Tape::<f64>::new();
    let a = tape.param(array![1.0, 4.0]);
    let target = tape.constant(array![0.0, 1.0]);
    let op = SquaredDistance {
        asked: Arc::clone(&asked),
        skip_needed: false,
    };
    let g = a.custom(op, &[target]).unwrap().backward().unwrap();
    // Only `a` needs a gradient: the constant target's share is never computed.
    assert_eq!(*asked.lock().unwrap(), vec![true, false]);
    assert_eq!(g[a], array![2.0, 6.0].into_dyn()); // 2(a - b)
    assert!(g.get(target).is_none());
}

#[test]
fn backward_needed_leaving_out_a_needed_gradient_is_a_custom_op_error() {
    let tape = Tape::<f64>::new();
    let a = tape.param(array![1.0]);
    let b = tape.constant(array![0.0]);
    let op = SquaredDistance {
        asked: Arc::default(),
        skip_needed: true,
    };
    let err = a.custom(op, &[b]).unwrap().backward().unwrap_err();
    assert_eq!(
        err,
        Error::CustomOp {
            op: "squared_distance".into(),
            message: "backward returned no gradient for input 0, which needs one".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "squared_distance: backward returned no gradient for input 0, which needs one"
    );
}
