//! Finished products cut by depth between threads: when C is wider than twice its height (so
//! the threads would share it by columns) and the inner dimension is exactly two depth blocks,
//! each half of the threads multiplies one block, `C = A₀B₀` and `P = A₁B₁`, then both add
//! `C + P` and finish it row by row. Each half packs only its rows of B, which its own core
//! wrote when an optimizer updated B by rows (the mnist800 forward `X·W1`, 784 = 392 + 392:
//! the AVX-512 step 6-9% faster, AVX2 2%). The bits are those of the product on one thread,
//! which stores `A₀B₀` and adds each tile of `A₁B₁` to it.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use super::{scratch, single_pass, split_plain, Isa, RowFinish, Start, Target};
use crate::Element;

/// The depth of the first of two depth blocks when a product of inner dimension `k` on `isa`
/// is exactly two.
pub(super) fn two_blocks<T: Element>(isa: Isa, k: usize) -> Option<usize> {
    if single_pass::<T>(isa, k) {
        return None;
    }
    let half = k.div_ceil(2);
    single_pass::<T>(isa, half).then_some(half)
}

/// A finished product of two depth blocks, one per half of the threads: `C = A₀B₀` and
/// `P = A₁B₁` at once, then `C + P` and the finish, row by row on both. The same bits as the
/// product on one thread, which stores `A₀B₀` and adds each tile of `A₁B₁` to it; each half
/// packs the rows of B its thread last wrote when an optimizer updated B by rows.
pub(super) fn product<T: Element>(
    isa: Isa,
    threads: usize,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    (mut c, finish, origin): (ArrayViewMut2<'_, T>, RowFinish<'_, T>, (usize, usize)),
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
        crate::team::join(
            || {
                split_plain(
                    isa,
                    threads - half,
                    a0,
                    b0,
                    Target::Matrix(c.view_mut()),
                    Start::Overwrite,
                )
            },
            || {
                split_plain(
                    isa,
                    half,
                    a1,
                    b1,
                    Target::Matrix(part.view_mut()),
                    Start::Overwrite,
                )
            },
        );
        add_and_finish(c.view_mut(), part.view(), finish, origin, threads);
    });
}

/// `c += part` and `finish` on each row of `c`, the rows cut between `threads` threads.
fn add_and_finish<T: Element>(
    mut c: ArrayViewMut2<'_, T>,
    part: ArrayView2<'_, T>,
    finish: RowFinish<'_, T>,
    origin: (usize, usize),
    threads: usize,
) {
    let m = c.nrows();
    if threads >= 2 && m >= 2 {
        let mid = m / 2;
        let (c0, c1) = c.split_at(Axis(0), mid);
        let (p0, p1) = part.split_at(Axis(0), mid);
        let half = threads / 2;
        crate::team::join(
            || add_and_finish(c0, p0, finish, origin, threads - half),
            || add_and_finish(c1, p1, finish, (origin.0 + mid, origin.1), half),
        );
        return;
    }
    for (i, (mut row, p)) in c.rows_mut().into_iter().zip(part.rows()).enumerate() {
        let row = row
            .as_slice_mut()
            .expect("a finished product's C is row-major");
        for (c, &p) in row.iter_mut().zip(p) {
            *c += p;
        }
        finish(origin.0 + i, origin.1, row);
    }
}
