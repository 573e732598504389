//! A layer in one op: `x · W + b` ([`linear`](Var::linear)) or `relu(x · W + b)`
//! ([`linear_relu`](Var::linear_relu)), the product, bias and rectifier fused.
//!
//! Recorded as `x.matmul(w)?.add(b)?.relu()` a layer takes three nodes, two intermediate
//! `n x h` tensors and three passes over them forward, and two more backward. Fused: the bias
//! and the rectifier are one pass over the product while it is still in cache, and backward
//! masks the upstream gradient in its own buffer, then sends it to the three inputs. The values
//! and gradients are the same bit for bit as the separate ops'.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, Ix1};

use crate::kernel::gemm::gemm_finished;
use crate::op::Op;
use crate::ops::matmul::{as_matrix, check_inner, matrix_mut};
use crate::ops::unary::{Reads, UnaryKernel, UnaryOp};
use crate::{Element, Error, Result, Var};

impl<'t, T: Element> Var<'t, T> {
    /// `relu(self · w + b)` for `self` of shape `[n, d]`, `w` of `[d, h]` and `b` of `[h]`:
    /// a fully connected layer with a rectifier, as one op. Same values and gradients as
    /// `self.matmul(w)?.add(b)?.relu()`, with two fewer passes over `[n, h]` each way.
    ///
    /// Derivatives, for an upstream gradient `G`: `dz = G` where the output is positive (NaN
    /// where it is NaN, 0 elsewhere, as [`relu`](Var::relu)), `dW = selfᵀ · dz`,
    /// `db = Σ_rows dz`, `d self = dz · Wᵀ`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(array![[1.0, 2.0], [-1.0, 0.5]]);
    /// let w = tape.param(array![[1.0, -1.0], [0.5, 1.0]]);
    /// let b = tape.param(array![0.0, -2.0]);
    /// let y = x.linear_relu(w, b)?;
    /// assert_eq!(y.value(), array![[2.0, 0.0], [0.0, 0.0]].into_dyn());
    /// let g = y.sum().backward()?;
    /// assert_eq!(g[b], array![1.0, 0.0].into_dyn()); // one positive output, in column 0
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn linear_relu(self, w: Var<'t, T>, b: Var<'t, T>) -> Result<Var<'t, T>> {
        self.layer(w, b, true)
    }

    /// `self · w + b` for `self` of shape `[n, d]`, `w` of `[d, h]` and `b` of `[h]`: a fully
    /// connected layer (a classifier's last), as one op. Same values and gradients as
    /// `self.matmul(w)?.add(b)?`, the bias added as the product is stored.
    ///
    /// Derivatives, for an upstream gradient `G`: `dW = selfᵀ · G`, `db = Σ_rows G`,
    /// `d self = G · Wᵀ`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(array![[1.0, 2.0], [-1.0, 0.5]]);
    /// let w = tape.param(array![[1.0, -1.0], [0.5, 1.0]]);
    /// let b = tape.param(array![0.0, -2.0]);
    /// let y = x.linear(w, b)?;
    /// assert_eq!(y.value(), array![[2.0, -1.0], [-0.75, -0.5]].into_dyn());
    /// let g = y.sum().backward()?;
    /// assert_eq!(g[b], array![2.0, 2.0].into_dyn()); // Σ over the two rows
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn linear(self, w: Var<'t, T>, b: Var<'t, T>) -> Result<Var<'t, T>> {
        self.layer(w, b, false)
    }

    /// [`linear_relu`](Var::linear_relu) when `relu`, else [`linear`](Var::linear).
    fn layer(self, w: Var<'t, T>, b: Var<'t, T>, relu: bool) -> Result<Var<'t, T>> {
        let op_name = layer_name(relu);
        self.same_tape(w, op_name)?;
        self.same_tape(b, op_name)?;
        self.tape.record(|r| {
            let x = as_matrix(op_name, r.value(self.index))?;
            let wm = as_matrix(op_name, r.value(w.index))?;
            let bv = r.value(b.index);
            check_inner(op_name, &x, &wm)?;
            let Ok(bias) = bv.clone().into_dimensionality::<Ix1>() else {
                return Err(Error::WrongRank {
                    op: op_name,
                    expected: 1,
                    shape: bv.shape().to_vec(),
                });
            };
            if bias.len() != wm.ncols() {
                return Err(Error::ShapeMismatch {
                    op: op_name,
                    lhs: wm.shape().to_vec(),
                    rhs: bias.shape().to_vec(),
                    reason: format!(
                        "the bias needs one value per column of the weights ({}), it has {}",
                        wm.ncols(),
                        bias.len()
                    ),
                });
            }
            let mut out = r.pool.dirty(&[x.nrows(), wm.ncols()]);
            let z = matrix_mut(out.view_mut());
            let layer = BiasThen { x, w: wm, z, bias };
            if relu {
                UnaryOp::Relu.apply(layer);
            } else {
                layer.run(op_name, |z| z, Reads::X, |g, _| g);
            }
            let op = Op::Linear {
                x: self.index,
                w: w.index,
                b: b.index,
                relu,
            };
            Ok((op, out))
        })
    }
}

/// The op's name: `linear_relu` or `linear`.
pub(crate) fn layer_name(relu: bool) -> &'static str {
    if relu {
        "linear_relu"
    } else {
        "linear"
    }
}

/// The forward pass: `z = f(x · w + b)`, `f` being the rectifier or the identity, the bias and
/// `f` applied to each piece of a row of the product as the kernel finishes it (while it is in
/// cache, on the thread that computed it).
struct BiasThen<'a, T> {
    x: ArrayView2<'a, T>,
    w: ArrayView2<'a, T>,
    z: ArrayViewMut2<'a, T>,
    bias: ArrayView1<'a, T>,
}

impl<T: Element> UnaryKernel<T> for BiasThen<'_, T> {
    type Output = ();
    fn run<F, D>(self, _: &'static str, f: F, _: Reads, _: D)
    where
        F: Fn(T) -> T + Sync,
        D: Fn(T, T) -> T + Sync,
    {
        let BiasThen { x, w, z, bias } = self;
        let bias = bias.as_standard_layout();
        let bias = bias
            .as_slice()
            .expect("a standard-layout vector is a slice");
        gemm_finished(x, w, z, &|_, j, row: &mut [T]| {
            for (z, &b) in row.iter_mut().zip(&bias[j..]) {
                *z = f(*z + b);
            }
        });
    }
}
