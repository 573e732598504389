//! Products cut by depth: `C = A₀B₀` and `P = A₁B₁`, the first half of the depth and the
//! second, one per half of the threads (one after the other on one thread), then `C + P` (and
//! a finished product's last pass) row by row on all of them. Each half packs only its rows of
//! B, which its own core wrote when an optimizer updated B by rows.
//!
//! - Two depth blocks: a finished product that would be cut by columns (C wider than twice its
//!   height) is cut by depth instead (the mnist800 forward `X·W1`, 784 = 392 + 392: the
//!   AVX-512 step 6-9% faster, AVX2 2%). The bits are those of the product uncut, which
//!   stores `A₀B₀` and adds each tile of `A₁B₁` to it.
//! - Three or more: every product stored over C is cut, whatever the threads, so its bits
//!   depend on its shape alone (each half is reduced block by block, then the halves added).
//!   A row-wise cut made each thread pack all of B: at cifar's forward `200 x 3072 x 100` each
//!   packed 1.2 MB of W1, half of it last written by the other core, 13% of the product's
//!   time; cut by depth, the Xeon (Sapphire Rapids class) step is 0.89 of its time before at
//!   AVX-512, 0.94 at AVX2 and in f64 (paired runs); large, mnist800 and tiny unchanged.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use super::{scratch, single_pass, split_plain, Isa, RowFinish, Start, Target};
use crate::Element;

/// Where a product of inner dimension `k` on `isa` is cut by depth, if it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cut {
    /// The depth of the first half.
    pub(super) k0: usize,
    /// Whether the product must be cut, whatever the threads: its halves are reduced as
    /// `C₀ + C₁`, which is not the order of one pass over its depth blocks.
    pub(super) always: bool,
}

/// The [`Cut`] of a product of inner dimension `k` of `T`s on `isa`: none within one depth
/// block; at half the depth when it is two or more. Two blocks are reduced the same way cut or
/// not (the second added to the first), so they may be cut or not as the threads suit; three or
/// more are always cut, on one thread as on two, so the bits do not depend on the threads.
pub(super) fn cut<T: Element>(isa: Isa, k: usize) -> Option<Cut> {
    if single_pass::<T>(isa, k) {
        return None;
    }
    let k0 = k.div_ceil(2);
    Some(Cut {
        k0,
        always: !single_pass::<T>(isa, k0),
    })
}

