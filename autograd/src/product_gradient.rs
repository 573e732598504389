//! [`ProductGradient`]: a parameter's gradient `s·W + Xᵀ·G` left unevaluated, for an optimizer
//! to compute tile by tile as it updates the parameter, so that the gradient is never written
//! to memory and read back.

use std::fmt;

use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewMut2};

use crate::kernel::gemm::{isa, threads_for};
use crate::kernel::{self, Start, Target};
use crate::leaf::Value;
use crate::ops::matmul::as_matrix;
use crate::{Element, Var};

/// The gradient of a weight matrix `W` (`d x h`) as the product it ends in: `Xᵀ·G`, plus
/// `s·W` when a sum of squares of `W` contributed `s·W` before (`2λW` for an L2 term), `X`
/// (`n x d`) being the layer's input and `G` (`n x h`) the gradient at its output.
///
/// [`Var::backward_with_products`] returns these instead of writing such gradients out. An
/// elementwise update (SGD, momentum, Adam) then computes the gradient a piece of a row at a
/// time with [`for_each_piece`](ProductGradient::for_each_piece) and uses each piece at once,
/// while it is in registers: the weight and the optimizer's state are read and written once,
/// and the `d x h` gradient is never stored. The pieces hold exactly the values the gradient
/// would have (the same bits), so an update gives the same result either way.
///
/// Give it back with [`Tape::recycle_products`](crate::Tape::recycle_products) for its buffers
/// to be reused.
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::Tape;
///
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(array![[1.0, 2.0], [3.0, 4.0]]);
/// let w = tape.param(array![[0.5, -1.0], [2.0, 0.25]]);
/// let loss = x.matmul(w)?.sum().add(w.sum_squares().scale(0.1))?; // λ = 0.1
/// let mut products = Vec::new();
/// let grads = loss.backward_with_products(&mut products)?;
/// assert!(grads.get(w).is_none() && products[0].is_for(w));
///
/// // SGD with learning rate 0.5, a piece of a row at a time: w -= 0.5 · (2λW + Xᵀ·1).
/// let mut value = w.value().into_raw_vec_and_offset().0;
/// products[0].for_each_piece([&mut value], &|[w], g| {
///     for (w, g) in w.iter_mut().zip(g) {
///         *w -= 0.5 * g;
///     }
/// });
/// assert_eq!(value, [0.5 - 0.5 * (0.1 + 4.0), -1.0 - 0.5 * (-0.2 + 4.0),
///                    2.0 - 0.5 * (0.4 + 6.0), 0.25 - 0.5 * (0.05 + 6.0)]);
/// # Ok::<(), tapegrad_autograd::Error>(())
/// ```
pub struct ProductGradient<T: Element> {
    /// The tape's id and the recording's generation, to tell which variable this belongs to.
    tape: (usize, u64),
    /// The parameter's node.
    param: usize,
    /// `X`, whose transpose is the left factor.
    x: Value<T>,
    /// `G`, a buffer of the tape's pool.
    g: ArrayD<T>,
    /// `s`, when there is a share `s·W`.
    scale: Option<T>,
}

impl<T: Element> ProductGradient<T> {
    /// The gradient of node `param` of recording `tape`: `s·W + xᵀ·g`.
    pub(crate) fn new(
        tape: (usize, u64),
        param: usize,
        x: Value<T>,
        g: ArrayD<T>,
        scale: Option<T>,
    ) -> Self {
        ProductGradient {
            tape,
            param,
            x,
            g,
            scale,
        }
    }

    /// Whether this is the gradient of `var`.
    pub fn is_for(&self, var: Var<'_, T>) -> bool {
        (var.tape.id, var.tape.generation.get()) == self.tape && var.index == self.param
    }

