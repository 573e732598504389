//! tapegrad's own packed matrix-product kernel, through `gemm_with`, on every instruction set
//! this CPU supports plus the scalar fallback (which every CPU runs): against a plain triple
//! loop in f64 over odd sizes that cross the register tile and the cache blocks, transposed and
//! strided operands, a column-major C, accumulation, an empty inner dimension, and results that
//! are bit-identical whatever the number of threads; and the `gemm` crate alternative.
//!
//! Each entry is checked against the error bound of a dot product of length k:
//! `|c - ĉ| <= (k + 2) · u · (|A|·|B|)_ij` (u the unit roundoff of the type). A wrong index, a
//! missing transpose, a skipped panel or a dropped block is off by O(|A|·|B|), far above it.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_autograd::{gemm_with, Element, Isa, Kernel};

/// The instruction sets to test: those this CPU runs (always including the scalar one).
fn isas() -> Vec<Isa> {
    Isa::ALL.into_iter().filter(|i| i.is_supported()).collect()
}

fn random<T: Element>(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || T::cast(rng.random_range(-1.0..1.0)))
}

fn unit_roundoff<T: Element>() -> f64 {
    if T::NAME == "f32" {
        2f64.powi(-24)
    } else {
        2f64.powi(-53)
    }
}

/// Asserts `got == c0 + a·b` (or `a·b` when `c0` is `None`) within the dot-product bound.
fn assert_product<T: Element>(
    what: &str,
    got: ArrayView2<'_, T>,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c0: Option<&Array2<T>>,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    assert_eq!(got.dim(), (m, n), "{what}: shape");
    let u = unit_roundoff::<T>();
    for i in 0..m {
        for j in 0..n {
            let mut exact = c0.map_or(0.0, |c| c[[i, j]].as_f64());
            let mut bound = exact.abs();
            for p in 0..k {
                let t = a[[i, p]].as_f64() * b[[p, j]].as_f64();
                exact += t;
                bound += t.abs();
            }
            let tol = (k as f64 + 2.0) * u * bound + f64::MIN_POSITIVE;
            let g = got[[i, j]].as_f64();
            assert!(
                (g - exact).abs() <= tol,
                "{what} ({m}x{k}·{k}x{n}) at ({i}, {j}): {g} vs {exact} (bound {tol:e})"
            );
        }
    }
}

/// Runs `c (+)= a·b` on `isa` with `threads` threads into `c` and checks it.
fn check<T: Element>(
    isa: Isa,
    threads: usize,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
    accumulate: bool,
    what: &str,
) {
    let c0 = accumulate.then(|| c.to_owned());
    gemm_with(Kernel::Packed(isa), threads, a, b, c.view_mut(), accumulate);
    assert_product(
        &format!("{what}, {isa:?}, {} threads", threads),
        c.view(),
        a,
        b,
        c0.as_ref(),
    );
}

fn odd_sizes_match_the_naive_product<T: Element>() {
    let mut rng = StdRng::seed_from_u64(7);
    let sizes = [1, 2, 3, 5, 6, 7, 11, 12, 13, 16, 17, 23, 31, 32, 33, 37];
    for isa in isas() {
        for &m in &sizes {
            for &n in &sizes {
                for k in [1, 4, 37, 301] {
                    let (a, b) = (random::<T>(&mut rng, m, k), random::<T>(&mut rng, k, n));
                    // C starts as garbage, which overwriting must not read.
                    let mut c = Array2::from_elem((m, n), T::cast(f64::NAN));
                    check(isa, 1, a.view(), b.view(), c.view_mut(), false, T::NAME);
                }
            }
        }
    }
}

#[test]
fn odd_sizes_match_the_naive_product_f32() {
    odd_sizes_match_the_naive_product::<f32>();
}

#[test]
fn odd_sizes_match_the_naive_product_f64() {
    odd_sizes_match_the_naive_product::<f64>();
}

#[test]
fn products_larger_than_the_cache_blocks_match_the_naive_product() {
    // m past the A block (MC), k past the depth block (KC), n past the B block (NC).
    let mut rng = StdRng::seed_from_u64(8);
    for isa in isas() {
        for (m, k, n) in [(151, 521, 19), (29, 13, 2111), (1, 600, 1), (211, 7, 1031)] {
            let (a, b) = (random::<f32>(&mut rng, m, k), random::<f32>(&mut rng, k, n));
            let mut c = Array2::zeros((m, n));
            check(isa, 2, a.view(), b.view(), c.view_mut(), false, "f32 large");
            let (a, b) = (a.mapv(f64::from), b.mapv(f64::from));
            let mut c = Array2::zeros((m, n));
            check(isa, 2, a.view(), b.view(), c.view_mut(), false, "f64 large");
        }
    }
}

