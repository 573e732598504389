//! Every op of the tape against central differences (`gradcheck`), in f64.
//!
//! Each check reduces the op's output with fixed, all-different weights (`weighted_sum`), so
//! the gradient flowing into the op differs from element to element and a rule that
//! transposes, permutes or mis-broadcasts it cannot pass by symmetry. The bound is
//! `GRADCHECK_BOUND` = 1e-6 on the relative error (see tests/common/mod.rs); `check_grad` also
//! fails if an input's gradient is ~0, which would make the comparison vacuous.

use std::slice::from_ref;

use crate::common::{away_from_zero, check_grad, rng, uniform, weighted_sum};
use ndarray::{array, ArrayD};
use tapegrad_autograd::{Result, Tape, Var};

/// Shapes for the elementwise ops: a matrix, 1x1, a single row, 3-D, 1-D and 0-D.
const UNARY_SHAPES: &[&[usize]] = &[&[3, 4], &[1, 1], &[1, 5], &[2, 3, 2], &[4], &[]];

/// Gradchecks `f` on each of [`UNARY_SHAPES`], with inputs drawn by `draw`.
fn check_unary(
    name: &str,
    draw: impl Fn(&mut rand::rngs::StdRng, &[usize]) -> ArrayD<f64>,
    f: impl for<'t> Fn(Var<'t, f64>) -> Var<'t, f64>,
) {
    let mut r = rng(7);
    for shape in UNARY_SHAPES {
        let x = draw(&mut r, shape);
        check_grad(&format!("{name} {shape:?}"), &[x], |_, v| {
            weighted_sum(f(v[0]))
        });
    }
}

fn any_sign(r: &mut rand::rngs::StdRng, s: &[usize]) -> ArrayD<f64> {
    uniform(r, s, -2.0, 2.0)
}

fn positive(r: &mut rand::rngs::StdRng, s: &[usize]) -> ArrayD<f64> {
    uniform(r, s, 0.5, 3.0)
}

#[test]
fn matmul_gradient_matches_central_differences() {
    let mut r = rng(1);
    // Includes a square lhs, 1x1, a single row, an outer product (k = 1), a single column.
    for (m, k, n) in [
        (3, 4, 5),
        (3, 3, 4),
        (1, 1, 1),
        (1, 4, 3),
        (3, 1, 2),
        (2, 5, 1),
        (6, 2, 6),
    ] {
        let a = uniform(&mut r, &[m, k], -2.0, 2.0);
        let b = uniform(&mut r, &[k, n], -2.0, 2.0);
        check_grad(&format!("matmul [{m},{k}]x[{k},{n}]"), &[a, b], |_, v| {
            weighted_sum(v[0].matmul(v[1])?)
        });
    }
}

/// Operand shape pairs for the broadcasting binary ops; each is also checked swapped.
const BROADCAST_PAIRS: &[(&[usize], &[usize])] = &[
    (&[4, 3], &[3]),       // [n, h] + [h]: a bias added to every row
    (&[4, 1], &[4, 3]),    // [n, 1] * [n, c]: a per-row factor
    (&[1, 3], &[4, 3]),    // [1, c] - [n, c]
    (&[4, 3], &[1]),       // scalar-like [1]
    (&[4, 3], &[]),        // 0-D
    (&[2, 1, 4], &[3, 1]), // 3-D, both operands stretched: [2, 3, 4]
    (&[1, 3, 1], &[2, 1, 4]),
    (&[2, 3, 4], &[3, 4]),
    (&[3, 4], &[3, 4]), // no broadcasting
    (&[1, 1], &[1, 1]),
    (&[1, 5], &[5]), // a single row
];

type BinaryOp = for<'t> fn(Var<'t, f64>, Var<'t, f64>) -> Result<Var<'t, f64>>;

