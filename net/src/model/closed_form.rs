//! The document's gradients written out by hand, vectorised over the batch.
//!
//! With `P = softmax(z2)` row by row and `Y` the one-hot labels:
//!
//! ```text
//! dz2 = (P - Y) / n                       [n x c]
//! dW2 = a1ᵀ dz2 + 2λ W2                   [h x c]
//! db2 = Σ_rows dz2                        [c]
//! da1 = dz2 W2ᵀ                           [n x h]
//! dz1 = da1 ⊙ [z1 > 0]                    [n x h]   (ReLU mask per hidden unit)
//! dW1 = Xᵀ dz1 + 2λ W1                    [d x h]
//! db1 = Σ_rows dz1                        [h]
//! ```
//!
//! With dropout of the hidden units (mask `M`, entries `0` or `1/(1-p)`), `a1 = relu(z1) ⊙ M`
//! and `dz1 = da1 ⊙ M ⊙ [z1 > 0]`; the rest is unchanged. With label smoothing `ε`, `Y` becomes
//! the smoothed targets `(1-ε) Y + ε/c`, so `dz2 = (P - (1-ε) Y - ε/c) / n`.
//!
//! Row `i` of `dz1` is the document's first-layer factor for example `i` summed over all
//! classes `j`: `Σ_j (p_j - [j = y_i]) W2(j)ᵀ`, masked by unit. See [`per_example`](crate::per_example)
//! for the term-by-term form and the note on the document's index typos.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis, Zip};
use tapegrad_autograd::{sum_squares_f64, DropoutMask, Element};

use super::{Activation, Mlp, Objective, ParameterGradients};
use crate::{NetError, Result};

/// A view of the document's net's parameters: `(W1, b1)` and `(W2, b2)`.
pub(crate) type DocumentParameters<'a, T> = (
    (ArrayView2<'a, T>, ArrayView1<'a, T>),
    (ArrayView2<'a, T>, ArrayView1<'a, T>),
);

/// The parameters of the document's two-layer ReLU net; another number of layers or another
/// activation is an error (the closed forms are the document's, for that net only).
pub(crate) fn document_parameters<T: Element>(net: &Mlp<T>) -> Result<DocumentParameters<'_, T>> {
    if net.activation() != Activation::Relu {
        return Err(NetError::Parameters(format!(
            "the closed-form gradients are the document's, for a net with relu between its \
             layers; this one has {}",
            net.activation()
        )));
    }
    match net.layers() {
        [first, second] => Ok((
            (first.weight(), first.bias()),
            (second.weight(), second.bias()),
        )),
        layers => Err(NetError::Parameters(format!(
            "the closed-form gradients are the document's, for a net of 2 layers; this one has {}",
            layers.len()
        ))),
    }
}

