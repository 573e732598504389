//! Numerical behaviour: log_softmax / cross_entropy stay finite and accurate for huge logits,
//! and f32 tapes agree with f64 tapes to f32 precision.

use crate::common::{assert_close, rng, to_f64, uniform, weighted_sum};
use ndarray::{array, ArrayD, Axis};
use tapegrad_autograd::{Element, Tape, Var};

/// log_softmax along axis 1 the textbook-stable way, in f64: `(x - m) - ln Σ exp(x - m)`.
fn shifted_log_softmax(x: &ArrayD<f64>) -> ArrayD<f64> {
    let mut out = x.clone();
    for mut row in out.lanes_mut(Axis(1)) {
        let m = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let lse = row.iter().map(|&v| (v - m).exp()).sum::<f64>().ln();
        row.mapv_inplace(|v| (v - m) - lse);
    }
    out
}

/// The gradient of mean cross-entropy: `(softmax(z) - onehot(y)) / n`, from the shifted form.
fn cross_entropy_grad(z: &ArrayD<f64>, labels: &[usize]) -> ArrayD<f64> {
    let n = labels.len() as f64;
    let mut g = shifted_log_softmax(z).mapv(f64::exp);
    for (i, &y) in labels.iter().enumerate() {
        g[[i, y].as_slice()] -= 1.0;
    }
    g / n
}

/// Runs log_softmax and cross_entropy on `z` in `T`; asserts finite values and gradients that
/// match the shifted f64 computation within `tol` (absolute, or relative to the larger value).
fn check_huge_logits<T: Element>(z: ArrayD<f64>, labels: &[usize], tol: f64) {
    let what = format!("{} logits {z}", T::NAME);
    let tape = Tape::<T>::new();
    let x = tape.param(z.mapv(T::cast));
    let ls = x.log_softmax(1).unwrap();
    let loss = x.cross_entropy(labels).unwrap();
    let grads = loss.backward().unwrap();
    let (ls, g) = (to_f64(&ls.value()), to_f64(&grads[x]));
    assert!(ls.iter().all(|v| v.is_finite()), "{what}: log_softmax {ls}");
    assert!(
        loss.item().unwrap().as_f64().is_finite(),
        "{what}: loss {}",
        loss.item().unwrap()
    );
    assert!(g.iter().all(|v| v.is_finite()), "{what}: gradient {g}");

    let zr = z.mapv(|v| T::cast(v).as_f64()); // the logits the tape actually saw
    let expected = shifted_log_softmax(&zr);
    assert_close(&format!("{what}: log_softmax"), &ls, &expected, tol);
    let expected_loss = -labels
        .iter()
        .enumerate()
        .map(|(i, &y)| expected[[i, y].as_slice()])
        .sum::<f64>()
        / labels.len() as f64;
    let l = array![loss.item().unwrap().as_f64()].into_dyn();
    assert_close(
        &format!("{what}: loss"),
        &l,
        &array![expected_loss].into_dyn(),
        tol,
    );
    assert_close(
        &format!("{what}: gradient"),
        &g,
        &cross_entropy_grad(&zr, labels),
        tol,
    );
}

#[test]
fn log_softmax_and_cross_entropy_of_logits_1e4_are_finite_and_match_shifted_computation() {
    let z = array![
        [1e4, 0.0, -1e4],
        [-1e4, -1e4, -1e4 + 1.0],
        [1e4, 1e4 - 2.0, 5.0],
        [-1e4, 1e4, 0.0]
    ]
    .into_dyn();
    let labels = [2, 2, 1, 0];
    // f64: rounding at magnitude 1e4 is about 1e4 · 2⁻⁵³ ≈ 1e-12.
    check_huge_logits::<f64>(z.clone(), &labels, 1e-9);
    // f32: ulp(1e4) ≈ 1e-3, the log-sum-exp of each row is rounded at that scale.
    check_huge_logits::<f32>(z, &labels, 2e-3);
}

#[test]
fn log_softmax_and_cross_entropy_of_logits_1e30_in_f64_are_finite_and_match_shifted_computation() {
    // Distinct maxima per row: the shifted form and the tape agree to rounding.
    let z = array![[1e30, 0.0, -1e30], [-1e30, 1e30, 1.0], [3.0, -1e30, 1e30]].into_dyn();
    check_huge_logits::<f64>(z, &[0, 2, 1], 1e-12);
}

#[test]
fn log_softmax_of_tied_logits_1e30_matches_shifted_computation() {
    // [1e30, 1e30] has log_softmax [-ln 2, -ln 2]. The engine computes x - (m + ln Σ) and
    // m + ln 2 rounds to m, giving [0, 0]: softmax sums to 2, and the cross-entropy gradient
    // is [0, 1] instead of [-0.5, 0.5].
    check_huge_logits::<f64>(array![[1e30, 1e30, -1e30]].into_dyn(), &[0], 1e-12);
    // The same in f32 at 1e8 (ulp 8).
    check_huge_logits::<f32>(array![[1e8, 1e8, 0.0]].into_dyn(), &[0], 1e-6);
}

