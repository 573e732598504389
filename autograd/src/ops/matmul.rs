//! Matrix product of two 2-D tensors.

use ndarray::{ArrayView2, ArrayViewD, ArrayViewMut2, Ix2};

use crate::kernel::gemm::gemm;
use crate::op::Op;
use crate::{Element, Error, Result, Var};

impl<'t, T: Element> Var<'t, T> {
    /// Matrix product `self · other` of an `[m, k]` and a `[k, n]` tensor, giving `[m, n]`.
    ///
    /// Derivatives, for an upstream gradient `G` of shape `[m, n]`: `dA = G · Bᵀ` and
    /// `dB = Aᵀ · G`. The transposes are strided views handed to the kernel, never copies, and
    /// a constant operand's gradient is never computed.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(array![[1.0, 2.0]]);       // [1, 2]
    /// let w = tape.param(array![[3.0], [4.0]]);        // [2, 1]
    /// let y = x.matmul(w)?;                            // [1, 1] = 1·3 + 2·4
    /// assert_eq!(y.value(), array![[11.0]].into_dyn());
    /// let g = y.sum().backward()?;
    /// assert_eq!(g[w], array![[1.0], [2.0]].into_dyn()); // Xᵀ · 1
    /// assert!(g.get(x).is_none());                        // X is a constant
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn matmul(self, other: Var<'t, T>) -> Result<Var<'t, T>> {
        self.same_tape(other, "matmul")?;
        self.tape.record(|r| {
            let a = as_matrix("matmul", r.value(self.index))?;
            let b = as_matrix("matmul", r.value(other.index))?;
            check_inner("matmul", &a, &b)?;
            let mut out = r.pool.dirty(&[a.nrows(), b.ncols()]);
            gemm(a, b, matrix_mut(out.view_mut()), false);
            let op = Op::MatMul {
                a: self.index,
                b: other.index,
            };
            Ok((op, out))
        })
    }
}

/// [`Error::ShapeMismatch`] naming `op` unless `a`'s columns match `b`'s rows.
pub(crate) fn check_inner<T>(
    op: &'static str,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
) -> Result<()> {
    if a.ncols() == b.nrows() {
        return Ok(());
    }
    Err(Error::ShapeMismatch {
        op,
        lhs: a.shape().to_vec(),
        rhs: b.shape().to_vec(),
        reason: format!(
            "the inner dimensions differ ({} vs {})",
            a.ncols(),
            b.nrows()
        ),
    })
}

/// A 2-D view of `x`, or [`Error::WrongRank`] naming `op`.
pub(crate) fn as_matrix<'a, T>(
    op: &'static str,
    x: ArrayViewD<'a, T>,
) -> Result<ArrayView2<'a, T>> {
    if x.ndim() != 2 {
        let shape = x.shape().to_vec();
        return Err(Error::WrongRank {
            op,
            expected: 2,
            shape,
        });
    }
    Ok(x.into_dimensionality::<Ix2>().expect("the rank is 2"))
}

/// A 2-D mutable view of a tensor the caller knows is 2-D.
pub(crate) fn matrix_mut<T>(x: ndarray::ArrayViewMutD<'_, T>) -> ArrayViewMut2<'_, T> {
    x.into_dimensionality::<Ix2>()
        .expect("gradient buffers have their variable's 2-D shape")
}
