//! The piecewise ops (abs, clamp, maximum, minimum) and the helpers built on the tape (mse,
//! argmax): gradcheck in f64 away from the kinks (bound GRADCHECK_BOUND = 1e-6, see
//! tests/common/mod.rs), at random and at hand-picked points, and the exact subgradient each
//! documents at its kinks.

use crate::common::{assert_error, away_from_zero, check_grad, rng, uniform, weighted_sum};
use ndarray::{array, ArrayD, Ix2};
use rand::rngs::StdRng;
use rand::Rng;
use tapegrad_autograd::{Error, Tape, Var};

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
            weighted_sum(v[0].clamp(-0.5, 0.8)?.tanh().add(v[0].scale(0.1))?)
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
    let g = weighted(x.clamp(-1.0, 1.0).unwrap());
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
fn abs_gradient_matches_central_differences_at_hand_picked_points() {
    // |x| ≥ 0.2 everywhere, far beyond the step h = 1e-6.
    let m = array![[-1.3, 0.4, 2.1], [-0.2, 0.7, -2.5]].into_dyn();
    let v = array![0.3, -0.9, 1.6, -3.0].into_dyn();
    for x in [m, v] {
        check_grad("abs", &[x], |_, v| weighted_sum(v[0].abs()));
    }
}

#[test]
fn abs_subgradient_at_zero_is_zero() {
    let tape = Tape::<f64>::new();
    let x = tape.param(array![-2.0, 0.0, -0.0, 3.0]);
    let y = x.abs();
    assert_eq!(y.value(), array![2.0, 0.0, 0.0, 3.0].into_dyn());
    let g = y.scale(5.0).sum().backward().unwrap();
    assert_eq!(g[x], array![-5.0, 0.0, 0.0, 5.0].into_dyn());
}

#[test]
fn clamp_gradient_matches_central_differences_at_hand_picked_points() {
    // Inside and outside [-1, 1], every entry at least 0.1 from a bound.
    let x = array![[-1.7, -0.5, 0.3], [0.9, 1.4, 2.2]].into_dyn();
    check_grad("clamp", &[x], |_, v| weighted_sum(v[0].clamp(-1.0, 1.0)?));
}

#[test]
fn clamp_passes_the_gradient_at_its_bounds_inclusive() {
    let tiny = 1e-12;
    let tape = Tape::<f64>::new();
    let x = tape.param(array![-1.0, 1.0, -1.0 - tiny, 1.0 + tiny, 0.5]);
    let y = x.clamp(-1.0, 1.0).unwrap();
    assert_eq!(y.value(), array![-1.0, 1.0, -1.0, 1.0, 0.5].into_dyn());
    let g = y.scale(3.0).sum().backward().unwrap();
    // At lo and hi exactly: 1 (the interval is closed); just outside: 0.
    assert_eq!(g[x], array![3.0, 3.0, 0.0, 0.0, 3.0].into_dyn());
}

/// Operands whose entries all differ by at least 0.1: no ties, no kinks in reach of h.
fn distinct_pair() -> (ArrayD<f64>, ArrayD<f64>) {
    let a = array![[0.5, -1.2, 2.0], [1.1, 0.0, -0.4]].into_dyn();
    let b = array![[0.1, -0.3, 2.6], [1.5, -0.8, -1.9]].into_dyn();
    (a, b)
}

#[test]
fn maximum_gradient_matches_central_differences_on_distinct_values() {
    let (a, b) = distinct_pair();
    check_grad("maximum", &[a, b], |_, v| weighted_sum(v[0].maximum(v[1])?));
}

#[test]
fn minimum_gradient_matches_central_differences_on_distinct_values() {
    let (a, b) = distinct_pair();
    check_grad("minimum", &[a, b], |_, v| weighted_sum(v[0].minimum(v[1])?));
}

#[test]
fn maximum_and_minimum_broadcast_a_row_against_a_matrix_in_gradcheck() {
    // [n, h] against [h], both ways round; every pair of entries differs by at least 0.1.
    let m = array![
        [0.5, -1.2, 2.0, 0.9],
        [1.1, 0.0, -0.4, -2.2],
        [-0.7, 1.8, 0.3, 1.3]
    ];
    let r = array![0.2, -0.5, 0.75, -1.0];
    let (m, r) = (m.into_dyn(), r.into_dyn());
    for (name, first_is_matrix) in [("[n, h] vs [h]", true), ("[h] vs [n, h]", false)] {
        let inputs = if first_is_matrix {
            [m.clone(), r.clone()]
        } else {
            [r.clone(), m.clone()]
        };
        check_grad(&format!("maximum {name}"), &inputs, |_, v| {
            weighted_sum(v[0].maximum(v[1])?)
        });
        check_grad(&format!("minimum {name}"), &inputs, |_, v| {
            weighted_sum(v[0].minimum(v[1])?)
        });
    }
}

