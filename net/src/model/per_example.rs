//! The document's gradients term by term: a loop over examples `i` and classes `j`.
//!
//! For example `i` with label `y_i` and probabilities `p = softmax(z2_i)`, the document gives
//! `dL_i/dz2_(j) = p_{y_i} - 1` for `j = y_i` and `p_j` otherwise; so
//! `dL_i/dW2(j) = (that factor) · a1_iᵀ` (column `j` of W2) and `dL_i/db2(j) = (that factor)`.
//!
//! ## Erratum: the first layer
//!
//! The document's `dL_i/dW1(j)` and `dL_i/db1(j)` have three slips, corrected here:
//!
//! 1. the `j ≠ y_i` case multiplies by `W2(y_i)ᵀ` where `W2(j)ᵀ` (column `j` of W2) is meant;
//! 2. the per-class terms must be **summed over all `c` classes** `j`: the hidden layer feeds
//!    every class score, so `δ_i = Σ_j (p_j - [j = y_i]) W2(j)ᵀ` (a vector over hidden units);
//! 3. the ReLU mask is per **hidden unit** `k` (`z1_i(k) > 0`), not per class `j`.
//!
//! Then `dL_i/dW1 = X_iᵀ (δ_i ⊙ [z1_i > 0])` and `dL_i/db1 = δ_i ⊙ [z1_i > 0]`. Read literally
//! (every class term multiplied by the same `W2(y_i)`), the class factors sum to
//! `Σ_j p_j - 1 = 0`, so the data part of dW1 would be identically zero; the test
//! `document_first_layer_taken_literally_fails_the_numerical_check` shows it.
//!
//! The batch gradient is the mean over examples plus the regularisation gradient `2λW`
//! (biases are not regularised).

use ndarray::{Array1, Array2, ArrayView2};
use tapegrad_autograd::Element;

use super::closed_form::{document_parameters, sum_squares};
use super::{Mlp, ParameterGradients};
use crate::Result;

/// The loss and the four gradients, example by example and class by class, as the document
/// derives them (with its first-layer erratum corrected, see the module docs). Slow: it is a
/// reference for the tests, not for training.
///
/// ```
/// use ndarray::array;
/// use tapegrad_net::{closed_form, per_example, Init, Mlp};
///
/// let net = Mlp::<f64>::new(&[3, 5, 4], Init { std: 0.5, seed: 7 })?;
/// let x = array![[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]];
/// let (l1, g1) = per_example::gradients(&net, x.view(), &[3, 0], 0.1)?;
/// let (l2, g2) = closed_form::gradients(&net, x.view(), &[3, 0], 0.1)?;
/// assert!((l1 - l2).abs() < 1e-12);
/// assert!(g1.relative_error(&g2) < 1e-12);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
pub fn gradients<T: Element>(
    net: &Mlp<T>,
    x: ArrayView2<'_, T>,
    y: &[usize],
    reg: T,
) -> Result<(T, ParameterGradients<T>)> {
    let ((w1, b1), (w2, b2)) = document_parameters(net)?;
    net.check_batch(x, y)?;
    let (d, h, c) = (w1.nrows(), w1.ncols(), w2.ncols());
    let n = x.nrows();
    let (mut gw1, mut gb1) = (Array2::<T>::zeros((d, h)), Array1::<T>::zeros(h));
    let (mut gw2, mut gb2) = (Array2::<T>::zeros((h, c)), Array1::<T>::zeros(c));
    let mut data_loss = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        let xi = x.row(i);
        // z1 = X_i W1 + b1, a1 = relu(z1), z2 = a1 W2 + b2, p = softmax(z2).
        let z1 = xi.dot(&w1) + b1;
        let a1 = z1.mapv(|v| if v > T::zero() { v } else { T::zero() });
        let z2 = a1.dot(&w2) + b2;
        let m = z2.fold(T::neg_infinity(), |m, &v| m.max(v));
        let e = z2.mapv(|v| (v - m).exp());
        let p = &e / e.sum();
        // L_i = -ln p_{y_i} = -(z2(y_i) - m - ln Σ_j e^(z2(j) - m)), stable for large logits.
        data_loss -= (z2[yi] - m - e.sum().ln()).as_f64();

        let mut delta = Array1::<T>::zeros(h); // Σ_j factor_j W2(j)ᵀ
        for j in 0..c {
            // dL_i/dz2(j) = p_{y_i} - 1 if j = y_i, p_j otherwise.
            let factor = if j == yi { p[yi] - T::one() } else { p[j] };
            // dL_i/dW2(j) = factor · a1_i; dL_i/db2(j) = factor.
            gw2.column_mut(j).scaled_add(factor, &a1);
            gb2[j] += factor;
            delta.scaled_add(factor, &w2.column(j));
        }
        // ReLU mask per hidden unit k: dL_i/dz1(k) = δ_k if z1(k) > 0, else 0.
        for k in 0..h {
            if z1[k] > T::zero() {
                gw1.column_mut(k).scaled_add(delta[k], &xi);
                gb1[k] += delta[k];
            }
        }
    }
    // Mean over the batch, plus 2λW for the weights.
    let inv_n = T::cast(1.0 / n as f64);
    let two_reg = reg + reg;
    let gw1 = gw1.mapv(|v| v * inv_n) + &w1.mapv(|v| two_reg * v);
    gb1.mapv_inplace(|v| v * inv_n);
    let gw2 = gw2.mapv(|v| v * inv_n) + &w2.mapv(|v| two_reg * v);
    gb2.mapv_inplace(|v| v * inv_n);
    let l2 = sum_squares(w1) + sum_squares(w2);
    let loss = T::cast(data_loss / n as f64 + reg.as_f64() * l2);
    let grads = [
        gw1.into_dyn(),
        gb1.into_dyn(),
        gw2.into_dyn(),
        gb2.into_dyn(),
    ];
    Ok((loss, ParameterGradients::from_vec(grads.into())))
}
