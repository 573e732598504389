//! The matrix-product kernel behind every matmul (forward `A·B`, backward `G·Bᵀ` and `Aᵀ·G`):
//! sizes across the kernel's block boundaries and the threaded path, f32 and f64, operands in
//! any memory layout, accumulation (fan-out), and empty inner dimensions.
//!
//! The reference is a plain triple loop in f64. Each entry is checked against the classic
//! error bound of a dot product of length k: `|c - ĉ| <= (k + 2) · u · (|A|·|B|)_ij`, with `u`
//! the unit roundoff of the tape's type (2⁻⁵³ for f64, 2⁻²⁴ for f32). A wrong index, a
//! missing transpose or a skipped block is off by O(|A|·|B|), far above that bound.

use ndarray::{s, Array2, ArrayD, Axis, Ix2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use tapegrad_autograd::{Element, Leaf, Tape};

fn random(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0..1.0))
}

/// `(a·b, |a|·|b|)` by a triple loop.
fn reference(a: &Array2<f64>, b: &Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let (mut c, mut bound) = (Array2::zeros((m, n)), Array2::zeros((m, n)));
    for i in 0..m {
        for p in 0..k {
            let x = a[[i, p]];
            for j in 0..n {
                c[[i, j]] += x * b[[p, j]];
                bound[[i, j]] += (x * b[[p, j]]).abs();
            }
        }
    }
    (c, bound)
}

/// Asserts `got` is `a·b` within the dot-product error bound for unit roundoff `u`.
fn assert_product(what: &str, got: &ArrayD<f64>, a: &Array2<f64>, b: &Array2<f64>, u: f64) {
    let got = got.view().into_dimensionality::<Ix2>().expect("2-D");
    let (c, abs) = reference(a, b);
    assert_eq!(got.dim(), c.dim(), "{what}: shape");
    let k = a.ncols() as f64;
    for ((idx, &g), (&e, &bnd)) in got.indexed_iter().zip(c.iter().zip(&abs)) {
        let tol = (k + 2.0) * u * bnd + f64::MIN_POSITIVE;
        assert!(
            (g - e).abs() <= tol,
            "{what} at {idx:?}: {g} vs {e} (bound {tol:e})"
        );
    }
}

/// Records `a·b` on a `T` tape (both parameters), backward of `Σ (a·b) ⊙ g`; checks the
/// value, `dA = G·Bᵀ` and `dB = Aᵀ·G`. `a`, `b` and `g` must be exactly representable in `T`.
fn check_matmul<T: Element>(a: Leaf<T>, b: Leaf<T>, g: &Array2<f64>, what: &str) {
    let u = if T::NAME == "f32" {
        2f64.powi(-24)
    } else {
        2f64.powi(-53)
    };
    let tape = Tape::<T>::new();
    let (va, vb) = (tape.param(a), tape.param(b));
    let f64_of = |v: tapegrad_autograd::Var<'_, T>| {
        v.value()
            .mapv(|x| x.as_f64())
            .into_dimensionality::<Ix2>()
            .unwrap()
    };
    let (a, b) = (f64_of(va), f64_of(vb));
    let c = va.matmul(vb).unwrap();
    let gv = tape.constant(g.mapv(T::cast));
    let grads = c.mul(gv).unwrap().sum().backward().unwrap();
    let as_f64 = |x: &ArrayD<T>| x.mapv(|v| v.as_f64());
    assert_product(&format!("{what}: A·B"), &as_f64(&c.value()), &a, &b, u);
    assert_product(
        &format!("{what}: G·Bᵀ"),
        &as_f64(&grads[va]),
        g,
        &b.t().to_owned(),
        u,
    );
    assert_product(
        &format!("{what}: Aᵀ·G"),
        &as_f64(&grads[vb]),
        &a.t().to_owned(),
        g,
        u,
    );
}

