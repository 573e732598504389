//! `backward_with_products`: a weight's gradient `s·W + Xᵀ·G` left as a product. Computed piece
//! by piece (`for_each_piece`) it gives every element once, with the bits of the gradient that
//! `backward` writes out, on every instruction set and thread count; products that the kernel
//! cannot finish in one pass, or weights with another share after the product, are written out
//! as before.
//!
//! Its own binary: one test sets the process-wide instruction set and thread count, so the
//! tests here take turns (`SERIAL`).

use std::sync::Mutex;

use ndarray::{Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_autograd::{set_isa, set_threads, Element, Isa, ProductGradient, Tape};

/// Held by each test: the process-wide instruction set and thread count change in one.
static SERIAL: Mutex<()> = Mutex::new(());

fn random<T: Element>(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || T::cast(rng.random_range(-1.0..1.0)))
}

/// The problem `Σ (relu(X·W) ⊙ R) + λ ΣW²` (`λ = 0`: no sum of squares) with X `m x k`, W
/// `k x n`: W, its gradient written out by `backward`, and `backward_with_products`'s
/// products and written-out gradient of W (if it wrote one).
#[allow(clippy::type_complexity)]
fn gradient_both_ways<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    lambda: f64,
) -> (
    Array2<T>,
    ArrayD<T>,
    Vec<ProductGradient<T>>,
    Option<ArrayD<T>>,
) {
    let mut rng = StdRng::seed_from_u64((m * 1000 + k * 10 + n) as u64);
    let (x, w, r) = (
        random::<T>(&mut rng, m, k),
        random::<T>(&mut rng, k, n),
        random::<T>(&mut rng, m, n),
    );
    let tape = Tape::<T>::new();
    let record = || {
        let (xv, wv, rv) = (
            tape.constant(x.clone()),
            tape.param(w.clone()),
            tape.constant(r.clone()),
        );
        let data = xv.matmul(wv).unwrap().relu().mul(rv).unwrap().sum();
        let loss = match lambda {
            0.0 => data,
            l => data.add(wv.sum_squares().scale(T::cast(l))).unwrap(),
        };
        (loss, wv)
    };
    let (loss, wv) = record();
    let expected = loss.backward().unwrap()[wv].clone();
    let (loss, wv) = record();
    let mut products = Vec::new();
    let grads = loss.backward_with_products(&mut products).unwrap();
    let written = grads.get(wv).cloned();
    assert!(products.iter().all(|p| p.is_for(wv)));
    (w, expected, products, written)
}

/// The gradient assembled from `for_each_piece`'s pieces, and how often each element came.
fn pieces<T: Element>(p: &ProductGradient<T>, w: &Array2<T>) -> (Array2<T>, Array2<u32>) {
    let [d, h] = p.shape();
    let mut value = w
        .as_standard_layout()
        .into_owned()
        .into_raw_vec_and_offset()
        .0;
    let mut out = vec![T::zero(); d * h];
    let mut seen = vec![T::zero(); d * h];
    p.for_each_piece([&mut value, &mut out, &mut seen], &|[_, out, seen], g| {
        for ((o, s), &g) in out.iter_mut().zip(seen.iter_mut()).zip(g) {
            *o = g;
            *s += T::one();
        }
    });
    let count = seen.iter().map(|s| s.as_f64() as u32).collect();
    (
        Array2::from_shape_vec((d, h), out).unwrap(),
        Array2::from_shape_vec((d, h), count).unwrap(),
    )
}

