//! Accurate sums: every reduction of the engine adds its elements here, pairwise, in `f64`.
//!
//! A running sum loses about `ε · |running total|` per addition, so one long sum of values that
//! cancel (±1e8 plus small values, say) loses the small values to the rounding of the large
//! partial totals. Pairwise summation adds blocks of `BLOCK` (128) elements directly, then adds the
//! block sums as a balanced tree, so each element goes through only `log2(n / BLOCK)` roundings
//! at totals of its own scale: the error grows like `ε log n` instead of `ε n`, at the speed
//! of a plain loop (NumPy sums the same way).

use ndarray::{ArrayView1, ArrayViewD};

use crate::Element;

/// Elements summed directly, in eight lanes, before the tree takes over.
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
///
/// The squares of each block of `BLOCK` (128) elements are first added in `T`, in 32 lanes (as
/// fast as the vector unit goes, in `f32` twice as many lanes as in `f64`): they are all
/// positive, so nothing cancels and a block's sum is within `~(BLOCK/32 + 5) · ε_T` of exact.
/// The block sums are then added pairwise in `f64`, as [`sum_f64`] adds elements.
pub fn sum_squares_f64<T: Element>(x: &ArrayViewD<'_, T>) -> f64 {
    match x.as_slice_memory_order() {
        Some(s) => add_lanes(lanes(s, &|b| crate::widest(|| squares_in_block(b)))),
        None => iter_sum(x.iter().map(|&v| {
            let v = v.as_f64();
            v * v
        })),
    }
}

/// A block's sum of squares, added in `T` in 32 lanes, as eight `f64` lanes for [`lanes`].
fn squares_in_block<T: Element>(s: &[T]) -> [f64; 8] {
    let mut acc = [T::zero(); 32];
    let chunks = s.chunks_exact(32);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v * v;
        }
    }
    for (a, &v) in acc.iter_mut().zip(rest) {
        *a += v * v;
    }
    std::array::from_fn(|k| {
        (acc[k].as_f64() + acc[k + 8].as_f64()) + (acc[k + 16].as_f64() + acc[k + 24].as_f64())
    })
}

/// The sum of a 1-D lane (a row or a strided column), pairwise in `f64`.
pub(crate) fn lane_sum_f64<T: Element>(lane: &ArrayView1<'_, T>) -> f64 {
    match lane.as_slice() {
        Some(s) => add_lanes(lanes(s, &|b| in_f64(b, &|v: T| v.as_f64()))),
        None => iter_sum(lane.iter().map(|v| v.as_f64())),
    }
}

/// `Σ f(x)` over every element, pairwise in `f64`.
fn sum_map<T: Element>(x: &ArrayViewD<'_, T>, f: impl Fn(T) -> f64 + Sync) -> f64 {
    match x.as_slice_memory_order() {
        Some(s) => add_lanes(lanes(s, &|b| in_f64(b, &f))),
        None => iter_sum(x.iter().map(|&v| f(v))),
    }
}

/// The eight lanes of [`lanes`] added up, as a tree.
fn add_lanes(a: [f64; 8]) -> f64 {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

/// Eight pairwise partial sums of `s`: blocks of [`BLOCK`] summed directly by `block` (into
/// eight lanes), halves of the block sequence added lane by lane. Keeping eight lanes up the
/// tree, rather than adding them up in every block, keeps the loops vectorised and the tree as
/// cheap as eight running sums.
fn lanes<T: Copy + Sync>(s: &[T], block: &(impl Fn(&[T]) -> [f64; 8] + Sync)) -> [f64; 8] {
    if s.len() > BLOCK {
        let (left, right) = s.split_at(s.len().div_ceil(BLOCK) / 2 * BLOCK);
        // Long halves on two threads: the tree, and so the sum, is the same either way.
        let (a, b) = if s.len() >= PARALLEL_FROM && crate::threads() > 1 {
            crate::team::join(|| lanes(left, block), || lanes(right, block))
        } else {
            (lanes(left, block), lanes(right, block))
        };
        return std::array::from_fn(|k| a[k] + b[k]);
    }
    block(s)
}

/// Sums of at least this many elements split their halves between two threads.
const PARALLEL_FROM: usize = 1 << 17;

/// `Σ f(s)` of one block in eight `f64` lanes (element `k` goes to lane `k mod 8`).
fn in_f64<T: Copy>(s: &[T], f: &impl Fn(T) -> f64) -> [f64; 8] {
    let mut acc = [0f64; 8];
    let chunks = s.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += f(v);
        }
    }
    for (a, &v) in acc.iter_mut().zip(rest) {
        *a += f(v);
    }
    acc
}

/// `Σ values` for data that is not one slice: blocks of [`BLOCK`] summed directly, then
/// combined like the digits of a binary counter, which adds equal-sized partial sums (the same
/// tree as [`lanes`], without recursion or allocation).
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
