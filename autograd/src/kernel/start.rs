//! What a product's C starts from: [`Start`], and its split and cast as C is cut between
//! threads and handed to a micro-kernel of one element type.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use super::Mat;
use crate::Element;

/// What the product is added to: C's old contents are overwritten, kept (`c += a · b`), or
/// replaced by `s · x`, `x` a matrix of C's shape that C does not alias (`c = s·x + a·b`, one
/// pass over C where a scaling and an accumulating product would take two). `s · x` is rounded
/// before the product is added, as in those two passes, so the result is the same bit for bit.
#[derive(Clone, Copy)]
pub(crate) enum Start<X, T> {
    /// `c = a · b`.
    Overwrite,
    /// `c += a · b`.
    Accumulate,
    /// `c = s·x + a·b`.
    Scaled(X, T),
}

impl<'a, T: Copy> Start<ArrayView2<'a, T>, T> {
    /// The same start for the transposed product.
    pub(crate) fn reversed_axes(self) -> Self {
        self.map(|x| x.reversed_axes())
    }

    /// The start of the part of C that `part` cuts out of `x`'s shape.
    fn map(self, part: impl FnOnce(ArrayView2<'a, T>) -> ArrayView2<'a, T>) -> Self {
        match self {
            Start::Scaled(x, s) => Start::Scaled(part(x), s),
            Start::Overwrite => Start::Overwrite,
            Start::Accumulate => Start::Accumulate,
        }
    }

    /// The two parts of the start for C cut at `mid` along `axis`.
    pub(crate) fn split_at(self, axis: Axis, mid: usize) -> (Self, Self) {
        match self {
            Start::Scaled(x, s) => {
                let (x0, x1) = x.split_at(axis, mid);
                (Start::Scaled(x0, s), Start::Scaled(x1, s))
            }
            other => (other, other),
        }
    }
}

impl<T: Element> Start<Mat<T>, T> {
    /// The same start with elements of `U`, which must be `T` itself (the scale converts
    /// exactly then; the other instantiation is compiled but never run).
    pub(crate) fn cast<U: Element>(self) -> Start<Mat<U>, U> {
        match self {
            Start::Overwrite => Start::Overwrite,
            Start::Accumulate => Start::Accumulate,
            Start::Scaled(x, s) => Start::Scaled(x.cast(), U::cast(s.as_f64())),
        }
    }
}

/// C of a product with no inner dimension (`k = 0`): its start alone.
pub(crate) fn start_only<T: Element>(
    mut c: ArrayViewMut2<'_, T>,
    start: Start<ArrayView2<'_, T>, T>,
) {
    match start {
        Start::Overwrite => c.fill(T::zero()),
        Start::Accumulate => {}
        Start::Scaled(x, s) => c.zip_mut_with(&x, |c, &x| *c = s * x),
    }
}
