//! The sizes of the blocks the packed kernel cuts a product into (the BLIS scheme of
//! [`micro`](super::micro)): the depth of a block of the inner dimension, the columns of a
//! packed block of B, whether A is packed once for every block of columns, and the packing
//! buffers all that takes.

use super::simd::Simd;

/// The depth of the blocks the inner dimension `k` is cut into: at most `S::KC`, and as even
/// as possible (784 is two blocks of 392, not 384 + 384 + 16). It depends on `k` alone, so the
/// order of every element's reduction does too.
pub(crate) fn depth<S: Simd>(k: usize) -> usize {
    k.div_ceil(k.div_ceil(S::KC).max(1)).max(1)
}

/// Columns of B packed at a time: `S::NC`, or fewer, in whole `nr`-wide panels, when a
/// `S::KC`-deep block of `S::NC` columns would fill more of the L2 cache than
/// [`block_bytes`] allows (see [`cache`](super::cache)). Column blocks do not change any
/// element's reduction.
pub(crate) fn block_columns<S: Simd>(nr: usize) -> usize {
    columns_for::<S>(super::cache::l2_bytes(), nr)
}

/// The width of the blocks `n` columns of B are cut into: as few blocks as [`block_columns`]'
/// `max` allows, as even as whole `nr`-wide panels make them. On Sapphire Rapids' 2 MiB L2,
/// large's 1024 columns were 960 + 64 in blocks as wide as allowed: the 64-column block streams
/// all of packed A from L3 again for two panels of B, and the wide block left little of L2 for
/// A. As 512 + 512, one thread's `3072 x 400 x 1024` backward-like product (A transposed)
/// took 0.91 of its time, the forward-like `1024 x 400 x 1024` 0.95.
pub(crate) fn column_step(n: usize, max: usize, nr: usize) -> usize {
    let blocks = n.div_ceil(max.max(1)).max(1);
    (n.div_ceil(blocks).div_ceil(nr) * nr).min(max)
}

/// The bytes of an L2 cache of `l2` bytes a packed block of B may fill: three quarters, the
/// rest for A's panels and C's tiles. With half, large's `1024`-column products took four
/// blocks on Zen 4's 1 MiB L2 (320 + 320 + 320 + 64 at AVX2), each streaming all of A from L3
/// again; with three quarters, three (480 + 480 + 64): paired runs of the large step 0.96 of
/// its time at AVX2 (14 pairs), 0.98 at AVX-512; mnist800 0.98 and 1.01, within noise.
fn block_bytes(l2: usize) -> usize {
    l2 / 4 * 3
}

/// [`block_columns`] for an L2 cache of `l2` bytes.
fn columns_for<S: Simd>(l2: usize, nr: usize) -> usize {
    let fits = block_bytes(l2) / (S::KC * std::mem::size_of::<S::E>());
    if fits >= S::NC {
        S::NC
    } else {
        (fits / nr * nr).max(nr)
    }
}

/// Whether [`product`](super::micro::product) packs all of A's rows for a depth block at once,
/// to use them for every block of B's columns: when A is packed at all (not read in place) and
/// B has more columns than one block holds. Block by block, the whole of A was packed again for
/// each block of columns: at large's backward `Xᵀ·dz1` (n = 1024, then in blocks of 320), four
/// times over, each step a piece of a row of X far from the last (9% of the product's time on
/// Zen 4, 12% at AVX2). Not when those rows would take more than [`MAX_PACKED_A`] bytes (an
/// `m x k` A of a library user's may be far taller than a net's), which a thread's buffer
/// would keep.
pub(super) fn packs_a_once<S: Simd>(
    (m, k, n): (usize, usize, usize),
    nr: usize,
    row_major_a: bool,
) -> bool {
    let bytes = m
        .saturating_mul(S::KC.min(k))
        .saturating_mul(std::mem::size_of::<S::E>());
    !reads_a_in_place(n, nr, row_major_a) && n > block_columns::<S>(nr) && bytes <= MAX_PACKED_A
}

/// The most bytes of A [`packs_a_once`] packs at once (large's backward takes 3 MiB a thread).
const MAX_PACKED_A: usize = 16 << 20;

/// Whether [`product`](super::micro::product) reads A's panels in place (packing only a last,
/// short one, to pad it): when there is one panel of B, so that each panel of A is used once,
/// and when A is row-major, whose packing would be a transposition, element by element.
pub(super) fn reads_a_in_place(n: usize, nr: usize, row_major_a: bool) -> bool {
    n <= nr || row_major_a
}