/// A product cut by depth at `k0`: `C = A₀B₀` and `P = A₁B₁`, one per half of the threads (in
/// turn on one thread), then `C + P` and the finish (if any), row by row on all of them. Each
/// half packs the rows of B its thread last wrote when an optimizer updated B by rows.
pub(super) fn product<T: Element>(
    isa: Isa,
    threads: usize,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
    finish: Option<(RowFinish<'_, T>, (usize, usize))>,
    k0: usize,
) {
    let (m, n) = c.dim();
    scratch::with_partial::<T, _>(m * n, |p| {
        // SAFETY: the buffer holds m·n elements of T, is this thread's alone while `f` runs,
        // and its contents are written by the product before they are read.
        let mut part = unsafe { ArrayViewMut2::from_shape_ptr((m, n), p) };
        let (a0, a1) = a.split_at(Axis(1), k0);
        let (b0, b1) = b.split_at(Axis(0), k0);
        let half = threads / 2;
        let mut first = || {
            let c = Target::Matrix(c.view_mut());
            split_plain(isa, threads - half, a0, b0, c, Start::Overwrite)
        };
        let mut second = || {
            let part = Target::Matrix(part.view_mut());
            split_plain(isa, half, a1, b1, part, Start::Overwrite)
        };
        if half == 0 {
            first();
            second();
        } else {
            crate::team::join(first, second);
        }
        add_and_finish(c.view_mut(), part.view(), finish, threads);
    });
}

/// `c += part` and `finish` (if any) on each row of `c`, the rows cut between `threads`
/// threads.
fn add_and_finish<T: Element>(
    mut c: ArrayViewMut2<'_, T>,
    part: ArrayView2<'_, T>,
    finish: Option<(RowFinish<'_, T>, (usize, usize))>,
    threads: usize,
) {
    let m = c.nrows();
    if threads >= 2 && m >= 2 {
        let mid = m / 2;
        let (c0, c1) = c.split_at(Axis(0), mid);
        let (p0, p1) = part.split_at(Axis(0), mid);
        let half = threads / 2;
        let lower = finish.map(|(finish, (i, j))| (finish, (i + mid, j)));
        crate::team::join(
            || add_and_finish(c0, p0, finish, threads - half),
            || add_and_finish(c1, p1, lower, half),
        );
        return;
    }
    for (i, (mut row, p)) in c.rows_mut().into_iter().zip(part.rows()).enumerate() {
        row.zip_mut_with(&p, |c, &p| *c += p);
        if let Some((finish, origin)) = finish {
            let row = row
                .as_slice_mut()
                .expect("a finished product's C is row-major");
            finish(origin.0 + i, origin.1, row);
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::super::{depth_block, product as kernel_product, test_values as values};
    use super::*;

    /// `relu(a·b + bias)` through a finished product on `threads` threads.
    fn finished(isa: Isa, threads: usize, a: &Array2<f32>, b: &Array2<f32>) -> Array2<f32> {
        let mut c = Array2::from_elem((a.nrows(), b.ncols()), f32::NAN);
        let finish = |_: usize, j: usize, row: &mut [f32]| {
            for (t, x) in row.iter_mut().enumerate() {
                *x = (*x + 0.01 * (j + t) as f32).max(0.0);
            }
        };
        let target = Target::Finished {
            c: c.view_mut(),
            finish: &finish,
            origin: (0, 0),
        };
        kernel_product(isa, threads, a.view(), b.view(), target, Start::Overwrite);
        c
    }

    #[test]
    fn finished_products_of_one_two_and_many_depth_blocks_match_the_naive_product_with_the_same_bits_on_any_thread_count(
    ) {
        for isa in Isa::ALL.into_iter().filter(|i| i.is_supported()) {
            // Rows-wide and columns-wide C; depths of one, two and several blocks (k = 0 aside).
            for (m, k, n) in [
                (40, 90, 20),
                (30, 700, 90),
                (24, 1300, 21),
                (20, 1100, 70),
                (9, 2500, 33),
            ] {
                let (a, b) = (values(m, k, 1), values(k, n, 2));
                let a64 = a.mapv(f64::from);
                let b64 = b.mapv(f64::from);
                let exact = a64.dot(&b64);
                let one = finished(isa, 1, &a, &b);
                for ((i, j), &got) in one.indexed_iter() {
                    let want = (exact[[i, j]] + 0.01 * j as f64).max(0.0);
                    let bound = 1e-5 * (k as f64).sqrt() * (1.0 + want.abs());
                    assert!(
                        (f64::from(got) - want).abs() <= bound,
                        "{isa:?} {m}x{k}x{n} at ({i}, {j}): {got} against {want}"
                    );
                }
                for threads in [2, 3, 4] {
                    let got = finished(isa, threads, &a, &b);
                    let same = one
                        .iter()
                        .zip(&got)
                        .all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "{isa:?} {m}x{k}x{n}: {threads} threads differ from 1");
                }
            }
        }
    }

    #[test]
    fn a_product_is_cut_by_depth_only_past_one_block_and_always_past_two() {
        for isa in Isa::ALL.into_iter().filter(|i| i.is_supported()) {
            let kc = depth_block::<f32>(isa);
            assert_eq!(cut::<f32>(isa, kc), None, "{isa:?}: one block");
            let two = cut::<f32>(isa, 2 * kc).expect("two blocks");
            assert_eq!((two.k0, two.always), (kc, false), "{isa:?}: two blocks");
            let three = cut::<f32>(isa, 2 * kc + 2).expect("three blocks");
            assert_eq!((three.k0, three.always), (kc + 1, true), "{isa:?}: three");
        }
    }
}
