//! Shape ops: `reshape`, `transpose` and `permute`. They copy into a fresh buffer in standard
//! (row-major) layout, so later ops always read contiguous data.

use ndarray::{Dimension, IxDyn, Zip};

use crate::op::Op;
use crate::{Element, Error, Result, Var};

impl<'t, T: Element> Var<'t, T> {
    /// The same elements, in row-major order, with a new shape of the same size.
    /// Derivative: the upstream gradient reshaped back.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(x.reshape(&[2, 2])?.value(), array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn reshape(self, shape: &[usize]) -> Result<Var<'t, T>> {
        self.tape.record(|r| {
            let x = r.value(self.index);
            let (from, to) = (x.len(), shape.iter().product::<usize>());
            if from != to {
                return Err(Error::BadReshape {
                    op: "reshape",
                    from: x.shape().to_vec(),
                    to: shape.to_vec(),
                    reason: format!("{from} elements cannot become {to}"),
                });
            }
            let mut out = r.pool.dirty(shape);
            out.iter_mut().zip(x.iter()).for_each(|(o, &v)| *o = v);
            Ok((Op::Reshape { x: self.index }, out))
        })
    }

    /// The axes in reverse order: the matrix transpose for 2-D tensors (NumPy's `.T`).
    /// Derivative: the upstream gradient transposed back.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![[1.0, 2.0, 3.0]]);
    /// assert_eq!(x.transpose().value(), array![[1.0], [2.0], [3.0]].into_dyn());
    /// ```
    pub fn transpose(self) -> Var<'t, T> {
        let mut axes = IxDyn::zeros(self.with_value(|v| v.ndim()));
        let n = axes.ndim();
        for (k, a) in axes.slice_mut().iter_mut().enumerate() {
            *a = n - 1 - k;
        }
        self.permute(axes.slice())
            .expect("reversing the axes is always a valid permutation")
    }

    /// The axes reordered: axis `k` of the result is axis `axes[k]` of `self`.
    /// Derivative: the upstream gradient permuted by the inverse order.
    ///
    /// ```
    /// # use ndarray::Array3; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(Array3::<f64>::zeros((2, 3, 4)));
    /// assert_eq!(x.permute(&[2, 0, 1])?.shape(), vec![4, 2, 3]);
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn permute(self, axes: &[usize]) -> Result<Var<'t, T>> {
        self.tape.record(|r| {
            let x = r.value(self.index);
            let mut seen = vec![false; x.ndim()];
            let valid = axes.len() == x.ndim()
                && axes
                    .iter()
                    .all(|&a| a < seen.len() && !std::mem::replace(&mut seen[a], true));
            if !valid {
                return Err(Error::BadAxisOrder {
                    axes: axes.to_vec(),
                    shape: x.shape().to_vec(),
                });
            }
            let axes = IxDyn(axes);
            let moved = x.permuted_axes(axes.clone());
            let mut out = r.pool.dirty(moved.shape());
            Zip::from(&mut out).and(&moved).for_each(|o, &v| *o = v);
            Ok((
                Op::Permute {
                    x: self.index,
                    axes,
                },
                out,
            ))
        })
    }
}
