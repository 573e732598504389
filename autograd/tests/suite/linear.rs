//! `linear_relu` and `linear`: the fused layers `relu(x · W + b)` and `x · W + b` give the
//! values and gradients of `x.matmul(w)?.add(b)?.relu()` and `x.matmul(w)?.add(b)?` bit for bit
//! (NaN included), pass a gradient check, and refuse operands that do not fit with errors
//! naming the op and the shapes.

use crate::common::{assert_error, away_from_zero, check_grad, rng, weighted_sum};
use ndarray::{ArrayD, IxDyn};
use rand::Rng;
use tapegrad_autograd::{Element, Error, Result, Tape, Var};

/// Value and gradients (x, W, b) of `Σ weights ⊙ layer`, fused or as separate ops, rectified
/// or not.
fn layer<T: Element>(
    fused: bool,
    relu: bool,
    (x, w, b): (&ArrayD<T>, &ArrayD<T>, &ArrayD<T>),
) -> [ArrayD<T>; 4] {
    let tape = Tape::<T>::new();
    let (xv, wv, bv) = (
        tape.param(x.clone()),
        tape.param(w.clone()),
        tape.param(b.clone()),
    );
    let y = match (fused, relu) {
        (true, true) => xv.linear_relu(wv, bv).unwrap(),
        (true, false) => xv.linear(wv, bv).unwrap(),
        (false, true) => xv.matmul(wv).unwrap().add(bv).unwrap().relu(),
        (false, false) => xv.matmul(wv).unwrap().add(bv).unwrap(),
    };
    let g = weighted_sum(y).unwrap().backward().unwrap();
    [y.value(), g[xv].clone(), g[wv].clone(), g[bv].clone()]
}

fn random<T: Element>(seed: u64, shape: &[usize]) -> ArrayD<T> {
    let mut r = rng(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(r.random_range(-1.0..1.0)))
}

fn same_bits<T: Element>(n: usize, d: usize, h: usize) {
    let (x, w, mut b) = (
        random::<T>(1, &[n, d]),
        random::<T>(2, &[d, h]),
        random::<T>(3, &[h]),
    );
    // A NaN bias makes a whole column NaN, whose gradient must be NaN as relu's is.
    if h > 2 {
        b[[1]] = T::nan();
    }
    for relu in [true, false] {
        let operands = (&x, &w, &b);
        let (fused, plain) = (layer(true, relu, operands), layer(false, relu, operands));
        for (k, (f, p)) in fused.iter().zip(&plain).enumerate() {
            let what = ["value", "dx", "dW", "db"][k];
            let bits = |a: &ArrayD<T>| a.iter().map(|v| v.as_f64().to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(f),
                bits(p),
                "{} {n}x{d}x{h}, relu {relu}: {what}",
                T::NAME
            );
        }
    }
}

#[test]
fn fused_layers_give_the_separate_ops_values_and_gradients_bit_for_bit() {
    // The bias and rectifier are applied as the kernel finishes each panel of the product:
    // no inner dimension, several depth blocks, both threads (128 x 784 x 800), ragged edges.
    for (n, d, h) in [
        (1, 1, 1),
        (3, 5, 4),
        (7, 0, 5),
        (37, 29, 53),
        (64, 64, 100),
        (300, 520, 33),
        (128, 784, 800),
    ] {
        same_bits::<f32>(n, d, h);
        same_bits::<f64>(n, d, h);
    }
}

#[test]
fn fused_layers_pass_the_gradient_check() {
    let mut r = rng(11);
    // Inputs away from zero and a bias that keeps most pre-activations away from relu's kink.
    let inputs = [
        away_from_zero(&mut r, &[4, 3], 0.2, 1.0),
        away_from_zero(&mut r, &[3, 5], 0.2, 1.0),
        away_from_zero(&mut r, &[5], 0.5, 1.5),
    ];
    check_grad("linear_relu", &inputs, |_, v| {
        weighted_sum(v[0].linear_relu(v[1], v[2])?)
    });
    check_grad("linear", &inputs, |_, v| {
        weighted_sum(v[0].linear(v[1], v[2])?)
    });
}

#[test]
fn operands_that_do_not_fit_are_refused_naming_the_op_and_shapes() {
    for relu in [true, false] {
        refused(relu);
    }
}

fn refused(relu: bool) {
    let name = if relu { "linear_relu" } else { "linear" };
    fn layer<'t>(
        relu: bool,
        x: Var<'t, f64>,
        w: Var<'t, f64>,
        b: Var<'t, f64>,
    ) -> Result<Var<'t, f64>> {
        if relu {
            x.linear_relu(w, b)
        } else {
            x.linear(w, b)
        }
    }
    let tape = Tape::<f64>::new();
    let x = tape.constant(ArrayD::zeros(IxDyn(&[2, 3])));
    let w = tape.param(ArrayD::zeros(IxDyn(&[4, 5])));
    let b = tape.param(ArrayD::zeros(IxDyn(&[5])));
    assert_error(
        layer(relu, x, w, b),
        Error::ShapeMismatch {
            op: name,
            lhs: vec![2, 3],
            rhs: vec![4, 5],
            reason: "the inner dimensions differ (3 vs 4)".into(),
        },
        &format!(
            "{name}: shapes [2, 3] and [4, 5] do not fit: the inner dimensions differ (3 vs 4)"
        ),
    );
    let w = tape.param(ArrayD::zeros(IxDyn(&[3, 5])));
    let short = tape.param(ArrayD::zeros(IxDyn(&[4])));
    assert_error(
        layer(relu, x, w, short),
        Error::ShapeMismatch {
            op: name,
            lhs: vec![3, 5],
            rhs: vec![4],
            reason: "the bias needs one value per column of the weights (5), it has 4".into(),
        },
        &format!(
            "{name}: shapes [3, 5] and [4] do not fit: the bias needs one value per column of \
             the weights (5), it has 4"
        ),
    );
    let matrix = tape.param(ArrayD::zeros(IxDyn(&[1, 5])));
    assert!(matches!(
        layer(relu, x, w, matrix),
        Err(Error::WrongRank {
            op,
            expected: 1,
            ..
        }) if op == name
    ));
}