#[test]
fn maximum_and_minimum_send_the_whole_gradient_to_self_on_ties() {
    let tape = Tape::<f64>::new();
    let a = tape.param(array![2.0, 1.0, 3.0, 4.0]);
    let b = tape.param(array![2.0, 5.0, 3.0, 0.0]); // ties at 0 and 2
    let w = tape.constant(array![10.0, 20.0, 30.0, 40.0]);
    let grads = |y: Var<'_, f64>| {
        let g = y.mul(w).unwrap().sum().backward().unwrap();
        (g[a].clone(), g[b].clone())
    };

    let (ga, gb) = grads(a.maximum(b).unwrap());
    assert_eq!(ga, array![10.0, 0.0, 30.0, 40.0].into_dyn());
    assert_eq!(gb, array![0.0, 20.0, 0.0, 0.0].into_dyn());
    let (ga, gb) = grads(a.minimum(b).unwrap());
    assert_eq!(ga, array![10.0, 20.0, 30.0, 0.0].into_dyn());
    assert_eq!(gb, array![0.0, 0.0, 0.0, 40.0].into_dyn());
    // Swapped: the ties now go to b, which is self.
    let (ga, gb) = grads(b.maximum(a).unwrap());
    assert_eq!(ga, array![0.0, 0.0, 0.0, 40.0].into_dyn());
    assert_eq!(gb, array![10.0, 20.0, 30.0, 0.0].into_dyn());
    let (ga, gb) = grads(b.minimum(a).unwrap());
    assert_eq!(ga, array![0.0, 20.0, 0.0, 0.0].into_dyn());
    assert_eq!(gb, array![10.0, 0.0, 30.0, 40.0].into_dyn());
}

#[test]
fn maximum_broadcasts_a_row_and_sums_its_gradient_over_the_rows_with_ties_to_self() {
    let tape = Tape::<f64>::new();
    let m = tape.param(array![[1.0, 5.0, 2.0], [3.0, 0.0, 2.0]]); // [2, 3]
    let r = tape.param(array![2.0, 1.0, 2.0]); // [3]; ties in column 2
    let y = m.maximum(r).unwrap();
    assert_eq!(
        y.value(),
        array![[2.0, 5.0, 2.0], [3.0, 1.0, 2.0]].into_dyn()
    );
    let g = y.sum().backward().unwrap();
    assert_eq!(g[m], array![[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]].into_dyn());
    assert_eq!(g[r], array![1.0, 1.0, 0.0].into_dyn()); // one row each; ties went to m

    let y = r.minimum(m).unwrap(); // [3] first: r is self and takes the ties
    assert_eq!(y.shape(), vec![2, 3]);
    let g = y.sum().backward().unwrap();
    assert_eq!(g[r], array![1.0, 1.0, 2.0].into_dyn());
    assert_eq!(g[m], array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]].into_dyn());

    let wrong = tape.param(array![1.0, 2.0, 3.0, 4.0]);
    for e in [m.maximum(wrong).unwrap_err(), m.minimum(wrong).unwrap_err()] {
        assert!(matches!(e, Error::ShapeMismatch { lhs, rhs, .. } if lhs == [2, 3] && rhs == [4]));
    }
}

#[test]
fn mse_gradient_matches_central_differences_for_both_inputs() {
    let p = array![[0.5, -1.2], [2.0, 1.1], [0.0, -0.4]].into_dyn();
    let t = array![[0.3, 0.8], [-1.0, 1.6], [0.25, -2.0]].into_dyn();
    check_grad("mse", &[p, t], |_, v| v[0].mse(v[1]));
}