/// Random values rounded to f32, so the f32 and f64 tapes see the same numbers.
fn random32(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<f64> {
    random(rng, rows, cols).mapv(|v| v as f32 as f64)
}

/// Dimensions on both sides of typical micro-kernel and cache-block sizes.
const EDGES: &[usize] = &[
    1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 47, 48, 49, 63, 65, 97, 129,
];

#[test]
fn matmul_and_its_gradients_match_the_reference_across_block_boundaries_in_f64_and_f32() {
    let mut r = StdRng::seed_from_u64(500);
    for case in 0..40 {
        let pick = |r: &mut StdRng| EDGES[r.random_range(0..EDGES.len())];
        let (m, k, n) = (pick(&mut r), pick(&mut r), pick(&mut r));
        let (a, b, g) = (
            random32(&mut r, m, k),
            random32(&mut r, k, n),
            random32(&mut r, m, n),
        );
        let what = format!("case {case} [{m},{k}]x[{k},{n}]");
        check_matmul::<f64>(
            a.clone().into(),
            b.clone().into(),
            &g,
            &format!("{what} f64"),
        );
        let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
        check_matmul::<f32>(a32.into(), b32.into(), &g, &format!("{what} f32"));
    }
}

#[test]
fn large_matmul_on_the_threaded_path_matches_the_reference() {
    let mut r = StdRng::seed_from_u64(501);
    let (a, b, g) = (
        random32(&mut r, 300, 200),
        random32(&mut r, 200, 250),
        random32(&mut r, 300, 250),
    );
    check_matmul::<f64>(
        a.clone().into(),
        b.clone().into(),
        &g,
        "[300,200]x[200,250] f64",
    );
    let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
    check_matmul::<f32>(a32.into(), b32.into(), &g, "[300,200]x[200,250] f32");
}

#[test]
fn matmul_reads_operands_in_any_memory_layout() {
    let mut r = StdRng::seed_from_u64(502);
    let (m, k, n) = (19, 23, 17);
    let g = random(&mut r, m, n);
    let a = random(&mut r, m, k);
    let b = random(&mut r, k, n);
    // Column-major (a transposed buffer), shared through an Arc.
    let a_cm = Arc::new(random(&mut r, k, m).reversed_axes());
    check_matmul::<f64>(
        Arc::clone(&a_cm).into(),
        b.clone().into(),
        &g,
        "column-major A",
    );
    // Negative strides: an axis inverted in place, no copy.
    let mut b_neg = b.clone();
    b_neg.invert_axis(Axis(0));
    b_neg.invert_axis(Axis(1));
    check_matmul::<f64>(
        a.clone().into(),
        b_neg.into(),
        &g,
        "B with negative strides",
    );
    // Every other row of a bigger buffer (row stride 2n), and a column-major B.
    let a_step = random(&mut r, 2 * m, k).slice_move(s![..;2, ..]);
    assert!(!a_step.is_standard_layout());
    let b_cm = random(&mut r, n, k).reversed_axes();
    check_matmul::<f64>(a_step.into(), b_cm.into(), &g, "strided A, column-major B");
}

#[test]
fn matmul_gradients_accumulate_over_fan_out_at_kernel_sizes() {
    let mut r = StdRng::seed_from_u64(503);
    let n = 70;
    let (x, g) = (random(&mut r, n, n), random(&mut r, n, n));
    let tape = Tape::<f64>::new();
    let v = tape.param(x.clone());
    // y = x·x: dX = G·Xᵀ + Xᵀ·G, the second product accumulated onto the first.
    let y = v.matmul(v).unwrap();
    let grads = y
        .mul(tape.constant(g.clone()))
        .unwrap()
        .sum()
        .backward()
        .unwrap();
    let (p, bp) = reference(&g, &x.t().to_owned());
    let (q, bq) = reference(&x.t().to_owned(), &g);
    let got = grads[v].view().into_dimensionality::<Ix2>().unwrap();
    for ((idx, &got), ((&p, &q), (&bp, &bq))) in got
        .indexed_iter()
        .zip(p.iter().zip(&q).zip(bp.iter().zip(&bq)))
    {
        let tol = (n as f64 + 3.0) * 2f64.powi(-53) * (bp + bq);
        assert!(
            (got - (p + q)).abs() <= tol,
            "dX at {idx:?}: {got} vs {}",
            p + q
        );
    }
}

#[test]
fn matmul_with_an_empty_inner_dimension_is_zero_even_in_reused_buffers() {
    // Fill the tape's pool with buffers of the sizes the empty product will need, holding
    // non-zero values, so a kernel that skipped writing its output would show garbage.
    let mut tape = Tape::<f64>::new();
    {
        let junk = tape.param(Array2::from_elem((3, 4), 7.0));
        let _ = junk.scale(3.0).add_scalar(1.0).sum().backward().unwrap();
    }
    tape.clear();
    let a = tape.param(Array2::<f64>::zeros((3, 0)));
    let b = tape.param(Array2::<f64>::zeros((0, 4)));
    let w = tape.param(Array2::from_elem((3, 4), 2.0));
    let c = a.matmul(b).unwrap(); // [3, 4] of zeros: a sum of no terms
    assert_eq!(c.value(), ArrayD::<f64>::zeros(vec![3, 4]));
    let grads = c.add(w).unwrap().sum().backward().unwrap();
    assert_eq!(grads[a].shape(), &[3, 0]);
    assert_eq!(grads[b].shape(), &[0, 4]);
    assert_eq!(grads[w], ArrayD::from_elem(vec![3, 4], 1.0));

    // The other way round: [4, 0] gradients of an empty product are zero sums too.
    tape.clear();
    let a = tape.param(Array2::<f64>::from_elem((0, 3), 1.0));
    let b = tape.param(Array2::<f64>::from_elem((3, 4), 5.0));
    let grads = a.matmul(b).unwrap().sum().backward().unwrap();
    assert_eq!(
        grads[b],
        ArrayD::<f64>::zeros(vec![3, 4]),
        "dB = Aᵀ·G with no rows"
    );
}
