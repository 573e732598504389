//! Where a product's results go: stored into a matrix C, or handed, a piece of a row at a time,
//! to a sink that uses them at once (an optimizer updating a weight from its gradient, say), so
//! that the product is never written out and read back.

use ndarray::{ArrayViewMut2, Axis};

use super::MatMut;

/// A consumer of a product's results: `sink(i, j, values)` gets `values[t] = C[i, j + t]`. The
/// pieces of one product cover C once, without overlap; different threads call it at once.
pub(crate) type RowSink<'s, T> = &'s (dyn Fn(usize, usize, &[T]) + Sync);

/// A last pass over C's rows: `finish(i, j, row)` gets `row[t] = C[i, j + t]` to change in
/// place, just after the product stored it (so while it is in L1): a bias and an activation,
/// say. The pieces of one product cover C once; different threads call it at once.
pub(crate) type RowFinish<'s, T> = &'s (dyn Fn(usize, usize, &mut [T]) + Sync);

/// A product's destination while C is split between threads.
pub(crate) enum Target<'a, 's, T> {
    /// The matrix C.
    Matrix(ArrayViewMut2<'a, T>),
    /// The matrix C, row-major (unit column stride), each row piece finished by `finish` once
    /// stored; `origin` is where this block of C starts in the whole product.
    Finished {
        /// C.
        c: ArrayViewMut2<'a, T>,
        /// The last pass.
        finish: RowFinish<'s, T>,
        /// Row and column of this block's first element in the whole product.
        origin: (usize, usize),
    },
    /// No matrix: the `dim` block of C at `origin` goes to `sink`.
    Rows {
        /// The consumer.
        sink: RowSink<'s, T>,
        /// Row and column of this block's first element in the whole product.
        origin: (usize, usize),
        /// Rows and columns of this block.
        dim: (usize, usize),
    },
}

impl<'a, 's, T> Target<'a, 's, T> {
    /// Rows and columns of C.
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Target::Matrix(c) | Target::Finished { c, .. } => c.dim(),
            Target::Rows { dim, .. } => *dim,
        }
    }

    /// The two parts of C cut at `mid` along `axis`.
    pub fn split_at(self, axis: Axis, mid: usize) -> (Self, Self) {
        match self {
            Target::Matrix(c) => {
                let (c0, c1) = c.split_at(axis, mid);
                (Target::Matrix(c0), Target::Matrix(c1))
            }
            Target::Finished { c, finish, origin } => {
                let (c0, c1) = c.split_at(axis, mid);
                let second = moved(origin, axis, mid);
                let part = |c, origin| Target::Finished { c, finish, origin };
                (part(c0, origin), part(c1, second))
            }
            Target::Rows { sink, origin, dim } => {
                let (head, tail) = match axis.index() {
                    0 => ((mid, dim.1), (dim.0 - mid, dim.1)),
                    _ => ((dim.0, mid), (dim.0, dim.1 - mid)),
                };
                let part = |origin, dim| Target::Rows { sink, origin, dim };
                (part(origin, head), part(moved(origin, axis, mid), tail))
            }
        }
    }

    /// The destination as a thread's micro-kernels see it.
    pub fn out(&mut self) -> Out<'s, T> {
        match self {
            Target::Matrix(c) => Out::Store(MatMut::of(c)),
            Target::Finished { c, finish, origin } => Out::Finished {
                c: MatMut::of(c),
                finish: *finish,
                origin: *origin,
            },
            Target::Rows { sink, origin, .. } => Out::Rows {
                sink: *sink,
                origin: *origin,
            },
        }
    }
}

/// `origin` moved `mid` along `axis`.
fn moved(origin: (usize, usize), axis: Axis, mid: usize) -> (usize, usize) {
    match axis.index() {
        0 => (origin.0 + mid, origin.1),
        _ => (origin.0, origin.1 + mid),
    }
}

/// A thread's destination: C's storage, or the sink and where this thread's block starts.
#[derive(Clone, Copy)]
pub(crate) enum Out<'s, T> {
    /// Into C.
    Store(MatMut<T>),
    /// Into C, whose row pieces then go through `finish`, counted from `origin`.
    Finished {
        /// C.
        c: MatMut<T>,
        /// The last pass.
        finish: RowFinish<'s, T>,
        /// Row and column of the block's first element in the whole product.
        origin: (usize, usize),
    },
    /// To `sink`, rows and columns counted from `origin`.
    Rows {
        /// The consumer.
        sink: RowSink<'s, T>,
        /// Row and column of the block's first element in the whole product.
        origin: (usize, usize),
    },
}

impl<'s, T: 'static> Out<'s, T> {
    /// The same destination for elements of type `U`.
    ///
    /// # Safety
    /// `U` must be `T` (the kernel's drivers are written per element type and reached
    /// through a check of `TypeId`).
    pub unsafe fn cast<U: 'static>(self) -> Out<'s, U> {
        match self {
            Out::Store(c) => Out::Store(c.cast()),
            Out::Finished { c, finish, origin } => {
                debug_assert_eq!(std::any::TypeId::of::<T>(), std::any::TypeId::of::<U>());
                // SAFETY: `U` is `T` (the caller's promise), so the two are the same type.
                let finish = std::mem::transmute::<RowFinish<'s, T>, RowFinish<'s, U>>(finish);
                Out::Finished {
                    c: c.cast(),
                    finish,
                    origin,
                }
            }
            Out::Rows { sink, origin } => {
                debug_assert_eq!(std::any::TypeId::of::<T>(), std::any::TypeId::of::<U>());
                // SAFETY: `U` is `T` (the caller's promise), so the two are the same type.
                let sink = std::mem::transmute::<RowSink<'s, T>, RowSink<'s, U>>(sink);
                Out::Rows { sink, origin }
            }
        }
    }
}

/// Hands an `m x n` product with nothing to add up (`k = 0`) to `sink`: `s · x`, or zeros.
pub(crate) fn scaled_rows<T: crate::Element>(
    sink: RowSink<'_, T>,
    (m, n): (usize, usize),
    start: super::Start<ndarray::ArrayView2<'_, T>, T>,
) {
    let mut piece = [T::zero(); super::tile::MAX_TILE_WIDTH];
    for i in 0..m {
        for j in (0..n).step_by(piece.len()) {
            let cols = piece.len().min(n - j);
            for (t, v) in piece[..cols].iter_mut().enumerate() {
                *v = match start {
                    super::Start::Scaled(x, s) => s * x[[i, j + t]],
                    _ => T::zero(),
                };
            }
            sink(i, j, &piece[..cols]);
        }
    }
}