/// The loss `L = (1/n) Σ -ln p_{y_i} + λ(ΣW1² + ΣW2²)` and its four gradients, computed in
/// closed form without a tape. `objective` is `λ` (a plain number converts) and optionally
/// the [`Dropout`](super::Dropout) whose [`mask`](super::Dropout::mask)`(0)` multiplies the
/// hidden units, as on the tape, and the label smoothing `ε` (data term
/// `(1/n) Σ_i [(1-ε)(-ln p_{y_i}) + (ε/c) Σ_k (-ln p_k)]`).
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::Tape;
/// use tapegrad_net::{closed_form, Init, Mlp};
///
/// let net = Mlp::<f64>::new(&[3, 5, 4], Init { std: 0.5, seed: 7 })?;
/// let x = array![[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]];
/// let y = [3, 0];
/// let (loss, grads) = closed_form::gradients(&net, x.view(), &y, 0.1)?;
/// let (tape_loss, tape_grads) = net.loss_and_gradients(&mut Tape::new(), x, &y, 0.1)?;
/// assert!((loss - tape_loss).abs() < 1e-12);
/// assert!(grads.relative_error(&tape_grads) < 1e-12);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
pub fn gradients<T: Element>(
    net: &Mlp<T>,
    x: ArrayView2<'_, T>,
    y: &[usize],
    objective: impl Into<Objective<T>>,
) -> Result<(T, ParameterGradients<T>)> {
    let ((w1, b1), (w2, b2)) = document_parameters(net)?;
    net.check_batch(x, y)?;
    let objective = objective.into();
    let reg = objective.reg;
    let mask = objective.dropout.filter(|d| d.p() > 0.0).map(|d| d.mask(0));
    let n = T::cast(x.nrows() as f64);
    let two_reg = reg + reg;

    let z1 = x.dot(&w1) + b1;
    let mut a1 = z1.mapv(|v| if v > T::zero() { v } else { T::zero() });
    if let Some(m) = mask {
        times_mask(&mut a1, m); //                         a1 = relu(z1) ⊙ M
    }
    let z2 = a1.dot(&w2) + b2;

    // dz2 = (P - Y) / n (Y smoothed when ε > 0), and the data loss from the same stable
    // log-softmax.
    let mut dz2 = z2;
    let mut data_loss = 0.0;
    let eps = objective.label_smoothing;
    let per_class = eps / T::cast(dz2.ncols() as f64);
    for (mut row, &label) in dz2.axis_iter_mut(Axis(0)).zip(y) {
        let m = row.fold(T::neg_infinity(), |m, &v| m.max(v));
        let lse = m + row.fold(T::zero(), |s, &v| s + (v - m).fast_exp()).ln();
        if eps == T::zero() {
            data_loss -= (row[label] - lse).as_f64();
        } else {
            // (1-ε)(lse - z_y) + (ε/c) Σ_k (lse - z_k)
            let all: f64 = row.iter().map(|&v| (lse - v).as_f64()).sum();
            let e = eps.as_f64();
            data_loss += (1.0 - e) * (lse - row[label]).as_f64() + per_class.as_f64() * all;
        }
        row.mapv_inplace(|v| (v - lse).fast_exp());
        if eps == T::zero() {
            row[label] -= T::one();
        } else {
            row.mapv_inplace(|v| v - per_class);
            row[label] -= T::one() - eps;
        }
        row.mapv_inplace(|v| v / n);
    }
    let l2 = sum_squares(w1) + sum_squares(w2);
    let loss = T::cast(data_loss / x.nrows() as f64 + reg.as_f64() * l2);

    let dw2 = a1.t().dot(&dz2) + &w2.mapv(|v| two_reg * v);
    let db2 = column_sums(&dz2);
    let mut dz1 = dz2.dot(&w2.t());
    if let Some(m) = mask {
        times_mask(&mut dz1, m); //                        da1 ⊙ M
    }
    Zip::from(&mut dz1).and(&z1).for_each(|d, &z| {
        if z <= T::zero() {
            *d = T::zero()
        }
    });
    let dw1 = x.t().dot(&dz1) + &w1.mapv(|v| two_reg * v);
    let db1 = column_sums(&dz1);
    let grads = [
        dw1.into_dyn(),
        db1.into_dyn(),
        dw2.into_dyn(),
        db2.into_dyn(),
    ];
    Ok((loss, ParameterGradients::from_vec(grads.into())))
}

/// `a = a ⊙ M`, `M`'s entries taken row-major from `mask`.
fn times_mask<T: Element>(a: &mut Array2<T>, mask: DropoutMask) {
    for (i, v) in a.iter_mut().enumerate() {
        *v *= mask.factor(i);
    }
}

/// `Σ w²`, accumulated in `f64`.
pub fn sum_squares<T: Element>(w: ArrayView2<'_, T>) -> f64 {
    sum_squares_f64(&w.into_dyn())
}

/// The sum of each column.
fn column_sums<T: Element>(a: &Array2<T>) -> Array1<T> {
    a.sum_axis(Axis(0))
}

/// Buffers for computing the closed form again and again at one shape without allocating:
/// the hand-written training step that the tape's step is measured against.
///
/// ```
/// use ndarray::array;
/// use tapegrad_net::{closed_form, Init, Mlp};
///
/// let net = Mlp::<f64>::new(&[3, 5, 4], Init { std: 0.5, seed: 7 })?;
/// let x = array![[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]];
/// let mut ws = closed_form::Workspace::new(2, 3, 5, 4);
/// let loss = ws.gradients(&net, x.view(), &[3, 0], 0.1)?;
/// let (expected, g) = closed_form::gradients(&net, x.view(), &[3, 0], 0.1)?;
/// assert!((loss - expected).abs() < 1e-12);
/// assert!(ws.grads.relative_error(&g) < 1e-12);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
pub struct Workspace<T> {
    z1: Array2<T>,
    a1: Array2<T>,
    /// Scores, then `dz2` in place.
    z2: Array2<T>,
    /// `da1`, then `dz1` in place.
    da1: Array2<T>,
    /// The gradients of the last call.
    pub grads: ParameterGradients<T>,
}