/// Elements of the packing buffers [`product`](super::micro::product) needs for an `m x k` by
/// `k x n` product with `MR x (NV·LANES)` tiles, A row-major when `row_major_a`: (packed A,
/// packed B and, after it, the `MR x NC` rows a sink gets at once).
pub(crate) fn buffer_lens<S: Simd, const MR: usize, const NV: usize>(
    (m, k, n): (usize, usize, usize),
    row_major_a: bool,
) -> (usize, usize) {
    let kc = S::KC.min(k);
    let rows = if packs_a_once::<S>((m, k, n), NV * S::LANES, row_major_a) {
        m
    } else {
        S::MC.min(m)
    };
    let a_len = rows.div_ceil(MR) * MR * kc;
    let b_len = kc * S::NC.min(n).div_ceil(S::LANES) * S::LANES;
    (a_len, b_len + MR * S::NC.min(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks [`columns_for`] with `S` and `nr`-wide panels over L2 sizes from 64 KiB to 64 MiB.
    fn check_columns<S: Simd>(nr: usize) {
        for l2 in [64 << 10, 512 << 10, 1 << 20, 2 << 20, 64 << 20] {
            let nc = columns_for::<S>(l2, nr);
            let panel = S::KC * std::mem::size_of::<S::E>() * nr;
            let block = nc / nr * panel;
            assert!(nc >= nr && nc <= S::NC, "l2 {l2}: {nc} columns");
            if nc < S::NC {
                assert_eq!(nc % nr, 0, "l2 {l2}: {nc} columns are whole panels");
                assert!(
                    nc == nr || block <= block_bytes(l2),
                    "l2 {l2}: the block fills {block} bytes"
                );
                assert!(
                    block + panel > block_bytes(l2),
                    "l2 {l2}: one more panel would fit"
                );
                assert!(block_bytes(l2) < l2, "l2 {l2}: room is left for A and C");
            }
        }
        assert_eq!(
            columns_for::<S>(usize::MAX / 2, nr),
            S::NC,
            "a huge L2 takes NC"
        );
    }

    #[test]
    fn a_packed_a_is_packed_once_for_many_column_blocks_unless_too_tall() {
        type S = super::super::simd::Scalar<f32>;
        // Columns past every block of B (`NC` is the most a block takes), A transposed.
        let n = 2 * S::NC;
        assert!(packs_a_once::<S>((1536, 1024, n), 4, false));
        assert!(
            !packs_a_once::<S>((1536, 1024, n), 4, true),
            "row-major A is read in place"
        );
        assert!(
            !packs_a_once::<S>((1536, 1024, 4), 4, false),
            "one panel of B"
        );
        // As many columns as one block holds or fewer: A is packed block by block.
        let half = S::NC / 2;
        assert_eq!(
            packs_a_once::<S>((1536, 1024, half), 4, false),
            half > block_columns::<S>(4)
        );
        let tall = MAX_PACKED_A / (S::KC * 4) + 1;
        assert!(!packs_a_once::<S>((tall, 1024, n), 4, false), "{tall} rows");
        assert!(!packs_a_once::<S>((usize::MAX, 1024, n), 4, false));
        let (a_len, _) = buffer_lens::<S, 4, 4>((1536, 1024, n), false);
        assert_eq!(a_len, 1536 * S::KC, "room for all of A's rows");
    }

    #[test]
    fn columns_are_cut_into_as_few_blocks_as_allowed_of_nearly_equal_whole_panels() {
        assert_eq!(column_step(1024, 960, 48), 528, "528 + 496, not 960 + 64");
        assert_eq!(column_step(1024, 960, 32), 512);
        assert_eq!(
            column_step(100, 960, 48),
            144,
            "one block: the panels it needs"
        );
        assert_eq!(
            column_step(2000, 1024, 48),
            1008,
            "at most the largest block"
        );
        for (max, nr) in [
            (960, 48),
            (480, 48),
            (976, 16),
            (1024, 48),
            (96, 32),
            (4, 4),
        ] {
            for n in 1..3000 {
                let step = column_step(n, max, nr);
                let blocks = n.div_ceil(step);
                assert!(step <= max, "n {n}, max {max}: {step}");
                assert_eq!(blocks, n.div_ceil(max), "n {n}, max {max}: as few blocks");
                assert!(
                    step.is_multiple_of(nr) || step == max,
                    "n {n}, max {max}: whole panels"
                );
                // The last block is short by less than one panel per block.
                let last = n - (blocks - 1) * step;
                assert!(
                    last + blocks * nr > step,
                    "n {n}, max {max}: {step} then {last}"
                );
            }
        }
    }

    #[test]
    fn packed_blocks_of_b_fill_at_most_three_quarters_of_the_l2_in_whole_panels() {
        check_columns::<super::super::simd::Scalar<f32>>(4);
        check_columns::<super::super::simd::Scalar<f64>>(4);
        #[cfg(target_arch = "x86_64")]
        {
            use super::super::simd::{Avx2F32, Avx2F64, Avx512F32, Avx512F64};
            check_columns::<Avx512F32>(48);
            check_columns::<Avx512F32>(32);
            check_columns::<Avx512F64>(24);
            check_columns::<Avx2F32>(24);
            check_columns::<Avx2F64>(8);
        }
    }
}
