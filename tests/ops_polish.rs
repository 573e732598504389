//! The ops and API added in d1efa91: `abs`, `clamp`, `maximum`, `minimum`, `mse`, `argmax`,
//! `Gradients::take_as` and `Debug`, `Var::custom`, and parameters recorded from `&Arc`.
//!
//! Every differentiable op is gradchecked in f64 against central differences with the bound
//! [`GRADCHECK_BOUND`] = 1e-6 on the relative error, at inputs away from its kinks (abs away
//! from 0, clamp away from `lo` and `hi`, maximum/minimum on distinct values); the output is
//! reduced with distinct weights so a rule that permutes or mis-broadcasts the gradient cannot
//! pass by symmetry. At the kinks the tests pin the exact subgradient the docs promise.

use std::sync::Arc;

use ndarray::{array, Array1, Array2, ArrayD, Ix1, Ix2, IxDyn};
use tapegrad::autograd::{gradcheck, CustomOp, Error, Result, Tape, Var};

/// Largest relative error (per input, against its largest gradient entry) a gradcheck may show.
const GRADCHECK_BOUND: f64 = 1e-6;

/// `Σ_k w_k v_k` with fixed weights that differ in size and sign from element to element.
fn weighted_sum(v: Var<'_, f64>) -> Result<Var<'_, f64>> {
    let shape = v.shape();
    let len = shape.iter().product::<usize>();
    let w = (0..len)
        .map(|k| if k % 2 == 0 { 1.0 } else { -1.0 } * (0.75 + 0.5 * k as f64))
        .collect();
    let w = ArrayD::from_shape_vec(IxDyn(&shape), w).expect("len elements");
    Ok(v.mul(v.tape().constant(w))?.sum())
}

/// Gradchecks `f` at `inputs` against [`GRADCHECK_BOUND`], and checks that every input gets a
/// nonzero gradient somewhere (so the comparison is not vacuous).
fn check(
    name: &str,
    inputs: &[ArrayD<f64>],
    f: impl for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Result<Var<'t, f64>>,
) {
    let report = gradcheck(inputs, &f).unwrap();
    for (k, e) in report.relative_errors.iter().enumerate() {
        assert!(
            *e < GRADCHECK_BOUND,
            "{name}: input {k}: relative error {e:e} ({report:?})"
        );
    }
    let tape = Tape::new();
    let vars: Vec<_> = inputs.iter().map(|x| tape.param(x.clone())).collect();
    let grads = f(&tape, &vars).unwrap().backward().unwrap();
    for (k, &v) in vars.iter().enumerate() {
        assert!(
            grads.wrt(v).unwrap().iter().any(|&g| g != 0.0),
            "{name}: input {k} has an all-zero gradient: the check would be vacuous"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// abs

#[test]
fn abs_gradient_matches_central_differences_away_from_zero() {
    // |x| ≥ 0.2 everywhere, far beyond the step h = 1e-6.
    let m = array![[-1.3, 0.4, 2.1], [-0.2, 0.7, -2.5]].into_dyn();
    let v = array![0.3, -0.9, 1.6, -3.0].into_dyn();
    for x in [m, v] {
        check("abs", &[x], |_, v| weighted_sum(v[0].abs()));
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

// ---------------------------------------------------------------------------------------------
// clamp

#[test]
fn clamp_gradient_matches_central_differences_away_from_the_bounds() {
    // Inside and outside [-1, 1], every entry at least 0.1 from a bound.
    let x = array![[-1.7, -0.5, 0.3], [0.9, 1.4, 2.2]].into_dyn();
    check("clamp", &[x], |_, v| weighted_sum(v[0].clamp(-1.0, 1.0)));
}

#[test]
fn clamp_passes_the_gradient_at_its_bounds_inclusive() {
    let tiny = 1e-12;
    let tape = Tape::<f64>::new();
    let x = tape.param(array![-1.0, 1.0, -1.0 - tiny, 1.0 + tiny, 0.5]);
    let y = x.clamp(-1.0, 1.0);
    assert_eq!(y.value(), array![-1.0, 1.0, -1.0, 1.0, 0.5].into_dyn());
    let g = y.scale(3.0).sum().backward().unwrap();
    // At lo and hi exactly: 1 (the interval is closed); just outside: 0.
    assert_eq!(g[x], array![3.0, 3.0, 0.0, 0.0, 3.0].into_dyn());
}

// ---------------------------------------------------------------------------------------------
// maximum, minimum

/// Operands whose entries all differ by at least 0.1: no ties, no kinks in reach of h.
fn distinct_pair() -> (ArrayD<f64>, ArrayD<f64>) {
    let a = array![[0.5, -1.2, 2.0], [1.1, 0.0, -0.4]].into_dyn();
    let b = array![[0.1, -0.3, 2.6], [1.5, -0.8, -1.9]].into_dyn();
    (a, b)
}

#[test]
fn maximum_gradient_matches_central_differences_on_distinct_values() {
    let (a, b) = distinct_pair();
    check("maximum", &[a, b], |_, v| weighted_sum(v[0].maximum(v[1])?));
}

#[test]
fn minimum_gradient_matches_central_differences_on_distinct_values() {
    let (a, b) = distinct_pair();
    check("minimum", &[a, b], |_, v| weighted_sum(v[0].minimum(v[1])?));
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
        check(&format!("maximum {name}"), &inputs, |_, v| {
            weighted_sum(v[0].maximum(v[1])?)
        });
        check(&format!("minimum {name}"), &inputs, |_, v| {
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

// ---------------------------------------------------------------------------------------------
// mse

#[test]
fn mse_gradient_matches_central_differences_for_both_inputs() {
    let p = array![[0.5, -1.2], [2.0, 1.1], [0.0, -0.4]].into_dyn();
    let t = array![[0.3, 0.8], [-1.0, 1.6], [0.25, -2.0]].into_dyn();
    check("mse", &[p, t], |_, v| v[0].mse(v[1]));
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
    assert_eq!(loss.item(), (1.0 + 9.0 + 0.0 + 64.0) / n);
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

// ---------------------------------------------------------------------------------------------
// argmax

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

// ---------------------------------------------------------------------------------------------
// Gradients: take_as, Debug

#[test]
fn take_as_returns_the_typed_gradient() {
    let tape = Tape::<f64>::new();
    let w = tape.param(array![[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]]);
    let b = tape.param(array![1.0, 2.0, 3.0]);
    let mut g = w.add(b).unwrap().square().sum().backward().unwrap();
    let dw: Array2<f64> = g.take_as::<Ix2>(w).unwrap();
    let db: Array1<f64> = g.take_as::<Ix1>(b).unwrap();
    assert_eq!(dw, array![[4.0, 0.0, 12.0], [3.0, 4.0, 4.0]]);
    assert_eq!(db, array![7.0, 4.0, 16.0]);
    assert!(g.get(w).is_none() && g.get(b).is_none()); // moved out
}

#[test]
fn take_as_with_the_wrong_dimensionality_is_a_wrong_rank_error() {
    let tape = Tape::<f64>::new();
    let w = tape.param(Array2::<f64>::ones((2, 3)));
    let mut g = w.sum().backward().unwrap();
    let e = g.take_as::<Ix1>(w).unwrap_err();
    assert_eq!(
        e,
        Error::WrongRank {
            op: "gradient lookup",
            expected: 1,
            shape: vec![2, 3],
        }
    );
    assert_eq!(
        e.to_string(),
        "gradient lookup: expected a 1-D tensor, got shape [2, 3]"
    );
}

#[test]
fn take_as_any_dimensionality_is_always_accepted() {
    let tape = Tape::<f64>::new();
    let w = tape.param(Array2::<f64>::ones((2, 3)));
    let mut g = w.sum().backward().unwrap();
    assert_eq!(g.take_as::<IxDyn>(w).unwrap().shape(), &[2, 3]);
}

#[test]
fn take_as_on_a_constant_is_a_no_gradient_error() {
    let tape = Tape::<f64>::new();
    let w = tape.param(array![1.0, 2.0]);
    let x = tape.constant(array![3.0, 4.0]);
    let mut g = w.mul(x).unwrap().sum().backward().unwrap();
    let e = g.take_as::<Ix1>(x).unwrap_err();
    assert_eq!(
        e,
        Error::NoGradient {
            index: 1,
            what: "constant".into(),
            reason: "record it with Tape::param to get one",
        }
    );
    // A second take of a taken gradient says the same kind of thing, not a panic.
    g.take_as::<Ix1>(w).unwrap();
    assert!(matches!(
        g.take_as::<Ix1>(w),
        Err(Error::NoGradient { index: 0, .. })
    ));
}

#[test]
fn take_as_with_a_variable_of_another_tape_is_a_foreign_variable_error() {
    let (tape, other) = (Tape::<f64>::new(), Tape::<f64>::new());
    let w = tape.param(array![1.0]);
    let stranger = other.param(array![1.0]);
    let mut g = w.sum().backward().unwrap();
    assert!(matches!(
        g.take_as::<Ix1>(stranger),
        Err(Error::ForeignVariable { .. })
    ));
}

#[test]
fn gradients_debug_lists_the_indices_and_shapes_of_the_gradients_held() {
    let tape = Tape::<f64>::new();
    let w = tape.param(Array2::<f64>::ones((2, 3))); // #0
    let x = tape.constant(Array1::<f64>::ones(3)); // #1: a constant, no gradient
    let b = tape.param(Array1::<f64>::zeros(3)); // #2
    let s = tape.param(ndarray::arr0(2.0)); // #3: 0-D
    let unused = tape.param(array![1.0]); // #4: not in the loss
    let loss = w.mul(x).unwrap().add(b).unwrap().mul(s).unwrap().sum();
    let mut g = loss.backward().unwrap();
    assert_eq!(format!("{g:?}"), "{#0: [2, 3], #2: [3], #3: []}");
    assert!(g.get(unused).is_none());
    g.take(w);
    assert_eq!(format!("{g:?}"), "{#2: [3], #3: []}");
}

// ---------------------------------------------------------------------------------------------
// Var::custom

/// `a - 2b`: not symmetric, so the order of the inputs shows.
struct SubTwice;

impl CustomOp<f64> for SubTwice {
    fn name(&self) -> &str {
        "sub_twice"
    }
    fn forward(&self, x: &[ndarray::ArrayViewD<'_, f64>]) -> Result<ArrayD<f64>> {
        Ok(&x[0] - &(&x[1] * 2.0))
    }
    fn backward(
        &self,
        _: &[ndarray::ArrayViewD<'_, f64>],
        _: &ndarray::ArrayViewD<'_, f64>,
        g: &ndarray::ArrayViewD<'_, f64>,
    ) -> Result<Vec<ArrayD<f64>>> {
        Ok(vec![g.to_owned(), g * -2.0])
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
    check("Var::custom", &[a.value(), b.value()], |_, v| {
        weighted_sum(v[0].custom(SubTwice, &[v[1]])?)
    });
}

// ---------------------------------------------------------------------------------------------
// tape.param(&Arc)

#[test]
fn param_from_a_reference_to_an_arc_shares_the_data_without_copying() {
    let w = Arc::new(array![[1.0, 2.0], [3.0, 4.0]]);
    let x = Arc::new(array![0.5, -0.5]);
    let mut tape = Tape::<f64>::new();
    {
        let wv = tape.param(&w);
        let xv = tape.constant(&x);
        assert_eq!(Arc::strong_count(&w), 2);
        assert_eq!(Arc::strong_count(&x), 2);
        // The tape reads the caller's buffer itself.
        assert_eq!(wv.with_value(|v| v.as_ptr()), w.as_ptr());
        assert_eq!(xv.with_value(|v| v.as_ptr()), x.as_ptr());
        let _again = tape.param(&w); // each recording is one more reference, still no copy
        assert_eq!(Arc::strong_count(&w), 3);
        let g = wv.add(xv).unwrap().sum().backward().unwrap();
        assert_eq!(g[wv], ndarray::Array2::<f64>::ones((2, 2)).into_dyn());
    }
    tape.clear();
    assert_eq!(Arc::strong_count(&w), 1);
    assert_eq!(Arc::strong_count(&x), 1);
}

#[test]
fn updates_through_make_mut_after_clear_do_not_copy() {
    let mut w = Arc::new(Array2::<f64>::ones((3, 2)));
    let data = w.as_ptr();
    let mut tape = Tape::<f64>::new();
    for _ in 0..3 {
        let dw = {
            let wv = tape.param(&w);
            let mut g = wv.square().add_scalar(1.0).sum().backward().unwrap();
            g.take_as::<Ix2>(wv).unwrap()
        };
        tape.clear();
        Arc::make_mut(&mut w).scaled_add(-0.25, &dw); // w -= 0.25 · 2w
        assert_eq!(w.as_ptr(), data, "make_mut copied the parameter");
    }
    assert_eq!(Arc::strong_count(&w), 1);
    assert_eq!(*w, Array2::from_elem((3, 2), 0.125)); // 1 · (1/2)³: the updates landed
}

#[test]
fn make_mut_before_clear_copies_so_the_pointer_check_can_see_a_copy() {
    // The control for the test above: while the tape still shares `w`, make_mut must copy.
    let mut w = Arc::new(Array2::<f64>::zeros((3, 2)));
    let data = w.as_ptr();
    let tape = Tape::<f64>::new();
    let _wv = tape.param(&w);
    Arc::make_mut(&mut w).fill(1.0);
    assert_ne!(w.as_ptr(), data);
    assert_eq!(Arc::strong_count(&w), 1); // w now owns a fresh copy; the tape has the old one
}
