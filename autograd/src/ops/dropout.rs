//! Inverted dropout: `y = x ⊙ m`, where each element of the mask `m` is `1/(1-p)` (kept, with
//! probability `1 - p`) or 0 (dropped), so that `E[y] = x`. The mask is a function of a seed
//! and the element's row-major index only ([`DropoutMask`]): backward recomputes it instead
//! of storing it, the same seed gives the same mask whatever the thread count, and a test can
//! rebuild it exactly.

use std::convert::Infallible;

use crate::op::Op;
use crate::{Element, Error, Result, Var};

/// `2^53`: the mask draws a uniform number in `[0, 1)` as 53 random bits.
const UNIT: f64 = (1u64 << 53) as f64;

/// Which elements inverted dropout keeps: element `i` (row-major) is kept when the 53-bit
/// uniform number `u_i = splitmix64(seed + i·γ) / 2^53` is at least `p`, so with probability
/// `1 - p`, independently of every other element; kept elements are scaled by `1/(1-p)`.
///
/// ```
/// use tapegrad_autograd::DropoutMask;
/// let mask = DropoutMask::new(0.25, 7)?;
/// let kept = (0..100_000).filter(|&i| mask.keeps(i)).count();
/// assert!((kept as f64 / 1e5 - 0.75).abs() < 0.01);
/// assert_eq!(mask.factor::<f64>(0), if mask.keeps(0) { 1.0 / 0.75 } else { 0.0 });
/// assert!(DropoutMask::new(1.0, 7).is_err());
/// # Ok::<(), tapegrad_autograd::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DropoutMask {
    p: f64,
    seed: u64,
    /// Keep element `i` when its 53 random bits are at least this (`⌈p · 2^53⌉`).
    threshold: u64,
    /// `1 / (1 - p)`.
    scale: f64,
}

impl DropoutMask {
    /// The mask dropping each element with probability `p` (`0 <= p < 1`; anything else,
    /// NaN included, is [`Error::BadProbability`]), drawn from `seed`.
    pub fn new(p: f64, seed: u64) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::BadProbability { op: "dropout", p });
        }
        Ok(DropoutMask {
            p,
            seed,
            threshold: (p * UNIT).ceil() as u64,
            scale: 1.0 / (1.0 - p),
        })
    }

    /// The probability of dropping an element.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// The seed the mask is drawn from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether element `i` (row-major) is kept.
    #[inline]
    pub fn keeps(&self, i: usize) -> bool {
        let z = splitmix64(
            self.seed
                .wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        );
        z >> 11 >= self.threshold
    }

    /// The mask's element `i`: `1/(1-p)` if it is kept, else 0.
    #[inline]
    pub fn factor<T: Element>(&self, i: usize) -> T {
        if self.keeps(i) {
            T::cast(self.scale)
        } else {
            T::zero()
        }
    }
}

/// SplitMix64's output function: a bijection of `u64` whose outputs of consecutive inputs are
/// statistically independent (Steele, Lea and Flood 2014).
#[inline]
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<'t, T: Element> Var<'t, T> {
    /// Inverted dropout with `mask`: `y = x ⊙ m`, `m_i = 1/(1-p)` where the mask keeps
    /// element `i` (row-major) and 0 where it drops it. Derivative: `dx = g ⊙ m`. A NaN stays
    /// NaN even where dropped (`NaN · 0`), as in PyTorch. Evaluation never drops: record it for
    /// training only.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::{DropoutMask, Tape};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![[1.0, 2.0], [3.0, 4.0]]);
    /// let mask = DropoutMask::new(0.5, 3)?;
    /// let y = x.dropout(mask);
    /// let g = y.sum().backward()?;
    /// for (i, (&yi, &gi)) in y.value().iter().zip(g[x].iter()).enumerate() {
    ///     let m = mask.factor::<f64>(i);
    ///     assert_eq!((yi, gi), ((i + 1) as f64 * m, m));
    /// }
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn dropout(self, mask: DropoutMask) -> Var<'t, T> {
        let recorded = self.tape.record(|r| {
            let x = r.value(self.index);
            let mut out = r.pool.dirty(x.shape());
            for (i, (o, &v)) in out.iter_mut().zip(x.iter()).enumerate() {
                *o = v * mask.factor(i);
            }
            Ok::<_, Infallible>((
                Op::Dropout {
                    x: self.index,
                    mask,
                },
                out,
            ))
        });
        let Ok(y) = recorded;
        y
    }
}