#[test]
fn a_transposed_a_packed_once_for_every_block_of_columns_matches_the_naive_product() {
    // A transposed A is packed (not read in place); with n past every B block (NC), all of
    // its rows are packed once per depth block and used for each block of columns, across
    // row blocks (MC) and depth blocks (KC).
    let mut rng = StdRng::seed_from_u64(10);
    for isa in isas() {
        for threads in [1, 2] {
            let (m, k, n) = (157, 521, 1031);
            let at = random::<f32>(&mut rng, k, m);
            let b = random::<f32>(&mut rng, k, n);
            let mut c = Array2::zeros((m, n));
            check(
                isa,
                threads,
                at.t(),
                b.view(),
                c.view_mut(),
                false,
                "f32 Aᵀ",
            );
            let (at, b) = (at.mapv(f64::from), b.mapv(f64::from));
            let mut c = Array2::from_elem((m, n), 0.5);
            check(isa, threads, at.t(), b.view(), c.view_mut(), true, "f64 Aᵀ");
        }
    }
}

#[test]
fn transposed_and_strided_operands_match_the_naive_product() {
    let mut rng = StdRng::seed_from_u64(9);
    for isa in isas() {
        // The last two are wider than every register tile, so a transposed A is packed: full
        // panels, a short last one and (300 rows) several row blocks. (Packing step by step,
        // for a transposed A too large for L2, is checked against this in `kernel::pack`.)
        for (m, k, n) in [
            (37, 29, 23),
            (13, 300, 41),
            (64, 17, 3),
            (53, 70, 101),
            (300, 45, 130),
        ] {
            // Aᵀ and Bᵀ stored row-major, read as transposed views (the tape's backward).
            let at = random::<f32>(&mut rng, k, m);
            let bt = random::<f32>(&mut rng, n, k);
            let mut c = Array2::zeros((m, n));
            check(isa, 2, at.t(), bt.t(), c.view_mut(), false, "Aᵀ·Bᵀ");
            // Every other row and column of larger arrays.
            let a2 = random::<f32>(&mut rng, 2 * m, 2 * k);
            let b2 = random::<f32>(&mut rng, 2 * k, 3 * n);
            let (a, b) = (a2.slice(s![..;2, ..;2]), b2.slice(s![..;2, ..;3]));
            let mut c = Array2::zeros((m, n));
            check(isa, 2, a, b, c.view_mut(), false, "strided A, B");
            // A column-major C, and a strided one.
            let mut c = Array2::zeros((m, n).f());
            check(isa, 2, a, b, c.view_mut(), false, "column-major C");
            let mut c2 = Array2::zeros((2 * m, 2 * n));
            check(
                isa,
                1,
                a,
                b,
                c2.slice_mut(s![..;2, ..;2]),
                false,
                "strided C",
            );
        }
    }
}