#[test]
fn mse_gradient_is_exactly_two_residuals_over_n() {
    // Dyadic values: every step of the computation is exact in f64.
    let p = array![[1.5, -2.0], [0.25, 4.0]];
    let t = array![[0.5, 1.0], [0.25, -4.0]];
    let n = p.len() as f64;
    let tape = Tape::<f64>::new();
    let (pv, tv) = (tape.param(p.clone()), tape.param(t.clone()));
    let loss = pv.mse(tv).unwrap();
    assert_eq!(loss.item().unwrap(), (1.0 + 9.0 + 0.0 + 64.0) / n);
    let mut g = loss.backward().unwrap();
    let expected = (&p - &t) * 2.0 / n;
    assert_eq!(g.take_as::<Ix2>(pv).unwrap(), expected);
    assert_eq!(g.take_as::<Ix2>(tv).unwrap(), -expected);
}

#[test]
fn mse_refuses_a_column_against_a_flat_target_instead_of_broadcasting() {
    let tape = Tape::<f64>::new();
    let pred = tape.param(array![[1.0], [2.0], [3.0]]); // [3, 1]
    let flat = tape.constant(array![1.0, 2.0, 3.0]); // [3]
    assert_eq!(pred.sub(flat).unwrap().shape(), vec![3, 3]); // what mse guards against
    let e = pred.mse(flat).unwrap_err();
    assert_eq!(
        e,
        Error::ShapeMismatch {
            op: "mse",
            lhs: vec![3, 1],
            rhs: vec![3],
            reason: "the prediction and the target must have the same shape".into(),
        }
    );
    assert_eq!(
        e.to_string(),
        "mse: shapes [3, 1] and [3] do not fit: the prediction and the target must have the same shape"
    );
    // The other way round too, and nothing was recorded by the refusals.
    let before = tape.len();
    assert!(matches!(
        flat.mse(pred),
        Err(Error::ShapeMismatch { op: "mse", .. })
    ));
    assert_eq!(tape.len(), before);
}

#[test]
fn argmax_takes_the_first_maximum_of_each_row_and_records_nothing() {
    let tape = Tape::<f64>::new();
    let z = tape.param(array![
        [1.0, 3.0, 3.0],
        [2.0, 2.0, 2.0],
        [-1.0, -5.0, -1.0],
        [0.0, 0.0, 7.0]
    ]);
    let before = tape.len();
    assert_eq!(z.argmax().unwrap(), vec![1, 0, 0, 2]);
    assert_eq!(tape.len(), before);
}

#[test]
fn argmax_of_a_1d_tensor_is_a_wrong_rank_error() {
    let tape = Tape::<f64>::new();
    let v = tape.constant(array![1.0, 5.0, 2.0]);
    let e = v.argmax().unwrap_err();
    assert_eq!(
        e,
        Error::WrongRank {
            op: "argmax",
            expected: 2,
            shape: vec![3],
        }
    );
    assert_eq!(
        e.to_string(),
        "argmax: expected a 2-D tensor, got shape [3]"
    );
}

/// relu, maximum and minimum propagate NaN as PyTorch and NumPy do, in their values and, so
/// that divergence shows, in their gradients; the other elements are unaffected.
#[test]
fn relu_maximum_and_minimum_propagate_nan_in_values_and_gradients() {
    let nan = f64::NAN;
    let tape = Tape::<f64>::new();
    let x = tape.param(array![nan, 1.5, -1.5]);
    let y = x.relu();
    let (v, g) = (y.value(), y.sum().backward().unwrap()[x].clone());
    assert!(
        v[0].is_nan() && g[0].is_nan(),
        "relu(NaN) = {}, gradient {}",
        v[0],
        g[0]
    );
    assert_eq!((v[1], v[2], g[1], g[2]), (1.5, 0.0, 1.0, 0.0));

    let a = tape.param(array![nan, 1.0, 2.0]);
    let b = tape.param(array![1.0, nan, 0.0]);
    let cases = [
        ("maximum(a, b)", a.maximum(b), 2.0),
        ("maximum(b, a)", b.maximum(a), 2.0),
        ("minimum(a, b)", a.minimum(b), 0.0),
        ("minimum(b, a)", b.minimum(a), 0.0),
    ];
    for (what, y, last) in cases {
        let y = y.unwrap();
        let v = y.value();
        assert!(v[0].is_nan() && v[1].is_nan(), "{what} = {v}");
        assert_eq!(v[2], last, "{what}");
        let g = y.sum().backward().unwrap();
        for (name, operand) in [("a", a), ("b", b)] {
            let d = &g[operand];
            assert!(d[0].is_nan() && d[1].is_nan(), "d {what} / d{name} = {d}");
        }
        assert_eq!(
            g[a][2] + g[b][2],
            1.0,
            "{what}: the ordered element goes to one side"
        );
    }
}
