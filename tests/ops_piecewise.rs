//! The piecewise ops (abs, clamp, maximum, minimum) and the helpers built on the tape (mse,
//! argmax, Gradients::take_as): gradcheck in f64 away from the kinks (bound GRADCHECK_BOUND =
//! 1e-6, see tests/common/mod.rs), and the exact subgradient each documents at its kinks.

mod common;

use common::{assert_error, away_from_zero, check_grad, rng, uniform, weighted_sum};
use ndarray::{array, Array2, ArrayD, Ix1, Ix2};
use rand::rngs::StdRng;
use rand::Rng;
use tapegrad::autograd::{Error, Tape, Var};

const SHAPES: &[&[usize]] = &[&[3, 4], &[1, 1], &[1, 5], &[2, 3, 2], &[]];

#[test]
fn abs_gradient_matches_central_differences_away_from_zero() {
    let mut r = rng(600);
    for shape in SHAPES {
        let x = away_from_zero(&mut r, shape, 0.1, 2.0);
        check_grad(&format!("abs {shape:?}"), &[x], |_, v| {
            weighted_sum(v[0].abs())
        });
    }
}

/// Values at least 0.05 away from both clamp bounds (-0.5 and 0.8), on both sides of each.
fn away_from_bounds(r: &mut StdRng, shape: &[usize]) -> ArrayD<f64> {
    let bands = [(-2.0, -0.55), (-0.45, 0.75), (0.85, 2.0)];
    ArrayD::from_shape_simple_fn(shape, || {
        let (lo, hi) = bands[r.random_range(0..3)];
        r.random_range(lo..hi)
    })
}

#[test]
fn clamp_gradient_matches_central_differences_away_from_the_bounds() {
    let mut r = rng(601);
    for shape in SHAPES {
        let x = away_from_bounds(&mut r, shape);
        // tanh after clamp, so the gradient inside the band depends on x; plus 0.1·x, so a
        // single element outside the band still has a gradient to compare.
        check_grad(&format!("clamp {shape:?}"), &[x], |_, v| {
            weighted_sum(v[0].clamp(-0.5, 0.8).tanh().add(v[0].scale(0.1))?)
        });
    }
}

#[test]
fn maximum_and_minimum_with_broadcasting_match_central_differences_away_from_ties() {
    let mut r = rng(602);
    let pairs: [(&[usize], &[usize]); 5] = [
        (&[4, 3], &[3]),
        (&[4, 1], &[4, 3]),
        (&[2, 1, 4], &[3, 1]),
        (&[3, 4], &[]),
        (&[1, 1], &[1, 1]),
    ];
    for (sa, sb) in pairs {
        // Entries drawn on a grid of step 0.1 plus a distinct offset per operand: no two
        // entries of a and b are within 0.01 of each other, far beyond gradcheck's step.
        let grid = |r: &mut StdRng, s: &[usize], off: f64| {
            ArrayD::from_shape_simple_fn(s, || f64::from(r.random_range(-20..20)) * 0.1 + off)
        };
        let (a, b) = (grid(&mut r, sa, 0.03), grid(&mut r, sb, 0.07));
        check_grad(
            &format!("maximum {sa:?} {sb:?}"),
            &[a.clone(), b.clone()],
            // Plus a·b, so a losing operand still has a gradient to compare.
            |_, v| weighted_sum(v[0].maximum(v[1])?.square().add(v[0].mul(v[1])?)?),
        );
        check_grad(&format!("minimum {sa:?} {sb:?}"), &[a, b], |_, v| {
            weighted_sum(v[0].minimum(v[1])?.square().add(v[0].mul(v[1])?)?)
        });
    }
}

