//! Elementwise passes over long arrays on the [`team`](crate::team)'s threads: the arrays cut
//! in halves along their first axis (the rows of a matrix), each half on its own core. Each
//! element is computed as on one thread, so results are the same bit for bit.

use ndarray::{ArrayViewD, ArrayViewMutD, Axis, Zip};

use crate::Element;

/// Arrays of at least this many elements are cut between threads (about 30 µs of work on one
/// core for a simple pass, against a couple of microseconds to hand half of it to a helper).
const PARALLEL_FROM: usize = 1 << 15;

/// Whether a pass over `shape` is cut in two for `threads` threads.
fn cut(shape: &[usize], threads: usize) -> Option<usize> {
    let len: usize = shape.iter().product();
    (threads >= 2 && len >= PARALLEL_FROM && shape.first().is_some_and(|&rows| rows >= 2))
        .then(|| shape[0] / 2)
}

/// `f(out, a)` for each element of `out` and the same-shaped `a` (a broadcast view, say).
pub(crate) fn zip1<T: Element>(
    out: ArrayViewMutD<'_, T>,
    a: ArrayViewD<'_, T>,
    f: &(impl Fn(&mut T, T) + Sync),
) {
    split1(out, a, f, crate::threads());
}

fn split1<T: Element>(
    mut out: ArrayViewMutD<'_, T>,
    a: ArrayViewD<'_, T>,
    f: &(impl Fn(&mut T, T) + Sync),
    threads: usize,
) {
    match cut(out.shape(), threads) {
        Some(mid) => {
            let (o0, o1) = out.split_at(Axis(0), mid);
            let (a0, a1) = a.split_at(Axis(0), mid);
            let half = threads / 2;
            crate::team::join(
                || split1(o0, a0, f, threads - half),
                || split1(o1, a1, f, half),
            );
        }
        None => Zip::from(&mut out).and(&a).for_each(|o, &a| f(o, a)),
    }
}

/// `f(out, a, b)` for each element of `out` and the same-shaped `a` and `b`.
pub(crate) fn zip2<T: Element>(
    out: ArrayViewMutD<'_, T>,
    a: ArrayViewD<'_, T>,
    b: ArrayViewD<'_, T>,
    f: &(impl Fn(&mut T, T, T) + Sync),
) {
    split2(out, a, b, f, crate::threads());
}

fn split2<T: Element>(
    mut out: ArrayViewMutD<'_, T>,
    a: ArrayViewD<'_, T>,
    b: ArrayViewD<'_, T>,
    f: &(impl Fn(&mut T, T, T) + Sync),
    threads: usize,
) {
    match cut(out.shape(), threads) {
        Some(mid) => {
            let (o0, o1) = out.split_at(Axis(0), mid);
            let ((a0, a1), (b0, b1)) = (a.split_at(Axis(0), mid), b.split_at(Axis(0), mid));
            let half = threads / 2;
            crate::team::join(
                || split2(o0, a0, b0, f, threads - half),
                || split2(o1, a1, b1, f, half),
            );
        }
        None => Zip::from(&mut out)
            .and(&a)
            .and(&b)
            .for_each(|o, &a, &b| f(o, a, b)),
    }
}

/// `sums[j] += s · Σ_i g[i·h + j]` over the rows of the row-major `g` (`h = sums.len()`), each
/// column's rows added in order; the columns cut between threads for long `g`.
pub(crate) fn column_sums<T: Element>(g: &[T], sums: &mut [T], s: T) {
    let h = sums.len();
    if h > 0 {
        split_columns(g, h, sums, 0, s, crate::threads());
    }
}

/// [`column_sums`] of the columns `j0 .. j0 + sums.len()` of rows `h` long.
fn split_columns<T: Element>(g: &[T], h: usize, sums: &mut [T], j0: usize, s: T, threads: usize) {
    match cut(&[sums.len(), g.len() / h], threads) {
        Some(mid) => {
            let (left, right) = sums.split_at_mut(mid);
            let half = threads / 2;
            crate::team::join(
                || split_columns(g, h, left, j0, s, threads - half),
                || split_columns(g, h, right, j0 + mid, s, half),
            );
        }
        None => {
            let width = sums.len();
            for row in g.chunks_exact(h) {
                for (d, &g) in sums.iter_mut().zip(&row[j0..j0 + width]) {
                    *d += s * g;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, Dimension, IxDyn};

    use super::*;

    fn values(shape: &[usize], seed: usize) -> ArrayD<f32> {
        ArrayD::from_shape_fn(IxDyn(shape), |i| {
            let k = i.slice().iter().fold(seed, |k, &x| k * 31 + x);
            (k % 1999) as f32 / 999.5 - 1.0
        })
    }

    #[test]
    fn passes_cut_between_threads_give_every_element_as_one_thread_does() {
        // Above and below the cut, one row too few to cut, broadcast operands.
        for shape in [
            vec![300, 200],
            vec![7, 5],
            vec![1, 40_000],
            vec![40_000],
            vec![64, 8, 70],
        ] {
            let a = values(&shape, 1);
            let row = values(&shape[shape.len() - 1..], 3);
            let row = row.broadcast(IxDyn(&shape)).unwrap();
            let expected1 = a.mapv(|a| a.tanh());
            let expected2 = ndarray::Zip::from(&a)
                .and(&row)
                .map_collect(|&a, &r| a * r + 1.0);
            for threads in [1, 2, 3, 4] {
                let mut out = ArrayD::from_elem(IxDyn(&shape), f32::NAN);
                split1(out.view_mut(), a.view(), &|o, a| *o = a.tanh(), threads);
                assert_eq!(out, expected1, "{shape:?}, {threads} threads");
                let mut out = ArrayD::from_elem(IxDyn(&shape), f32::NAN);
                split2(
                    out.view_mut(),
                    a.view(),
                    row.view(),
                    &|o, a, r| *o = a * r + 1.0,
                    threads,
                );
                assert_eq!(out, expected2, "{shape:?} broadcast, {threads} threads");
            }
        }
    }

    #[test]
    fn column_sums_cut_between_threads_add_each_columns_rows_in_order() {
        for (rows, h) in [(128, 800), (3, 5), (40_000, 1), (1, 40_000)] {
            let g = values(&[rows * h], 4).into_raw_vec_and_offset().0;
            let mut expected = vec![0.5f32; h];
            for row in g.chunks_exact(h) {
                for (d, &g) in expected.iter_mut().zip(row) {
                    *d += 0.25 * g;
                }
            }
            for threads in [1, 2, 3] {
                let mut sums = vec![0.5f32; h];
                split_columns(&g, h, &mut sums, 0, 0.25, threads);
                assert_eq!(sums, expected, "{rows} x {h}, {threads} threads");
            }
        }
    }
}
