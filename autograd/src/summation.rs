//! Accurate sums: every reduction of the engine adds its elements here, pairwise, in `f64`.
//!
//! A running sum loses about `ε · |running total|` per addition, so one long sum of values that
//! cancel (±1e8 plus small values, say) loses the small values to the rounding of the large
//! partial totals. Pairwise summation adds blocks of [`BLOCK`] elements directly, then adds the
//! block sums as a balanced tree, so each element goes through only `log2(n / BLOCK)` roundings
//! at totals of its own scale: the error grows like `ε log n` instead of `ε n`, at the speed
//! of a plain loop (NumPy sums the same way).

use ndarray::{ArrayView1, ArrayViewD};

use crate::Element;

/// Elements summed directly, with eight independent accumulators, before the tree takes over.
const BLOCK: usize = 128;

/// The sum of all elements, accumulated pairwise in `f64` (accurate for large `f32` tensors and
/// for values that cancel).
///
/// ```
/// # use ndarray::array;
/// let x = array![[1e8f32, 1.0], [-1e8, 1.0]].into_dyn();
/// assert_eq!(tapegrad_autograd::sum_f64(&x.view()), 2.0);
/// ```
pub fn sum_f64<T: Element>(x: &ArrayViewD<'_, T>) -> f64 {
    sum_map(x, |v| v.as_f64())
}

/// The sum of the squares of all elements, accumulated like [`sum_f64`].
///
/// ```
/// # use ndarray::array;
/// let x = array![3.0f32, 4.0].into_dyn();
/// assert_eq!(tapegrad_autograd::sum_squares_f64(&x.view()), 25.0);
/// ```
pub fn sum_squares_f64<T: Element>(x: &ArrayViewD<'_, T>) -> f64 {
    sum_map(x, |v| {
        let v = v.as_f64();
        v * v
    })
}

/// The sum of a 1-D lane (a row or a strided column), pairwise in `f64`.
pub(crate) fn lane_sum_f64<T: Element>(lane: &ArrayView1<'_, T>) -> f64 {
    match lane.as_slice() {
        Some(s) => slice_sum(s, &|v: T| v.as_f64()),
        None => iter_sum(lane.iter().map(|v| v.as_f64())),
    }
}

/// `Σ f(x)` over every element, pairwise in `f64`.
fn sum_map<T: Element>(x: &ArrayViewD<'_, T>, f: impl Fn(T) -> f64) -> f64 {
    match x.as_slice_memory_order() {
        Some(s) => slice_sum(s, &f),
        None => iter_sum(x.iter().map(|&v| f(v))),
    }
}

/// `Σ f(s)`: halves summed recursively down to blocks of [`BLOCK`].
fn slice_sum<T: Copy>(s: &[T], f: &impl Fn(T) -> f64) -> f64 {
    if s.len() > BLOCK {
        let (left, right) = s.split_at(s.len() / 2);
        return slice_sum(left, f) + slice_sum(right, f);
    }
    let mut acc = [0f64; 8];
    let chunks = s.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += f(v);
        }
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + rest
}

/// `Σ values` for data that is not one slice: blocks of [`BLOCK`] summed directly, then
/// combined like the digits of a binary counter, which adds equal-sized partial sums (the same
/// tree as [`slice_sum`], without recursion or allocation).
fn iter_sum(mut values: impl Iterator<Item = f64>) -> f64 {
    // levels[k] holds the sum of 2^k blocks while bit k of `blocks` is set.
    let mut levels = [0f64; 64];
    let mut blocks = 0u64;
    loop {
        let mut block = 0f64;
        let mut taken = 0;
        for v in values.by_ref().take(BLOCK) {
            block += v;
            taken += 1;
        }
        if taken == 0 {
            break;
        }
        let mut k = 0;
        while blocks >> k & 1 == 1 {
            block += levels[k];
            k += 1;
        }
        levels[k] = block;
        blocks += 1;
        if taken < BLOCK {
            break;
        }
    }
    (0..64)
        .filter(|&k| blocks >> k & 1 == 1)
        .map(|k| levels[k])
        .sum()
}
