//! Property tests over random shapes (a seeded `StdRng`, so every failure reproduces): the
//! tape's values and gradients against closed forms computed independently here with plain
//! index loops, and against `gradcheck` for random small shapes.

use crate::common::{check_grad, rng, uniform, weighted_sum, weights};
use approx::assert_relative_eq;
use ndarray::{ArrayD, Dimension, IxDyn};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use tapegrad_autograd::{Result, Tape, Var};

const CASES: usize = 60;

/// Element-wise `assert_relative_eq!` with a shape check.
fn assert_all_close(what: &str, actual: &ArrayD<f64>, expected: &ArrayD<f64>) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shapes differ");
    for (a, e) in actual.iter().zip(expected) {
        assert_relative_eq!(*a, *e, epsilon = 1e-12, max_relative = 1e-12);
    }
}

fn random_shape(r: &mut StdRng, max_rank: usize, max_dim: usize) -> Vec<usize> {
    let rank = r.random_range(0..=max_rank);
    (0..rank).map(|_| r.random_range(1..=max_dim)).collect()
}

#[test]
fn matmul_gradients_equal_g_bt_and_at_g_for_random_shapes() {
    let mut r = rng(100);
    for _ in 0..CASES {
        let (m, k, n) = (
            r.random_range(1..=9),
            r.random_range(1..=9),
            r.random_range(1..=9),
        );
        let a = uniform(&mut r, &[m, k], -2.0, 2.0);
        let b = uniform(&mut r, &[k, n], -2.0, 2.0);
        let g = uniform(&mut r, &[m, n], -2.0, 2.0);
        let tape = Tape::<f64>::new();
        let (va, vb) = (tape.param(a.clone()), tape.param(b.clone()));
        let c = va.matmul(vb).unwrap();
        // loss = Σ C ⊙ G, so dLoss/dC = G.
        let grads = c
            .mul(tape.constant(g.clone()))
            .unwrap()
            .sum()
            .backward()
            .unwrap();

        let (mut c_ref, mut da, mut db) = (
            ArrayD::zeros(vec![m, n]),
            ArrayD::zeros(vec![m, k]),
            ArrayD::zeros(vec![k, n]),
        );
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c_ref[[i, j].as_slice()] += a[[i, p].as_slice()] * b[[p, j].as_slice()];
                    da[[i, p].as_slice()] += g[[i, j].as_slice()] * b[[p, j].as_slice()]; // G Bᵀ
                    db[[p, j].as_slice()] += a[[i, p].as_slice()] * g[[i, j].as_slice()];
                    // Aᵀ G
                }
            }
        }
        let what = format!("matmul [{m},{k}]x[{k},{n}]");
        assert_all_close(&format!("{what} value"), &c.value(), &c_ref);
        assert_all_close(&format!("{what} dA"), &grads[va], &da);
        assert_all_close(&format!("{what} dB"), &grads[vb], &db);
    }
}

/// A random operand shape that broadcasts to `out`: some leading axes dropped, some axes 1.
fn operand_shape(r: &mut StdRng, out: &[usize]) -> Vec<usize> {
    let drop = r.random_range(0..=out.len());
    out[drop..]
        .iter()
        .map(|&d| if r.random_bool(0.35) { 1 } else { d })
        .collect()
}

/// The index of an operand of `shape` that output index `idx` reads (NumPy broadcasting,
/// written independently of the engine).
fn source_index(idx: &[usize], shape: &[usize]) -> Vec<usize> {
    let skip = idx.len() - shape.len();
    idx[skip..]
        .iter()
        .zip(shape)
        .map(|(&i, &d)| if d == 1 { 0 } else { i })
        .collect()
}

