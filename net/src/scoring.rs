//! Scoring examples with a trained net: each example's predicted class and its class
//! log-probabilities (the log-softmax of the scores, in `f64`), a block of rows at a time, so
//! that memory stays a few megabytes whatever the number of examples.
//!
//! ```
//! use ndarray::array;
//! use tapegrad_net::{scoring, Init, Mlp};
//! let net = Mlp::<f32>::new(&[2, 4, 3], Init { std: 0.1, seed: 7 })?;
//! let x = array![[0.5f32, -1.0], [2.0, 0.25]];
//! let mut rows = 0;
//! scoring::score_blocks(&net, x.view(), |block| {
//!     assert_eq!(block.predicted, net.predict(x.view())?);
//!     for p in block.log_probabilities.rows() {
//!         let total: f64 = p.iter().map(|l| l.exp()).sum();
//!         assert!((total - 1.0).abs() < 1e-12);
//!         rows += 1;
//!     }
//!     Ok::<(), tapegrad_net::NetError>(())
//! })?;
//! assert_eq!(rows, 2);
//! # Ok::<(), tapegrad_net::NetError>(())
//! ```

use ndarray::{Array2, ArrayView2, Axis};
use tapegrad_autograd::Element;

use crate::model::predicted_classes;
use crate::{Mlp, NetError};

/// The most numbers a block's widest matrix (its features, hidden units or scores) holds:
/// a block has `SCORING_BLOCK_VALUES / max(d, h, c)` rows, at least 1 and at most 1,024.
pub const SCORING_BLOCK_VALUES: usize = 1 << 20;

/// One block of scored examples.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredBlock {
    /// The index of the block's first row among all the rows scored.
    pub first: usize,
    /// Each row's predicted class, exactly as [`Mlp::predict`] gives it (the highest
    /// score, the first class on ties).
    pub predicted: Vec<usize>,
    /// `ln p(k | x)` for each row and class `k` (`rows x classes`): the scores minus their
    /// log-sum-exp, computed in `f64`.
    pub log_probabilities: Array2<f64>,
}

/// Scores the rows of `x` (f32 features, already preprocessed) a block at a time (see
/// [`SCORING_BLOCK_VALUES`]), handing each block to `f` in order. Stops at `f`'s first
/// error.
pub fn score_blocks<T: Element, E: From<NetError>>(
    net: &Mlp<T>,
    x: ArrayView2<'_, f32>,
    mut f: impl FnMut(&ScoredBlock) -> Result<(), E>,
) -> Result<(), E> {
    let widest = net.sizes().into_iter().max().unwrap_or(1);
    let rows = (SCORING_BLOCK_VALUES / widest.max(1)).clamp(1, 1024);
    for (b, block) in x.axis_chunks_iter(Axis(0), rows).enumerate() {
        let xt: Array2<T> = block.mapv(|v| T::cast(f64::from(v)));
        let scores = net.scores(xt.view())?;
        let predicted = predicted_classes(scores.view());
        let mut log_probabilities = scores.mapv(T::as_f64);
        for mut row in log_probabilities.rows_mut() {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + row.iter().map(|s| (s - max).exp()).sum::<f64>().ln();
            row.mapv_inplace(|s| s - lse);
        }
        f(&ScoredBlock {
            first: b * rows,
            predicted,
            log_probabilities,
        })?;
    }
    Ok(())
}