    /// The gradient's shape, the parameter's: `[d, h]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.x.view().shape()[1], self.g.shape()[1]]
    }

    /// The two factors, `X` (`n x d`) and `G` (`n x h`).
    fn factors(&self) -> (ArrayView2<'_, T>, ArrayView2<'_, T>) {
        let x = as_matrix("matmul", self.x.view()).expect("a product's factor is 2-D");
        let g = as_matrix("matmul", self.g.view()).expect("a product's factor is 2-D");
        (x, g)
    }

    /// Computes the gradient a piece of a row at a time on the threads of
    /// [`threads`](crate::threads) and calls `f(parts, piece)` for each piece: `parts` are the
    /// same elements of each of `slices` (each a `d x h` array in row-major order, the
    /// parameter and, say, an optimizer's moments), `piece` the gradient's values there. Every
    /// element is in exactly one piece; a piece is a thread's share of a row (up to 1,024
    /// elements), computed just before `f` gets it, and pieces may be handled on different
    /// threads at once.
    ///
    /// `slices[0]` must be the parameter itself, with the value the loss was recorded with:
    /// the share `s·W` is read from it, each piece just before `f` gets it.
    ///
    /// # Panics
    /// If `M` is 0 or a slice's length is not `d · h`.
    pub fn for_each_piece<const M: usize>(
        &self,
        mut slices: [&mut [T]; M],
        f: &(impl Fn([&mut [T]; M], &[T]) + Sync),
    ) {
        let [d, h] = self.shape();
        assert!(
            M > 0 && slices.iter().all(|s| s.len() == d * h),
            "ProductGradient::for_each_piece: slices of {d} x {h} elements"
        );
        let (x, g) = self.factors();
        if !kernel::single_pass::<T>(isa(), x.nrows()) {
            // The instruction set changed since backward (`set_isa`) to one that cannot finish
            // this product in one pass: write it out, then hand it over a row at a time.
            let w = ArrayView2::from_shape((d, h), &*slices[0]).expect("checked length");
            let mut written = Array2::zeros((d, h));
            self.evaluate(w, written.view_mut());
            for (i, row) in written.rows().into_iter().enumerate() {
                let parts = slices.each_mut().map(|s| &mut s[i * h..(i + 1) * h]);
                f(
                    parts,
                    row.as_slice().expect("a row of a standard-layout array"),
                );
            }
            return;
        }
        let base = slices.each_mut().map(|s| Base(s.as_mut_ptr()));
        let start = match self.scale {
            // SAFETY: `slices[0]` is `d · h` elements (checked), row-major; the view only
            // reads, each element before `f` writes it (the kernel reads a tile's start as it
            // stores the tile, and hands the rows to the sink once all their tiles are stored).
            Some(s) => Start::Scaled(
                unsafe { ArrayView2::from_shape_ptr((d, h), base[0].0.cast_const()) },
                s,
            ),
            None => Start::Overwrite,
        };
        let sink = |i: usize, j: usize, piece: &[T]| {
            let at = i * h + j;
            // SAFETY: the kernel hands each element (i, j) of the `d x h` product to the sink
            // exactly once, so these ranges of the exclusively borrowed `slices` are disjoint
            // from those of every other call; `at + piece.len() <= d · h`.
            let parts =
                base.map(|b| unsafe { std::slice::from_raw_parts_mut(b.0.add(at), piece.len()) });
            f(parts, piece);
        };
        let n = x.nrows();
        kernel::product(
            isa(),
            threads_for(d, n, h),
            x.t(),
            g,
            Target::Rows {
                sink: &sink,
                origin: (0, 0),
                dim: (d, h),
            },
            start,
        );
    }

    /// Writes the gradient into `out` (`d x h`), reading the share `s·W` from `w`.
    ///
    /// # Panics
    /// If `w` or `out` is not `d x h`.
    pub fn evaluate(&self, w: ArrayView2<'_, T>, out: ArrayViewMut2<'_, T>) {
        let [d, h] = self.shape();
        assert!(
            w.dim() == (d, h) && out.dim() == (d, h),
            "ProductGradient::evaluate: W and the output must be {d} x {h}"
        );
        let (x, g) = self.factors();
        crate::kernel::gemm::gemm_scaled_plus(x.t(), g, out, self.scale.map(|s| (s, w)));
    }

    /// The buffers, for the tape's pool.
    pub(crate) fn into_parts(self) -> (Value<T>, ArrayD<T>) {
        (self.x, self.g)
    }
}

impl<T: Element> fmt::Debug for ProductGradient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProductGradient")
            .field("param", &self.param)
            .field("shape", &self.shape())
            .field("scale", &self.scale)
            .finish()
    }
}

/// A slice's first element, shared by the threads that write disjoint ranges of it.
#[derive(Clone, Copy)]
struct Base<T>(*mut T);

// SAFETY: `Base` is only used by `for_each_piece`, whose threads write disjoint ranges of an
// exclusively borrowed slice (each element once), so sharing the pointer is sound.
unsafe impl<T: Send> Send for Base<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Base<T> {}