#[test]
fn softmax_and_sigmoid_of_huge_inputs_are_finite() {
    let tape = Tape::<f64>::new();
    let x = tape.param(array![[1e30, -1e30, 0.0], [-1e4, 1e4, 1e4 - 1.0]]);
    let p = x.softmax(1).unwrap();
    let s = x.sigmoid();
    let grads = weighted_sum(p)
        .unwrap()
        .add(weighted_sum(s).unwrap())
        .unwrap();
    let grads = grads.backward().unwrap();
    assert_eq!(
        s.value(),
        array![[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]].into_dyn()
    );
    // Row 1 is softmax([-1e4, 1e4, 1e4 - 1]) = [0, 1/(1+e⁻¹), e⁻¹/(1+e⁻¹)]. The tolerance is
    // the engine's: it computes x - (m + ln Σ), rounded at ulp(1e4) ≈ 2e-12 (see the ignored
    // tied-logits test above); the shifted form would be accurate to 1e-16.
    let e = (-1f64).exp();
    let expected = array![[1.0, 0.0, 0.0], [0.0, 1.0 / (1.0 + e), e / (1.0 + e)]].into_dyn();
    assert_close("softmax", &p.value(), &expected, 1e-11);
    assert!(grads[x].iter().all(|g| g.is_finite()), "{}", grads[x]);
}

/// A representative computation: matmul, broadcasting add/mul/div/sub, relu, tanh, sigmoid,
/// exp, log, sqrt, sum_axis, mean_axis, permute, reshape, log_softmax and cross_entropy.
fn representative<'t, T: Element>(v: &[Var<'t, T>]) -> Var<'t, T> {
    let (x, w1, b1, w2, b2) = (v[0], v[1], v[2], v[3], v[4]);
    let h = x.matmul(w1).unwrap().add(b1).unwrap().relu();
    let s = h.tanh().mul(h.sigmoid()).unwrap();
    let norm = s
        .square()
        .mean_axis(1, true)
        .unwrap()
        .add_scalar(T::cast(1.0))
        .sqrt();
    let s = s
        .div(norm)
        .unwrap()
        .add(h.exp().add_scalar(T::cast(1.0)).log())
        .unwrap();
    let scores = s.matmul(w2).unwrap().sub(b2).unwrap();
    let t = scores.permute(&[1, 0]).unwrap().reshape(&[3, 8]).unwrap();
    let aux = t
        .sum_axis(0, false)
        .unwrap()
        .square()
        .mean()
        .scale(T::cast(0.01));
    scores
        .cross_entropy(&[0, 1, 2, 1, 0, 2, 2, 1])
        .unwrap()
        .add(aux)
        .unwrap()
}

/// Loss and gradients of [`representative`] at `inputs`, computed in `T`, as f64.
fn run<T: Element>(inputs: &[ArrayD<f64>]) -> (f64, Vec<ArrayD<f64>>) {
    let tape = Tape::<T>::new();
    let vars: Vec<_> = inputs.iter().map(|a| tape.param(a.mapv(T::cast))).collect();
    let loss = representative(&vars);
    let grads = loss.backward().unwrap();
    let g = vars.iter().map(|&v| to_f64(&grads[v])).collect();
    (loss.item().unwrap().as_f64(), g)
}

#[test]
fn f32_tape_matches_f64_tape_to_f32_precision() {
    let mut r = rng(300);
    let inputs = [
        uniform(&mut r, &[8, 5], -1.0, 1.0),
        uniform(&mut r, &[5, 6], -1.0, 1.0),
        uniform(&mut r, &[6], -0.5, 0.5),
        uniform(&mut r, &[6, 3], -1.0, 1.0),
        uniform(&mut r, &[3], -0.5, 0.5),
    ];
    let (loss64, g64) = run::<f64>(&inputs);
    let (loss32, g32) = run::<f32>(&inputs);
    // The inputs themselves are rounded to f32 (relative 2⁻²⁴ ≈ 6e-8) and so is every op's
    // result, while f64's rounding is 1e9 times smaller, so f64 is the reference. About 15 ops
    // deep with sums of at most 8 terms, the errors add up to a few 1e-7 of the values' scale
    // (2e-7 measured); 1e-5 leaves a 50x margin, while a wrong rule or an f32-only code path
    // that differs from the f64 one is off by far more.
    let tol = 1e-5;
    assert!(
        (loss32 - loss64).abs() <= tol * loss64.abs(),
        "loss {loss32} vs {loss64}"
    );
    for (k, (a, b)) in g32.iter().zip(&g64).enumerate() {
        // Relative to the input's largest gradient entry: entries that nearly cancel in f64
        // carry f32's absolute rounding error, not a relative one.
        let scale = b.iter().fold(0f64, |m, v| m.max(v.abs()));
        assert!(scale > 1e-3, "input {k}: gradient ~0 would prove nothing");
        let worst = a.iter().zip(b).fold(0f64, |m, (x, y)| m.max((x - y).abs())) / scale;
        eprintln!("input {k}: f32 vs f64 gradient differs by {worst:.1e} of its scale");
        assert_close(&format!("input {k} gradient"), a, b, tol * scale);
    }
    // And f32 really is computed in f32: not bit-identical to the f64 result.
    assert_ne!(loss32, loss64);
}