#[test]
fn piecewise_ops_take_their_documented_subgradient_at_the_kinks() {
    let tape = Tape::<f64>::new();
    let w = tape.constant(array![1.0, 2.0, 3.0, 4.0]);
    let weighted = |y: Var<'_, f64>| y.mul(w).unwrap().sum().backward().unwrap();
    // abs: sign(x), 0 at 0 (and at -0).
    let x = tape.param(array![-2.0, 0.0, -0.0, 3.0]);
    assert_eq!(weighted(x.abs())[x], array![-1.0, 0.0, 0.0, 4.0].into_dyn());
    // clamp(-1, 1): 1 on the closed band [lo, hi], including both bounds.
    let x = tape.param(array![-1.0, 1.0, 1.5, -3.0]);
    let g = weighted(x.clamp(-1.0, 1.0));
    assert_eq!(g[x], array![1.0, 2.0, 0.0, 0.0].into_dyn());
    // maximum / minimum: on ties the left operand takes the whole gradient.
    let a = tape.param(array![1.0, 2.0, 5.0, 0.0]);
    let b = tape.param(array![1.0, 3.0, 4.0, 0.0]);
    let g = weighted(a.maximum(b).unwrap());
    assert_eq!(g[a], array![1.0, 0.0, 3.0, 4.0].into_dyn());
    assert_eq!(g[b], array![0.0, 2.0, 0.0, 0.0].into_dyn());
    let g = weighted(a.minimum(b).unwrap());
    assert_eq!(g[a], array![1.0, 2.0, 0.0, 4.0].into_dyn());
    assert_eq!(g[b], array![0.0, 0.0, 3.0, 0.0].into_dyn());
}

#[test]
fn mse_gradient_matches_central_differences_and_refuses_to_broadcast() {
    let mut r = rng(603);
    let (p, t) = (
        uniform(&mut r, &[4, 3], -2.0, 2.0),
        uniform(&mut r, &[4, 3], -2.0, 2.0),
    );
    check_grad("mse", &[p, t], |_, v| v[0].mse(v[1]));

    let tape = Tape::<f64>::new();
    let y = tape.param(array![1.0, 2.0]);
    let column = tape.constant(array![[0.0], [4.0]]);
    assert_error(
        y.mse(column),
        Error::ShapeMismatch {
            op: "mse",
            lhs: vec![2],
            rhs: vec![2, 1],
            reason: "the prediction and the target must have the same shape".into(),
        },
        "mse: shapes [2] and [2, 1] do not fit: the prediction and the target must have the \
         same shape",
    );
}

#[test]
fn argmax_picks_the_first_largest_column_of_each_row() {
    let tape = Tape::<f32>::new();
    let z = tape.constant(array![
        [0.1f32, 2.0, -1.0],
        [3.0, 3.0, 0.0],
        [-5.0, -4.0, -4.0]
    ]);
    assert_eq!(z.argmax().unwrap(), vec![1, 0, 1]);
    let before = tape.len();
    let v = tape.constant(array![1.0f32, 2.0]);
    assert_error(
        v.argmax(),
        Error::WrongRank {
            op: "argmax",
            expected: 2,
            shape: vec![2],
        },
        "argmax: expected a 2-D tensor, got shape [2]",
    );
    assert_eq!(tape.len(), before + 1, "argmax records nothing");
}

#[test]
fn take_as_moves_the_gradient_out_with_its_dimensionality_or_says_why_not() {
    let tape = Tape::<f64>::new();
    let w = tape.param(array![[1.0, 2.0], [3.0, 4.0]]);
    let c = tape.constant(array![1.0]);
    let loss = w.square().sum();
    let mut grads = loss.backward().unwrap();
    let dw: Array2<f64> = grads.take_as::<Ix2>(w).unwrap();
    assert_eq!(dw, array![[2.0, 4.0], [6.0, 8.0]]);
    assert!(grads.get(w).is_none(), "moved out");
    assert!(matches!(
        grads.take_as::<Ix1>(c),
        Err(Error::NoGradient { index: 1, .. })
    ));
    let mut grads = loss.backward().unwrap();
    assert_error(
        grads.take_as::<Ix1>(w),
        Error::WrongRank {
            op: "gradient lookup",
            expected: 1,
            shape: vec![2, 2],
        },
        "gradient lookup: expected a 1-D tensor, got shape [2, 2]",
    );
}

#[test]
fn take_as_with_the_wrong_dimensionality_leaves_the_gradient_in_place() {
    let tape = Tape::<f64>::new();
    let w = tape.param(array![[1.0, 2.0], [3.0, 4.0]]);
    let mut grads = w.square().sum().backward().unwrap();
    assert!(grads.take_as::<Ix1>(w).is_err());
    // The caller can retry with the right dimensionality.
    let dw = grads
        .take_as::<Ix2>(w)
        .expect("the gradient is still there");
    assert_eq!(dw, array![[2.0, 4.0], [6.0, 8.0]]);
}