/// Gradchecks `op` on every pair of [`BROADCAST_PAIRS`] in both orders. The right operand is
/// drawn by `rhs` (positive for `div`).
fn check_broadcasting(
    name: &str,
    op: BinaryOp,
    rhs: fn(&mut rand::rngs::StdRng, &[usize]) -> ArrayD<f64>,
) {
    let mut r = rng(3);
    for &(p, q) in BROADCAST_PAIRS {
        for (sa, sb) in [(p, q), (q, p)] {
            let a = uniform(&mut r, sa, -2.0, 2.0);
            let b = rhs(&mut r, sb);
            check_grad(&format!("{name} {sa:?} {sb:?}"), &[a, b], |_, v| {
                weighted_sum(op(v[0], v[1])?)
            });
        }
    }
}

#[test]
fn add_with_broadcasting_gradient_matches_central_differences() {
    check_broadcasting("add", |a, b| a.add(b), any_sign);
}

#[test]
fn sub_with_broadcasting_gradient_matches_central_differences() {
    check_broadcasting("sub", |a, b| a.sub(b), any_sign);
}

#[test]
fn mul_with_broadcasting_gradient_matches_central_differences() {
    check_broadcasting("mul", |a, b| a.mul(b), any_sign);
}

#[test]
fn div_with_broadcasting_gradient_matches_central_differences() {
    check_broadcasting("div", |a, b| a.div(b), positive);
}

#[test]
fn neg_gradient_matches_central_differences() {
    check_unary("neg", any_sign, |x| x.neg());
}

#[test]
fn scale_gradient_matches_central_differences() {
    check_unary("scale", any_sign, |x| x.scale(-2.5));
}

#[test]
fn add_scalar_gradient_matches_central_differences() {
    check_unary("add_scalar", any_sign, |x| x.add_scalar(1.75).square());
}

#[test]
fn relu_gradient_matches_central_differences_away_from_zero() {
    check_unary("relu", |r, s| away_from_zero(r, s, 0.1, 2.0), |x| x.relu());
}