/// C as columns `3..3 + n` of a wider row-major array whose other columns hold a sentinel:
/// the last vector of a narrow tile is stored (and, accumulating, loaded) through a lane
/// mask, which must neither write nor add to the columns beside C.
fn narrow_tiles_touch_only_their_own_columns<T: Element>() {
    let mut rng = StdRng::seed_from_u64(12);
    let sentinel = T::cast(1234.5);
    for isa in isas() {
        for n in [1, 3, 5, 8, 10, 15, 17, 24, 31, 33, 40, 47] {
            for (m, k) in [(3, 5), (13, 37), (64, 10)] {
                let (a, b) = (random::<T>(&mut rng, m, k), random::<T>(&mut rng, k, n));
                for accumulate in [false, true] {
                    let mut wide = Array2::from_elem((m, n + 11), sentinel);
                    let start = random::<T>(&mut rng, m, n);
                    wide.slice_mut(s![.., 3..3 + n]).assign(&start);
                    let what = format!("{} C beside a sentinel, accumulate {accumulate}", T::NAME);
                    let c = wide.slice_mut(s![.., 3..3 + n]);
                    check(isa, 1, a.view(), b.view(), c, accumulate, &what);
                    for (j, column) in wide.columns().into_iter().enumerate() {
                        if !(3..3 + n).contains(&j) {
                            assert!(
                                column.iter().all(|&x| x == sentinel),
                                "{what}, {isa:?}, {m}x{k}x{n}: column {j} beside C was written"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn narrow_tiles_touch_only_their_own_columns_f32() {
    narrow_tiles_touch_only_their_own_columns::<f32>();
}

#[test]
fn narrow_tiles_touch_only_their_own_columns_f64() {
    narrow_tiles_touch_only_their_own_columns::<f64>();
}

#[test]
fn accumulating_adds_the_product_to_c() {
    let mut rng = StdRng::seed_from_u64(10);
    for isa in isas() {
        // k past one depth block, so both the first and the later blocks add to the old C.
        for (m, k, n) in [(23, 7, 41), (17, 600, 35)] {
            let (a, b) = (random::<f64>(&mut rng, m, k), random::<f64>(&mut rng, k, n));
            let mut c = random::<f64>(&mut rng, m, n);
            check(isa, 2, a.view(), b.view(), c.view_mut(), true, "accumulate");
        }
    }
}

#[test]
fn an_empty_inner_dimension_zeroes_c_or_leaves_it_when_accumulating() {
    for isa in isas() {
        let (a, b) = (Array2::<f32>::zeros((5, 0)), Array2::<f32>::zeros((0, 7)));
        let mut c = Array2::from_elem((5, 7), 3.0f32);
        gemm_with(
            Kernel::Packed(isa),
            2,
            a.view(),
            b.view(),
            c.view_mut(),
            true,
        );
        assert!(
            c.iter().all(|&x| x == 3.0),
            "{isa:?}: accumulating nothing changed C"
        );
        gemm_with(
            Kernel::Packed(isa),
            2,
            a.view(),
            b.view(),
            c.view_mut(),
            false,
        );
        assert!(
            c.iter().all(|&x| x == 0.0),
            "{isa:?}: an empty product is not zero"
        );
    }
}

fn thread_counts_give_identical_bits<T: Element>() {
    let mut rng = StdRng::seed_from_u64(11);
    // Splits by rows (m ≥ n) and by columns (n > m), depths past one block and past two (cut
    // by depth on any number of threads), transposed A.
    for (m, k, n) in [
        (200, 307, 100),
        (128, 300, 800),
        (301, 29, 10),
        (13, 520, 97),
        (40, 1300, 70),
    ] {
        let (a, b) = (random::<T>(&mut rng, k, m), random::<T>(&mut rng, k, n));
        for isa in isas() {
            let run = |threads| {
                let mut c = Array2::zeros((m, n));
                gemm_with(
                    Kernel::Packed(isa),
                    threads,
                    a.t(),
                    b.view(),
                    c.view_mut(),
                    false,
                );
                c
            };
            let one = run(1);
            for threads in [2, 3, 4] {
                let got = run(threads);
                let same = one
                    .iter()
                    .zip(&got)
                    .all(|(x, y)| x.as_f64().to_bits() == y.as_f64().to_bits());
                assert!(
                    same,
                    "{} {m}x{k}·{k}x{n} on {isa:?}: {threads} threads differ from 1",
                    T::NAME
                );
            }
        }
    }
}

#[test]
fn thread_counts_give_identical_bits_f32() {
    thread_counts_give_identical_bits::<f32>();
}

#[test]
fn thread_counts_give_identical_bits_f64() {
    thread_counts_give_identical_bits::<f64>();
}

#[cfg(feature = "gemm")]
#[test]
fn the_gemm_crate_alternative_matches_the_naive_product() {
    let mut rng = StdRng::seed_from_u64(12);
    for (m, k, n) in [(37, 29, 23), (200, 307, 10)] {
        let at = random::<f32>(&mut rng, k, m);
        let b = random::<f32>(&mut rng, k, n);
        let mut c = random::<f32>(&mut rng, m, n);
        let c0 = c.clone();
        gemm_with(Kernel::GemmCrate, 2, at.t(), b.view(), c.view_mut(), true);
        assert_product(
            "gemm crate, Aᵀ·B accumulated",
            c.view(),
            at.t(),
            b.view(),
            Some(&c0),
        );
    }
}
