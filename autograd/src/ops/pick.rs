//! `pick`: one entry per row, chosen by integer labels.

use ndarray::Ix1;

use crate::op::Op;
use crate::ops::matmul::as_matrix;
use crate::{Element, Error, Result, Var};

impl<'t, T: Element> Var<'t, T> {
    /// From scores `[n, c]`, the entries `x[i, labels[i]]` as an `[n]` tensor: the building block
    /// of the negative log-likelihood `-mean(pick(log_softmax(z), y))`.
    ///
    /// Derivative: `g_i` at `[i, labels[i]]`, `0` elsewhere. Labels are checked: each must be
    /// below `c`, and there must be one per row.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let p = x.pick(&[2, 0])?;
    /// assert_eq!(p.value(), array![3.0, 4.0].into_dyn());
    /// let g = p.sum().backward()?;
    /// assert_eq!(g[x], array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn pick(self, labels: &[usize]) -> Result<Var<'t, T>> {
        self.tape.record(|r| {
            let x = as_matrix("pick", r.value(self.index))?;
            let rows = x.nrows();
            check_labels(x, labels)?;
            let mut out = r.pool.dirty(&[rows]);
            let out1 = out.view_mut().into_dimensionality::<Ix1>().expect("1-D");
            for ((o, row), &label) in out1.into_iter().zip(x.rows()).zip(labels) {
                *o = row[label];
            }
            let start = r.labels.len();
            r.labels.extend_from_slice(labels);
            let op = Op::Pick {
                x: self.index,
                labels: start..r.labels.len(),
            };
            Ok((op, out))
        })
    }
}

impl<T: Element> Var<'_, T> {
    /// The column of the largest entry of each row of a 2-D tensor (the first one on ties):
    /// a classifier's predictions from its scores. Reads the value; records nothing.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let z = tape.constant(array![[0.1, 2.0, -1.0], [3.0, 3.0, 0.0]]);
    /// assert_eq!(z.argmax()?, vec![1, 0]);
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn argmax(self) -> Result<Vec<usize>> {
        self.with_value(|v| {
            let x = as_matrix("argmax", v)?;
            Ok(x.rows()
                .into_iter()
                .map(|row| {
                    let mut best = 0;
                    for (k, &v) in row.iter().enumerate() {
                        if v > row[best] {
                            best = k;
                        }
                    }
                    best
                })
                .collect())
        })
    }
}

/// Checks integer labels against scores `x` (`[n, c]`): one label per row, each below `c`;
/// the errors name the shape.
pub(crate) fn check_labels<T>(x: ndarray::ArrayView2<'_, T>, labels: &[usize]) -> Result<()> {
    let (rows, classes) = x.dim();
    if labels.len() != rows {
        return Err(Error::LabelCount {
            labels: labels.len(),
            rows,
            shape: x.shape().to_vec(),
        });
    }
    if let Some((row, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
        return Err(Error::LabelOutOfRange {
            row,
            label,
            classes,
            shape: x.shape().to_vec(),
        });
    }
    Ok(())
}