#[test]
fn product_pieces_cover_the_gradient_once_with_its_bits_on_every_isa_and_thread_count() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for isa in Isa::ALL.into_iter().filter(|i| i.is_supported()) {
        set_isa(Some(isa)).unwrap();
        for threads in [1, 2, 3] {
            set_threads(threads);
            // Odd sizes leave narrow edge tiles; 128 x 784 x 800 is the mnist800 step's first
            // layer (both cores), 1 x 1 x 1 the smallest, and an empty batch leaves `2λW` alone.
            for (m, k, n, lambda) in [
                (0, 5, 7, 0.3),
                (1, 1, 1, 0.3),
                (7, 5, 3, 0.0),
                (37, 53, 29, 0.37),
                (64, 64, 100, 0.0),
                (128, 784, 800, 1e-3),
            ] {
                let (w, expected, products, written) = gradient_both_ways::<f32>(m, k, n, lambda);
                assert!(
                    written.is_none() && products.len() == 1,
                    "{isa:?} {m}x{k}x{n}: kept"
                );
                let (got, count) = pieces(&products[0], &w);
                assert!(
                    count.iter().all(|&c| c == 1),
                    "{isa:?} {threads}: each element once"
                );
                assert_eq!(
                    got.into_dyn(),
                    expected,
                    "{isa:?}, {threads} threads, {m}x{k}x{n}"
                );
                let (w, expected, products, _) = gradient_both_ways::<f64>(m, k, n, lambda);
                let (got, _) = pieces(&products[0], &w);
                assert_eq!(
                    got.into_dyn(),
                    expected,
                    "f64 {isa:?}, {threads}, {m}x{k}x{n}"
                );
                let mut evaluated = Array2::zeros(w.dim());
                products[0].evaluate(w.view(), evaluated.view_mut());
                assert_eq!(evaluated.into_dyn(), expected, "evaluate, {m}x{k}x{n}");
            }
        }
    }
    set_threads(0);
    set_isa(None).unwrap();
}

#[test]
fn a_product_deeper_than_one_kernel_pass_is_written_out_with_the_same_gradient() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // 500 rows of X: more than one depth block of every instruction set (at most 400).
    let (_, expected, products, written) = gradient_both_ways::<f32>(500, 20, 30, 0.1);
    assert!(products.is_empty());
    assert_eq!(written, Some(expected));
    let (_, expected, products, written) = gradient_both_ways::<f64>(300, 20, 30, 0.0);
    assert!(products.is_empty());
    assert_eq!(written, Some(expected));
}

#[test]
fn a_product_kept_under_one_instruction_set_is_computed_under_another_that_needs_two_passes() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The scalar kernel finishes 200 rows of f64 in one pass (256 deep), AVX2 and AVX-512 in
    // two (128): a product kept under the first is written out under the second.
    set_isa(Some(Isa::Scalar)).unwrap();
    let (w, _, products, written) = gradient_both_ways::<f64>(200, 30, 40, 0.2);
    assert!(written.is_none() && products.len() == 1);
    set_isa(None).unwrap();
    let (_, expected, _, _) = gradient_both_ways::<f64>(200, 30, 40, 0.2);
    let (got, count) = pieces(&products[0], &w);
    assert!(count.iter().all(|&c| c == 1));
    // The values are those of the kernel now chosen (the scalar one rounds differently).
    let tol = expected.iter().fold(0.0f64, |m, e| m.max(e.abs())) * 1e-12;
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() <= tol, "{g} vs {e}");
    }
}

#[test]
fn a_weight_used_twice_gets_its_gradient_written_out_whole() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // W in two products: the first one's share must be written before the second adds to it.
    let mut rng = StdRng::seed_from_u64(5);
    let (x, w) = (random::<f64>(&mut rng, 6, 4), random::<f64>(&mut rng, 4, 4));
    let tape = Tape::<f64>::new();
    let record = || {
        let (xv, wv) = (tape.constant(x.clone()), tape.param(w.clone()));
        let h = xv.matmul(wv).unwrap().tanh();
        (h.matmul(wv).unwrap().sum(), wv)
    };
    let (loss, wv) = record();
    let expected = loss.backward().unwrap()[wv].clone();
    let (loss, wv) = record();
    let mut products = Vec::new();
    let grads = loss.backward_with_products(&mut products).unwrap();
    assert!(
        products.is_empty(),
        "the first share was settled by the second"
    );
    assert_eq!(grads[wv], expected);
}

#[test]
fn recycled_products_give_their_buffers_back_to_the_pool() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut tape = Tape::<f32>::new();
    let mut products = Vec::new();
    for _ in 0..3 {
        tape.clear();
        let x = tape.take_buffer(&[8, 5]);
        let xv = tape.constant(x);
        let wv = tape.param(Array2::<f32>::from_elem((5, 3), 0.5));
        let loss = xv.matmul(wv).unwrap().sum();
        let grads = loss.backward_with_products(&mut products).unwrap();
        assert_eq!(products.len(), 1);
        tape.recycle(grads);
        tape.clear();
        tape.recycle_products(&mut products);
        assert!(products.is_empty());
    }
}