#[test]
fn broadcasting_binary_op_gradients_equal_the_reduced_closed_form() {
    let mut r = rng(101);
    type Op = for<'t> fn(Var<'t, f64>, Var<'t, f64>) -> Result<Var<'t, f64>>;
    // (name, op, f(a, b), df/da, df/db)
    type Scalar = fn(f64, f64) -> f64;
    let ops: [(&str, Op, Scalar, Scalar, Scalar); 4] = [
        ("add", |a, b| a.add(b), |a, b| a + b, |_, _| 1.0, |_, _| 1.0),
        (
            "sub",
            |a, b| a.sub(b),
            |a, b| a - b,
            |_, _| 1.0,
            |_, _| -1.0,
        ),
        ("mul", |a, b| a.mul(b), |a, b| a * b, |_, b| b, |a, _| a),
        (
            "div",
            |a, b| a.div(b),
            |a, b| a / b,
            |_, b| 1.0 / b,
            |a, b| -a / (b * b),
        ),
    ];
    for case in 0..CASES {
        let target = random_shape(&mut r, 4, 4);
        let (sa, sb) = (
            operand_shape(&mut r, &target),
            operand_shape(&mut r, &target),
        );
        // The result's shape: per axis from the end, the larger of the two (missing = 1).
        let rank = sa.len().max(sb.len());
        let dim = |s: &[usize], k: usize| s.len().checked_sub(rank - k).map_or(1, |j| s[j]);
        let out: Vec<usize> = (0..rank).map(|k| dim(&sa, k).max(dim(&sb, k))).collect();

        for (name, op, f, dfa, dfb) in ops {
            let a = uniform(&mut r, &sa, -2.0, 2.0);
            let b = uniform(&mut r, &sb, 0.5, 2.0); // positive: div is among the ops
            let g = uniform(&mut r, &out, -1.0, 1.0);
            let tape = Tape::<f64>::new();
            let (va, vb) = (tape.param(a.clone()), tape.param(b.clone()));
            let y = op(va, vb).unwrap();
            let grads = y
                .mul(tape.constant(g.clone()))
                .unwrap()
                .sum()
                .backward()
                .unwrap();

            let mut y_ref = ArrayD::zeros(IxDyn(&out));
            let (mut da, mut db) = (ArrayD::zeros(IxDyn(&sa)), ArrayD::zeros(IxDyn(&sb)));
            for idx in ndarray::indices(IxDyn(&out)) {
                let idx = idx.slice();
                let (ia, ib) = (source_index(idx, &sa), source_index(idx, &sb));
                let (x, z) = (a[ia.as_slice()], b[ib.as_slice()]);
                y_ref[idx] = f(x, z);
                da[ia.as_slice()] += g[idx] * dfa(x, z);
                db[ib.as_slice()] += g[idx] * dfb(x, z);
            }
            let what = format!("case {case}: {name} {sa:?} {sb:?} -> {out:?}");
            assert_all_close(&format!("{what} value"), &y.value(), &y_ref);
            assert_all_close(&format!("{what} d lhs"), &grads[va], &da);
            assert_all_close(&format!("{what} d rhs"), &grads[vb], &db);
        }
    }
}

#[test]
fn log_softmax_exponentiates_to_one_along_its_axis_for_random_shapes() {
    let mut r = rng(102);
    for _ in 0..CASES {
        let mut shape = random_shape(&mut r, 4, 6);
        if shape.is_empty() {
            shape.push(3);
        }
        let axis = r.random_range(0..shape.len());
        let scale = [1.0, 30.0, 300.0][r.random_range(0..3)];
        let x = uniform(&mut r, &shape, -scale, scale);
        let tape = Tape::<f64>::new();
        let v = tape.constant(x);
        let y = v.log_softmax(axis).unwrap().value();
        assert!(
            y.iter().all(|&l| l <= 0.0),
            "log-probabilities above 0: {y}"
        );
        for lane in y.lanes(ndarray::Axis(axis)) {
            let total: f64 = lane.iter().map(|l| l.exp()).sum();
            assert!(
                (total - 1.0).abs() < 1e-12,
                "{shape:?} axis {axis}: Σ exp = {total}"
            );
        }
        let p = v.softmax(axis).unwrap().value();
        assert_all_close("softmax = exp(log_softmax)", &p, &y.mapv(f64::exp));
    }
}

#[test]
fn sum_axis_value_and_gradient_equal_the_closed_form_for_random_shapes() {
    let mut r = rng(103);
    for _ in 0..CASES {
        let shape = random_shape(&mut r, 4, 5);
        if shape.is_empty() {
            continue;
        }
        let (axis, keepdims) = (r.random_range(0..shape.len()), r.random_bool(0.5));
        let x = uniform(&mut r, &shape, -2.0, 2.0);
        let tape = Tape::<f64>::new();
        let v = tape.param(x.clone());
        let s = v.sum_axis(axis, keepdims).unwrap();
        let grads = weighted_sum(s).unwrap().backward().unwrap();

        let mut kept = shape.clone();
        kept[axis] = 1;
        let mut s_ref = ArrayD::zeros(IxDyn(&kept));
        for (idx, &e) in x.indexed_iter() {
            let mut k = idx.slice().to_vec();
            k[axis] = 0;
            s_ref[k.as_slice()] += e;
        }
        // The gradient of Σ s ⊙ w is w broadcast back along the summed axis, exactly.
        let w = weights::<f64>(&kept);
        let mut g_ref = ArrayD::zeros(IxDyn(&shape));
        for (idx, e) in g_ref.indexed_iter_mut() {
            let mut k = idx.slice().to_vec();
            k[axis] = 0;
            *e = w[k.as_slice()];
        }
        if !keepdims {
            s_ref = s_ref.remove_axis(ndarray::Axis(axis));
        }
        assert_all_close("sum_axis value", &s.value(), &s_ref);
        assert_eq!(grads[v], g_ref, "sum_axis({axis}, {keepdims}) of {shape:?}");
    }
}

