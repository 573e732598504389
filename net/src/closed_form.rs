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
//! Row `i` of `dz1` is the document's first-layer factor for example `i` summed over all
//! classes `j`: `Σ_j (p_j - [j = y_i]) W2(j)ᵀ`, masked by unit. See [`per_example`](crate::per_example)
//! for the term-by-term form and the note on the document's index typos.

use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};
use tapegrad_autograd::{sum_f64, Element};

use crate::model::{Gradients, TwoLayerNet};
use crate::Result;

/// The loss `L = (1/n) Σ -ln p_{y_i} + λ(ΣW1² + ΣW2²)` and its four gradients, computed in
/// closed form without a tape.
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::Tape;
/// use tapegrad_net::{closed_form, TwoLayerNet};
///
/// let net = TwoLayerNet::<f64>::new(3, 5, 4, 0.5, 7);
/// let x = array![[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]];
/// let y = [3, 0];
/// let (loss, grads) = closed_form::gradients(&net, x.view(), &y, 0.1)?;
/// let (tape_loss, tape_grads) = net.loss_and_gradients(&mut Tape::new(), x, &y, 0.1)?;
/// assert!((loss - tape_loss).abs() < 1e-12);
/// assert!((&grads.w1 - &tape_grads.w1).iter().all(|d| d.abs() < 1e-12));
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
pub fn gradients<T: Element>(
    net: &TwoLayerNet<T>,
    x: ArrayView2<'_, T>,
    y: &[usize],
    reg: T,
) -> Result<(T, Gradients<T>)> {
    net.accuracy(x, y)?; // validates shapes and labels
    let (w1, b1, w2, b2) = (&*net.w1, &*net.b1, &*net.w2, &*net.b2);
    let n = T::cast(x.nrows() as f64);
    let two_reg = reg + reg;

    let z1 = x.dot(w1) + b1;
    let a1 = z1.mapv(|v| if v > T::zero() { v } else { T::zero() });
    let z2 = a1.dot(w2) + b2;

    // dz2 = (P - Y) / n, and the data loss from the same stable log-softmax.
    let mut dz2 = z2;
    let mut data_loss = 0.0;
    for (mut row, &label) in dz2.axis_iter_mut(Axis(0)).zip(y) {
        let m = row.fold(T::neg_infinity(), |m, &v| m.max(v));
        let lse = m + row.fold(T::zero(), |s, &v| s + (v - m).exp()).ln();
        data_loss -= (row[label] - lse).as_f64();
        row.mapv_inplace(|v| (v - lse).exp());
        row[label] -= T::one();
        row.mapv_inplace(|v| v / n);
    }
    let l2 = sum_squares(w1.view()) + sum_squares(w2.view());
    let loss = T::cast(data_loss / x.nrows() as f64 + reg.as_f64() * l2);

    let dw2 = a1.t().dot(&dz2) + &w2.mapv(|v| two_reg * v);
    let db2 = column_sums(&dz2);
    let mut dz1 = dz2.dot(&w2.t());
    Zip::from(&mut dz1).and(&z1).for_each(|d, &z| {
        if z <= T::zero() {
            *d = T::zero()
        }
    });
    let dw1 = x.t().dot(&dz1) + &w1.mapv(|v| two_reg * v);
    let db1 = column_sums(&dz1);
    Ok((
        loss,
        Gradients {
            w1: dw1,
            b1: db1,
            w2: dw2,
            b2: db2,
        },
    ))
}

/// `Σ w²`, accumulated in `f64`.
pub fn sum_squares<T: Element>(w: ArrayView2<'_, T>) -> f64 {
    let squares = w.mapv(|v| v * v).into_dyn();
    sum_f64(&squares.view())
}

/// The sum of each column.
fn column_sums<T: Element>(a: &Array2<T>) -> Array1<T> {
    a.sum_axis(Axis(0))
}