#[test]
fn relu_subgradient_at_zero_is_zero() {
    // Exactly 0 and -0 get gradient 0 (the subgradient the two-layer-net document uses);
    // positive entries pass the upstream gradient through, negative ones block it.
    let tape = Tape::<f64>::new();
    let x = tape.param(array![[0.0, -0.0, 1e-300, -1e-300], [0.0, 2.0, -3.0, 0.0]]);
    let w = tape.constant(array![[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]);
    let y = x.relu();
    let grads = y.mul(w).unwrap().sum().backward().unwrap();
    assert_eq!(
        y.value(),
        array![[0.0, 0.0, 1e-300, 0.0], [0.0, 2.0, 0.0, 0.0]].into_dyn()
    );
    assert_eq!(
        grads[x],
        array![[0.0, 0.0, 3.0, 0.0], [0.0, 6.0, 0.0, 0.0]].into_dyn()
    );

    let tape = Tape::<f32>::new();
    let x = tape.param(array![0.0f32, -0.0, 0.5]);
    let grads = x.relu().sum().backward().unwrap();
    assert_eq!(grads[x], array![0.0f32, 0.0, 1.0].into_dyn());
}

#[test]
fn leaky_relu_gradient_matches_central_differences_away_from_zero() {
    check_unary(
        "leaky_relu",
        |r, s| away_from_zero(r, s, 0.1, 2.0),
        |x| x.leaky_relu(0.2),
    );
}

#[test]
fn exp_gradient_matches_central_differences() {
    check_unary("exp", any_sign, |x| x.exp());
}

#[test]
fn log_gradient_matches_central_differences_on_positive_inputs() {
    check_unary("log", positive, |x| x.log());
}

#[test]
fn tanh_gradient_matches_central_differences() {
    check_unary("tanh", any_sign, |x| x.tanh());
}

#[test]
fn sigmoid_gradient_matches_central_differences() {
    check_unary("sigmoid", |r, s| uniform(r, s, -6.0, 6.0), |x| x.sigmoid());
}

#[test]
fn square_gradient_matches_central_differences() {
    check_unary("square", any_sign, |x| x.square());
}

#[test]
fn sqrt_gradient_matches_central_differences_on_positive_inputs() {
    check_unary("sqrt", positive, |x| x.sqrt());
}

#[test]
fn sum_mean_and_sum_squares_gradients_match_central_differences() {
    let mut r = rng(11);
    for shape in [&[3, 4][..], &[1, 1], &[2, 3, 4], &[5], &[]] {
        let x = uniform(&mut r, shape, -2.0, 2.0);
        // The square makes the gradient depend on x, so a wrong constant factor shows.
        let name = format!("sum {shape:?}");
        check_grad(&name, from_ref(&x), |_, v| {
            Ok(v[0].square().sum().scale(0.7))
        });
        let name = format!("mean {shape:?}");
        check_grad(&name, from_ref(&x), |_, v| {
            Ok(v[0].square().mean().scale(0.7))
        });
        let name = format!("sum_squares {shape:?}");
        check_grad(&name, &[x], |_, v| Ok(v[0].tanh().sum_squares().scale(0.7)));
    }
}

#[test]
fn sum_axis_and_mean_axis_gradients_match_central_differences_on_every_axis() {
    let mut r = rng(12);
    for shape in [&[3, 4][..], &[2, 3, 4], &[1, 4], &[1, 1], &[5]] {
        for axis in 0..shape.len() {
            for keepdims in [false, true] {
                let x = uniform(&mut r, shape, -2.0, 2.0);
                let name = format!("sum_axis({axis}, {keepdims}) {shape:?}");
                check_grad(&name, from_ref(&x), |_, v| {
                    weighted_sum(v[0].sum_axis(axis, keepdims)?)
                });
                let name = format!("mean_axis({axis}, {keepdims}) {shape:?}");
                check_grad(&name, &[x], |_, v| {
                    weighted_sum(v[0].mean_axis(axis, keepdims)?)
                });
            }
        }
    }
}

#[test]
fn log_softmax_and_softmax_gradients_match_central_differences_on_every_axis() {
    let mut r = rng(13);
    for shape in [&[3, 4][..], &[2, 3, 4], &[1, 5], &[5, 1], &[4]] {
        for axis in (0..shape.len()).filter(|&a| shape[a] > 1) {
            let x = uniform(&mut r, shape, -3.0, 3.0);
            let name = format!("log_softmax({axis}) {shape:?}");
            check_grad(&name, from_ref(&x), |_, v| {
                weighted_sum(v[0].log_softmax(axis)?)
            });
            let name = format!("softmax({axis}) {shape:?}");
            check_grad(&name, &[x], |_, v| weighted_sum(v[0].softmax(axis)?));
        }
    }
}

#[test]
fn log_softmax_along_a_length_one_axis_is_zero_with_zero_gradient() {
    // One class: log_softmax is identically 0, so its gradient is exactly 0.
    let tape = Tape::<f64>::new();
    let x = tape.param(array![[1.5], [-2.0], [30.0]]);
    let y = x.log_softmax(1).unwrap();
    assert_eq!(y.value(), ArrayD::<f64>::zeros(vec![3, 1]));
    let grads = weighted_sum(y).unwrap().backward().unwrap();
    assert_eq!(grads[x], ArrayD::<f64>::zeros(vec![3, 1]));
}

#[test]
fn cross_entropy_and_pick_gradients_match_central_differences() {
    let mut r = rng(14);
    let cases: [(&[usize], &[usize]); 4] = [
        (&[4, 3], &[2, 0, 1, 2]),
        (&[1, 5], &[3]),
        (&[3, 2], &[1, 1, 0]),
        (&[2, 6], &[5, 0]),
    ];
    for (shape, labels) in cases {
        let z = uniform(&mut r, shape, -3.0, 3.0);
        let name = format!("cross_entropy {shape:?} {labels:?}");
        check_grad(&name, from_ref(&z), |_, v| v[0].cross_entropy(labels));
        // pick alone has a gradient of 0 off the labels: square first, so the values matter.
        let name = format!("pick {shape:?} {labels:?}");
        check_grad(&name, &[z], |_, v| {
            weighted_sum(v[0].square().pick(labels)?)
        });
    }
    let z = array![[0.7]].into_dyn();
    check_grad("pick [1, 1]", &[z], |_, v| {
        weighted_sum(v[0].square().pick(&[0])?)
    });
}

#[test]
fn reshape_gradient_matches_central_differences() {
    let mut r = rng(15);
    let cases: [(&[usize], &[usize]); 6] = [
        (&[2, 6], &[3, 4]),
        (&[3, 4], &[12]),
        (&[2, 3, 4], &[4, 6]),
        (&[12], &[2, 2, 3]),
        (&[1, 1], &[]),
        (&[1, 5], &[5, 1]),
    ];
    for (from, to) in cases {
        let x = uniform(&mut r, from, -2.0, 2.0);
        // Something elementwise on each side, so the reshape sits between two rules.
        check_grad(&format!("reshape {from:?} -> {to:?}"), &[x], |_, v| {
            weighted_sum(v[0].tanh().reshape(to)?.square())
        });
    }
}

#[test]
fn transpose_and_permute_gradients_match_central_differences() {
    let mut r = rng(16);
    for shape in [&[3, 4][..], &[1, 5], &[1, 1], &[2, 3, 4]] {
        let x = uniform(&mut r, shape, -2.0, 2.0);
        check_grad(&format!("transpose {shape:?}"), &[x], |_, v| {
            weighted_sum(v[0].square().transpose())
        });
    }
    let perms = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for axes in perms {
        let x = uniform(&mut r, &[2, 3, 4], -2.0, 2.0);
        check_grad(&format!("permute {axes:?} of [2, 3, 4]"), &[x], |_, v| {
            weighted_sum(v[0].square().permute(&axes)?)
        });
    }
}

#[test]
fn fan_out_of_one_variable_accumulates_correctly_under_gradcheck() {
    let mut r = rng(17);
    let x = uniform(&mut r, &[3, 3], -2.0, 2.0);
    // x used twice by different ops, then the same var on both sides of mul and matmul.
    check_grad("x*x + x", from_ref(&x), |_, v| {
        weighted_sum(v[0].mul(v[0])?.add(v[0])?)
    });
    check_grad("tanh(x) * exp(x) - x", from_ref(&x), |_, v| {
        weighted_sum(v[0].tanh().mul(v[0].exp())?.sub(v[0])?)
    });
    check_grad("x.matmul(x)", from_ref(&x), |_, v| {
        weighted_sum(v[0].matmul(v[0])?)
    });
    let y = uniform(&mut r, &[2, 3], -2.0, 2.0);
    check_grad("y.matmul(yᵀ)", &[y], |_, v| {
        weighted_sum(v[0].matmul(v[0].transpose())?)
    });
    check_grad("x.matmul(x).matmul(x) / x", &[x + 3.0], |_, v| {
        weighted_sum(v[0].matmul(v[0])?.matmul(v[0])?.div(v[0])?)
    });
}

#[test]
fn two_layer_net_loss_gradient_matches_central_differences_for_every_input() {
    let mut r = rng(18);
    let x = uniform(&mut r, &[5, 4], -1.0, 1.0);
    let w1 = uniform(&mut r, &[4, 6], -1.0, 1.0);
    let b1 = uniform(&mut r, &[6], -0.5, 0.5);
    let w2 = uniform(&mut r, &[6, 3], -1.0, 1.0);
    let b2 = uniform(&mut r, &[3], -0.5, 0.5);
    check_grad("two-layer net", &[x, w1, b1, w2, b2], |_, v| {
        let h = v[0].matmul(v[1])?.add(v[2])?.relu();
        let scores = h.matmul(v[3])?.add(v[4])?;
        let reg = v[1].square().sum().add(v[3].square().sum())?.scale(0.05);
        scores.cross_entropy(&[0, 2, 1, 1, 0])?.add(reg)
    });
}

#[test]
fn layer_norm_composite_gradient_matches_central_differences() {
    // mean_axis/keepdims broadcasting, sub, square, add_scalar, sqrt, div and mul in one graph.
    let mut r = rng(19);
    let x = uniform(&mut r, &[3, 5], -2.0, 2.0);
    let gamma = uniform(&mut r, &[5], 0.5, 1.5);
    check_grad("layer norm", &[x, gamma], |_, v| {
        let mu = v[0].mean_axis(1, true)?;
        let centred = v[0].sub(mu)?;
        let var = centred.square().mean_axis(1, true)?;
        let normed = centred.div(var.add_scalar(1e-5).sqrt())?;
        weighted_sum(normed.mul(v[1])?.sigmoid())
    });
}