#[test]
fn permute_round_trips_and_its_gradient_is_the_inverse_permutation() {
    let mut r = rng(104);
    for _ in 0..CASES {
        let shape = random_shape(&mut r, 4, 4);
        let mut axes: Vec<usize> = (0..shape.len()).collect();
        axes.shuffle(&mut r);
        let mut inverse = vec![0; axes.len()];
        for (k, &a) in axes.iter().enumerate() {
            inverse[a] = k;
        }
        let x = uniform(&mut r, &shape, -2.0, 2.0);
        let tape = Tape::<f64>::new();
        let v = tape.param(x.clone());
        let p = v.permute(&axes).unwrap();
        assert_eq!(p.value(), x.clone().permuted_axes(IxDyn(&axes)));
        assert_eq!(
            p.permute(&inverse).unwrap().value(),
            x,
            "round trip {axes:?}"
        );
        let grads = weighted_sum(p).unwrap().backward().unwrap();
        // dLoss/dp = w, so dLoss/dx = w moved back by the inverse permutation.
        let w = weights::<f64>(&p.shape());
        assert_eq!(
            grads[v],
            w.permuted_axes(IxDyn(&inverse)),
            "{shape:?} {axes:?}"
        );
    }
}

#[test]
fn reshape_keeps_row_major_order_and_reshapes_the_gradient_back() {
    let mut r = rng(105);
    for _ in 0..CASES {
        let shape = random_shape(&mut r, 4, 4);
        let mut to = shape.clone();
        to.reverse();
        let x = uniform(&mut r, &shape, -2.0, 2.0);
        let tape = Tape::<f64>::new();
        // A transposed (column-major) leaf: reshape must follow logical, not memory, order.
        let v = tape.param(x.clone().reversed_axes());
        let y = v.reshape(&to).unwrap();
        let logical: Vec<f64> = x.clone().reversed_axes().iter().copied().collect();
        assert_eq!(y.value().iter().copied().collect::<Vec<_>>(), logical);
        let grads = weighted_sum(y).unwrap().backward().unwrap();
        let w = weights::<f64>(&to);
        let expected = ArrayD::from_shape_vec(IxDyn(&to), w.iter().copied().collect())
            .unwrap()
            .into_shape_with_order(IxDyn(&v.shape()))
            .unwrap();
        assert_eq!(grads[v], expected, "{shape:?} -> {to:?}");
    }
}

/// One random op on one tensor, for the random gradcheck below.
fn random_op<'t>(choice: usize, axis: usize, keep: bool, x: Var<'t, f64>) -> Result<Var<'t, f64>> {
    Ok(match choice {
        0 => x.tanh().mul(x.exp())?,
        1 => x.sigmoid().square(),
        2 => x.square().add_scalar(1.0).sqrt().log(),
        3 => x.sum_axis(axis, keep)?.tanh(),
        4 => x.square().mean_axis(axis, keep)?,
        5 => x.log_softmax(axis)?,
        6 => x.softmax(axis)?,
        7 => x.tanh().transpose().neg(),
        _ => x.relu().add(x.scale(0.3))?, // leaky relu; inputs stay away from 0
    })
}

#[test]
fn random_small_shapes_match_gradcheck() {
    let mut r = rng(106);
    for case in 0..CASES {
        let mut shape = random_shape(&mut r, 3, 4);
        if shape.is_empty() {
            shape.push(2);
        }
        let axis = r.random_range(0..shape.len());
        shape[axis] = shape[axis].max(2); // softmax over one class has no gradient
        let (choice, keep) = (r.random_range(0..9), r.random_bool(0.5));
        let x = crate::common::away_from_zero(&mut r, &shape, 0.2, 2.0);
        let name = format!("case {case}: op {choice} axis {axis} keepdims {keep} on {shape:?}");
        check_grad(&name, &[x], |_, v| {
            weighted_sum(random_op(choice, axis, keep, v[0])?)
        });
    }
}
