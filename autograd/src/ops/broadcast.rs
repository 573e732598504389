//! NumPy broadcasting, for the binary ops and their derivatives.
//!
//! Shapes are aligned at their last axis; two dimensions fit when they are equal or one of
//! them is 1, and a missing leading dimension counts as 1. So `[n, h] + [h]` adds a bias to
//! every row. In backward, a broadcast operand's gradient is summed over the axes it was
//! stretched along.

use ndarray::{ArrayViewD, ArrayViewMutD, Axis, IxDyn, Zip};

use crate::{Element, Error, Result};

/// The shape two operands broadcast to, or [`Error::ShapeMismatch`] naming `op`.
pub(crate) fn broadcast_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<IxDyn> {
    let n = a.len().max(b.len());
    let mut shape = IxDyn::zeros(n);
    for k in 0..n {
        let da = dim_from_end(a, n - 1 - k);
        let db = dim_from_end(b, n - 1 - k);
        shape[k] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => {
                return Err(Error::ShapeMismatch {
                    op,
                    lhs: a.to_vec(),
                    rhs: b.to_vec(),
                    reason: format!(
                        "cannot broadcast dimension {x} against {y} (axis {k} of the result); dimensions must be equal or 1"
                    ),
                })
            }
        };
    }
    Ok(shape)
}

/// Dimension `k` places from the end of `shape`, or 1 where `shape` has no such axis.
fn dim_from_end(shape: &[usize], k: usize) -> usize {
    if k < shape.len() {
        shape[shape.len() - 1 - k]
    } else {
        1
    }
}

/// `x` broadcast to `shape`, which the caller has checked it fits.
pub(crate) fn stretch<'a, T>(x: &'a ArrayViewD<'_, T>, shape: &IxDyn) -> ArrayViewD<'a, T> {
    x.broadcast(shape.clone())
        .expect("operand fits the broadcast shape")
}

/// Adds (or, when `fresh`, writes) `g` into `dst`, summing `g` over the axes along which
/// `dst`'s shape was broadcast up to `g`'s. Used by every backward rule of a broadcasting op.
pub(crate) fn reduce_into<T: Element>(
    g: &ArrayViewD<'_, T>,
    mut dst: ArrayViewMutD<'_, T>,
    fresh: bool,
    scale: T,
) {
    if g.shape() == dst.shape() {
        let zip = Zip::from(&mut dst).and(g);
        if fresh {
            zip.for_each(|d, &g| *d = scale * g);
        } else {
            zip.for_each(|d, &g| *d += scale * g);
        }
        return;
    }
    if fresh {
        dst.fill(T::zero());
    }
    // The bias case, `[n, h] -> [h]` with both contiguous: row by row over plain slices.
    let bias = match (g.shape(), dst.shape()) {
        (&[_, h], &[d]) | (&[_, h], &[1, d]) => h == d && h > 0,
        _ => false,
    };
    if let (true, Some(gs), Some(ds)) = (bias, g.as_slice(), dst.as_slice_mut()) {
        crate::halves::column_sums(gs, ds, scale);
        return;
    }
    // Leading axes that dst lacks are summed one sub-array at a time, without temporaries.
    let extra = g.ndim() - dst.ndim();
    if extra > 0 {
        for sub in g.outer_iter() {
            reduce_into(&sub, dst.view_mut(), false, scale);
        }
        return;
    }
    // Same rank: sum the axes where dst has length 1.
    let mut g = g.to_owned();
    for (k, (&gd, &dd)) in g.shape().to_vec().iter().zip(dst.shape()).enumerate() {
        if dd == 1 && gd != 1 {
            g = g.sum_axis(Axis(k)).insert_axis(Axis(k));
        }
    }
    Zip::from(&mut dst)
        .and(&g)
        .for_each(|d, &g| *d += scale * g);
}