/// The L2 term of a large f32 weight matrix stays accurate: `sum_squares` adds blocks of 128
/// squares in f32 (all positive: nothing cancels) and the blocks in f64, `sum` accumulates in
/// f64, where a plain sequential f32 sum of the 3,145,728 squares of a 3072x1024
/// matrix drifts by about 1e-3 relative (0.3% was measured on the peers' large shape).
#[test]
fn sum_of_squares_of_a_large_f32_matrix_is_accurate() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let w = ndarray::Array2::<f32>::from_shape_simple_fn((3072, 1024), || {
        rng.random_range(-0.03f32..0.03)
    });
    let exact: f64 = w.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let naive: f32 = w.iter().fold(0.0f32, |s, &v| s + v * v);
    let tape = tapegrad_autograd::Tape::<f32>::new();
    let x = tape.param(w);
    let (squares, plain) = (
        x.sum_squares().item().unwrap(),
        x.square().sum().item().unwrap(),
    );
    let rel = |v: f32| (f64::from(v) - exact).abs() / exact;
    // One f32 rounding of the result is 6e-8 relative; allow a few.
    assert!(rel(squares) < 2e-7, "sum_squares off by {:e}", rel(squares));
    assert!(rel(plain) < 2e-7, "square().sum() off by {:e}", rel(plain));
    // The naive sum shows what the f64 accumulation prevents.
    assert!(
        rel(naive) > 1e-5,
        "naive f32 sum unexpectedly accurate ({:e})",
        rel(naive)
    );
}

/// A long sum splits its halves between two threads: the pairwise tree is the same, so are the
/// bits, however many threads rayon has.
#[test]
fn long_sums_are_the_same_bits_on_one_thread_and_on_two() {
    use rand::Rng;
    let mut r = rng(5);
    let x =
        ndarray::Array1::from_shape_fn((1 << 19) + 37, |_| r.random_range(-1.0f32..1.0)).into_dyn();
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                tapegrad_autograd::sum_f64(&x.view()),
                tapegrad_autograd::sum_squares_f64(&x.view()),
            )
        })
    };
    let (one, two) = (on(1), on(2));
    assert_eq!(one.0.to_bits(), two.0.to_bits(), "sum");
    assert_eq!(one.1.to_bits(), two.1.to_bits(), "sum of squares");
}

/// 100,000 values alternating ±1e8, each plus a small value in [0, 0.002): the sum (≈ 100)
/// is what is left after the large values cancel.
fn cancelling_values() -> ndarray::Array1<f64> {
    use rand::Rng;
    let mut r = rng(17);
    ndarray::Array1::from_shape_fn(100_000, |k| {
        let large = if k % 2 == 0 { 1e8 } else { -1e8 };
        large + r.random_range(0.0..0.002)
    })
}

/// The exact sum of [`cancelling_values`], up to ~1e-12: each pair `x[2i] + x[2i+1]` is exact
/// (the two are within a factor 2 of each other, Sterbenz), and the small pair sums add up
/// without cancellation.
fn pairs_then_sum(x: &ndarray::Array1<f64>) -> f64 {
    x.exact_chunks(2).into_iter().map(|p| p[0] + p[1]).sum()
}

/// Sums of values that cancel lose no more than pairwise summation must: the engine's `sum`,
/// `mean` and `sum_axis` (along a contiguous row and along a strided column) are within 1e-5
/// relative of the exact sum, where eight running sums (the engine's previous reduction, and
/// what a vectorised naive loop does) are off by more than 1e-5.
#[test]
fn sums_of_values_that_cancel_are_accurate_where_running_sums_are_not() {
    let x = cancelling_values();
    let n = x.len();
    let exact = pairs_then_sum(&x);
    let rel = |v: f64| (v - exact).abs() / exact.abs();

    let mut lanes = [0f64; 8];
    for (k, &v) in x.iter().enumerate() {
        lanes[k % 8] += v;
    }
    let naive: f64 = lanes.iter().sum();
    assert!(
        rel(naive) > 1e-5,
        "eight running sums unexpectedly accurate ({:e})",
        rel(naive)
    );

    let tape = Tape::<f64>::new();
    let v = tape.constant(x.clone());
    let row = tape.constant(x.clone().insert_axis(Axis(0))); // [1, n]: contiguous lanes
    let column = tape.constant(x.clone().insert_axis(Axis(1))); // [n, 1]: strided lanes
    let sums = [
        ("sum", v.sum().item().unwrap()),
        ("mean · n", v.mean().item().unwrap() * n as f64),
        (
            "sum_axis of a row",
            row.sum_axis(1, false).unwrap().item().unwrap(),
        ),
        (
            "sum_axis of a column",
            column.sum_axis(0, false).unwrap().item().unwrap(),
        ),
        (
            "sum_f64 of a column",
            tapegrad_autograd::sum_f64(&column.value().t().view()),
        ),
    ];
    for (what, s) in sums {
        assert!(
            rel(s) <= 1e-5,
            "{what}: {s} against {exact}, relative error {:e}",
            rel(s)
        );
    }
}