impl<T: Element> Workspace<T> {
    /// Buffers for batches of `n` examples through a `d`-`h`-`c` net.
    pub fn new(n: usize, d: usize, h: usize, c: usize) -> Self {
        Workspace {
            z1: Array2::zeros((n, h)),
            a1: Array2::zeros((n, h)),
            z2: Array2::zeros((n, c)),
            da1: Array2::zeros((n, h)),
            grads: ParameterGradients::zeros(&[d, h, c]),
        }
    }

    /// Computes the loss (returned) and the gradients (into [`grads`](Workspace::grads)) for a
    /// batch of exactly the workspace's shape, with the tape's matrix-product kernel.
    pub fn gradients(
        &mut self,
        net: &Mlp<T>,
        x: ArrayView2<'_, T>,
        y: &[usize],
        reg: T,
    ) -> Result<T> {
        let ((w1, b1), (w2, b2)) = document_parameters(net)?;
        let (d, h, c) = (w1.nrows(), w1.ncols(), w2.ncols());
        let n = x.nrows();
        if x.ncols() != d || self.z1.dim() != (n, h) || self.z2.ncols() != c || y.len() != n {
            let (wn, wh, wc) = (self.z1.nrows(), self.z1.ncols(), self.z2.ncols());
            let wd = self.grads.weight(0).nrows();
            return Err(crate::NetError::Parameters(format!(
                "the workspace is for batches of {wn} into a {wd}x{wh}x{wc} net; \
                 got {n}x{} with {} labels into a {d}x{h}x{c} net",
                x.ncols(),
                y.len()
            )));
        }
        if let Some((index, &label)) = y.iter().enumerate().find(|(_, &l)| l >= c) {
            return Err(crate::NetError::Label {
                index,
                label,
                classes: c,
            });
        }
        let g = &mut self.grads;
        let inv_n = T::cast(1.0 / n as f64);
        let two_reg = reg + reg;
        // z1 = X W1 + b1 (bias first, product accumulated onto it); a1 = relu(z1).
        self.z1
            .assign(&b1.broadcast((n, h)).expect("b1 has h entries"));
        tapegrad_autograd::gemm(x, w1, self.z1.view_mut(), true);
        Zip::from(&mut self.a1)
            .and(&self.z1)
            .for_each(|a, &z| *a = if z > T::zero() { z } else { T::zero() });
        // z2 = a1 W2 + b2.
        self.z2
            .assign(&b2.broadcast((n, c)).expect("b2 has c entries"));
        tapegrad_autograd::gemm(self.a1.view(), w2, self.z2.view_mut(), true);
        // Loss, and dz2 = (P - Y) / n in place of z2.
        let mut data_loss = 0.0;
        for (mut row, &label) in self.z2.axis_iter_mut(Axis(0)).zip(y) {
            let m = row.fold(T::neg_infinity(), |m, &v| m.max(v));
            let zy = row[label];
            let mut sum = T::zero();
            row.mapv_inplace(|v| {
                let e = (v - m).fast_exp();
                sum += e;
                e
            });
            data_loss += (m + sum.ln() - zy).as_f64();
            let scale = inv_n / sum;
            row.mapv_inplace(|e| e * scale);
            row[label] -= inv_n;
        }
        let l2 = sum_squares(w1) + sum_squares(w2);
        let loss = T::cast(data_loss / n as f64 + reg.as_f64() * l2);
        // dW2 = a1ᵀ dz2 + 2λW2; db2 = Σ_rows dz2.
        Zip::from(g.weight_mut(1))
            .and(w2)
            .for_each(|g, &w| *g = two_reg * w);
        tapegrad_autograd::gemm(self.a1.t(), self.z2.view(), g.weight_mut(1), true);
        column_sums_into(&self.z2, g.bias_mut(1));
        // dz1 = (dz2 W2ᵀ) ⊙ [z1 > 0].
        tapegrad_autograd::gemm(self.z2.view(), w2.t(), self.da1.view_mut(), false);
        Zip::from(&mut self.da1).and(&self.z1).for_each(|d, &z| {
            if z <= T::zero() {
                *d = T::zero()
            }
        });
        // dW1 = Xᵀ dz1 + 2λW1; db1 = Σ_rows dz1.
        Zip::from(g.weight_mut(0))
            .and(w1)
            .for_each(|g, &w| *g = two_reg * w);
        tapegrad_autograd::gemm(x.t(), self.da1.view(), g.weight_mut(0), true);
        column_sums_into(&self.da1, g.bias_mut(0));
        Ok(loss)
    }
}

/// `out = Σ_rows a`, without allocating.
fn column_sums_into<T: Element>(a: &Array2<T>, mut out: ArrayViewMut1<'_, T>) {
    out.fill(T::zero());
    for row in a.rows() {
        out += &row;
    }
}
