//! Copying blocks of A and B into the contiguous, zero-padded panels the micro-kernel streams.
//!
//! A block of A (`mc x kc`) becomes `ceil(mc / MR)` panels, each `kc` steps of `MR` values (one
//! value per row, rows past the block's end are zero). A block of B (`kc x nc`) becomes panels
//! of `nr` columns, each `kc` steps of `nr` values; the last panel is only as wide as its
//! columns rounded up to whole vectors (or to one half vector, [`Simd::panel_width`]), with
//! zeros past the end. Whatever the operands' strides (transposed views included), the
//! micro-kernel then reads both with unit stride.

use super::simd::Simd;
use super::Mat;

/// Packs rows `i0 .. i0 + mc` and columns `p0 .. p0 + kc` of `a` into `MR`-row panels at `dst`,
/// prefetching with `S`'s hint.
///
/// # Safety
/// The block must lie inside `a`, and `dst` must be valid for `ceil(mc / MR) · MR · kc` writes;
/// `S`'s target features must be present.
#[inline(always)]
pub(crate) unsafe fn pack_a<S: Simd, const MR: usize>(
    a: Mat<S::E>,
    rows: (usize, usize),
    steps: (usize, usize),
    dst: *mut S::E,
) {
    // A transposed A (each step's values adjacent) whose steps span more memory than half the
    // L2 cache holds: the block's full panels step by step, each step one contiguous run of
    // A's memory read front to back (and asked for ahead) and dealt out to the panels. Panel
    // by panel, each step read a piece of a line far from the last, which came from L3 again
    // for the next panel: cifar's backward `Xᵀ·dz1` 2.6-5% slower, large's 3.5-4%. Where A's steps
    // stay in L2 (mnist800's backward, 128 steps 3 KiB apart), panel by panel is 2-4% faster.
    let span = steps.1 * a.cs.unsigned_abs() * std::mem::size_of::<S::E>();
    let by_steps = a.rs == 1 && span > super::cache::l2_bytes() / 2;
    pack_a_as::<S, MR>(a, rows, steps, dst, by_steps)
}

/// [`pack_a`], the full panels of a transposed A filled step by step when `by_steps` (which
/// needs A's unit row stride), else panel by panel.
///
/// # Safety
/// As for [`pack_a`].
#[inline(always)]
unsafe fn pack_a_as<S: Simd, const MR: usize>(
    a: Mat<S::E>,
    (i0, mc): (usize, usize),
    (p0, kc): (usize, usize),
    mut dst: *mut S::E,
    by_steps: bool,
) {
    let mr = MR;
    let full = if by_steps { mc / MR * MR } else { 0 };
    let group = panels_per_pass::<S::E>(MR) * MR;
    for g0 in (0..full).step_by(group) {
        let rows = group.min(full - g0);
        for p in 0..kc {
            let src = a.at(i0 + g0, p0 + p);
            // The same run PREFETCH_STEPS steps on: a column of A away each step, across pages,
            // where the hardware's prefetchers would not look.
            S::prefetch_lines(src.wrapping_offset(PREFETCH_STEPS * a.cs), rows);
            for ir in (0..rows).step_by(MR) {
                let panel = dst.add((g0 + ir) * kc);
                std::ptr::copy_nonoverlapping(src.add(ir), panel.add(p * MR), MR);
            }
        }
    }
    dst = dst.add(full * kc);
    for ir in (full..mc).step_by(mr) {
        let rows = mr.min(mc - ir);
        let src = a.at(i0 + ir, p0);
        if a.rs == 1 && rows == mr {
            // Each step's MR values are adjacent in memory (A is a transposed view), and steps
            // are a column of A apart: ask for the step a few ahead, which the hardware's
            // prefetchers would not guess across pages.
            for p in 0..kc as isize {
                S::prefetch(src.wrapping_offset((p + PREFETCH_STEPS) * a.cs));
                std::ptr::copy_nonoverlapping(src.offset(p * a.cs), dst, mr);
                dst = dst.add(mr);
            }
        } else if a.cs == 1 && rows == mr {
            // Row-major A: MR rows read side by side, one value of each per step.
            let row: [*const S::E; MR] = std::array::from_fn(|i| src.offset(i as isize * a.rs));
            for p in 0..kc {
                for (i, r) in row.iter().enumerate() {
                    *dst.add(i) = *r.add(p);
                }
                dst = dst.add(MR);
            }
        } else {
            for p in 0..kc as isize {
                for i in 0..mr {
                    *dst.add(i) = if i < rows {
                        *src.offset(i as isize * a.rs + p * a.cs)
                    } else {
                        <S::E as num_traits::Zero>::zero()
                    };
                }
                dst = dst.add(mr);
            }
        }
    }
}

/// Packs rows `p0 .. p0 + kc` and columns `j0 .. j0 + nc` of `b` into `NV · LANES`-column
/// panels of `S`'s vectors at `dst`; the last panel is [`Simd::panel_width`] wide.
///
/// # Safety
/// The block must lie inside `b`, and `dst` must be valid for `kc · round_up(nc, LANES)` writes.
#[inline(always)]
pub(crate) unsafe fn pack_b<S: Simd, const NV: usize>(
    b: Mat<S::E>,
    (p0, kc): (usize, usize),
    (j0, nc): (usize, usize),
    mut dst: *mut S::E,
) {
    let lanes = S::LANES;
    let nr = NV * lanes;
    for jr in (0..nc).step_by(nr) {
        let cols = nr.min(nc - jr);
        let width = S::panel_width(cols);
        let src = b.at(p0, j0 + jr);
        if b.cs == 1 && cols == nr {
            // A whole panel: copies of a size known at compile time, which stay inline.
            for p in 0..kc as isize {
                let s = src.offset(p * b.rs);
                for v in 0..NV {
                    copy_lanes(s.add(v * lanes), dst.add(v * lanes), lanes);
                }
                dst = dst.add(nr);
            }
        } else {
            for p in 0..kc as isize {
                for j in 0..width {
                    *dst.add(j) = if j < cols {
                        *src.offset(p * b.rs + j as isize * b.cs)
                    } else {
                        <S::E as num_traits::Zero>::zero()
                    };
                }
                dst = dst.add(width);
            }
        }
    }
}

/// Panels of a transposed A that [`pack_a`] fills in one pass over the steps: the fewest, and at
/// least [`MIN_PANELS_PER_PASS`], whose values in one step fill whole cache lines, so that each
/// line of A is read in one pass only. Where a column of A is a multiple of 4 KiB (cifar's and
/// large's X), a pass's lines all fall in one set of L1 and a few of L2, and the part of a line
/// left for the next pass had to come from L3 again: AVX2's 6-row f32 panels took 4 a pass, 96
/// bytes, one and a half lines; 8 a pass, 192 bytes, three lines. On Zen 3 (AVX2, 512 KiB of
/// L2), one thread's cifar-like backward `3072 x 200 x 100` (A transposed) ran 8% faster, the
/// large-like `3072 x 1024 x 1024` 3%, and mnist800's `784 x 128 x 800` (no such alignment)
/// the same (paired runs).
fn panels_per_pass<E>(mr: usize) -> usize {
    let step = mr * std::mem::size_of::<E>();
    (MIN_PANELS_PER_PASS..=MAX_PANELS_PER_PASS)
        .find(|p| (p * step).is_multiple_of(LINE))
        .unwrap_or(MIN_PANELS_PER_PASS)
}

/// The fewest panels [`pack_a`] fills a pass, whole lines or not (a block's 12 to 24 panels
/// all at once measured about the same: cifar's backward 0.98 of the panel-by-panel time
/// against 0.95 with four, large's 0.93 against 0.96; four write streams stay apart in L1
/// even when the panels' starts fall 4 KiB apart; with 8-row AVX-512 panels, whose four fill
/// two lines, eight a pass were 0-20% slower).
const MIN_PANELS_PER_PASS: usize = 4;

/// The most panels [`pack_a`] fills a pass to make whole lines.
const MAX_PANELS_PER_PASS: usize = 16;

/// Bytes in a cache line.
const LINE: usize = 64;

/// How many steps ahead of the one it copies [`pack_a`] asks for a transposed A's values.
const PREFETCH_STEPS: isize = 8;

/// Copies one vector's `lanes` elements (1, 4, 8 or 16) with a copy of fixed size.
#[inline(always)]
unsafe fn copy_lanes<T>(src: *const T, dst: *mut T, lanes: usize) {
    match lanes {
        16 => std::ptr::copy_nonoverlapping(src, dst, 16),
        8 => std::ptr::copy_nonoverlapping(src, dst, 8),
        4 => std::ptr::copy_nonoverlapping(src, dst, 4),
        _ => std::ptr::copy_nonoverlapping(src, dst, lanes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::simd::Scalar;
    use ndarray::Array2;

    /// Packs a block of a transposed A both ways and returns the two buffers.
    fn both_ways<const MR: usize>(
        m: usize,
        k: usize,
        rows: (usize, usize),
        steps: (usize, usize),
    ) -> (Vec<f32>, Vec<f32>) {
        let stored = Array2::from_shape_fn((k, m), |(p, i)| (p * 1000 + i) as f32);
        let a = Mat::of(&stored.t());
        let len = rows.1.div_ceil(MR) * MR * steps.1;
        let (mut by_steps, mut by_panels) = (vec![-1.0; len], vec![-2.0; len]);
        // SAFETY: the block lies inside A, and each buffer holds the packed block.
        unsafe {
            pack_a_as::<Scalar<f32>, MR>(a, rows, steps, by_steps.as_mut_ptr(), true);
            pack_a_as::<Scalar<f32>, MR>(a, rows, steps, by_panels.as_mut_ptr(), false);
        }
        (by_steps, by_panels)
    }

    #[test]
    fn a_transposed_a_packs_the_same_step_by_step_as_panel_by_panel() {
        for (rows, steps) in [
            ((2, 19), (3, 30)),
            ((0, 23), (0, 37)),
            ((5, 3), (1, 9)),
            ((0, 64), (10, 27)),
        ] {
            let (s4, p4) = both_ways::<4>(80, 40, rows, steps);
            assert_eq!(s4, p4, "MR 4, rows {rows:?}, steps {steps:?}");
            let (s6, p6) = both_ways::<6>(80, 40, rows, steps);
            assert_eq!(s6, p6, "MR 6, rows {rows:?}, steps {steps:?}");
        }
        // Several passes of 8 six-row panels, then a short one and a short panel.
        let (s6, p6) = both_ways::<6>(128, 24, (3, 119), (2, 20));
        assert_eq!(s6, p6, "MR 6, two passes and more");
        // Spot check of the layout: panel 1, step 2, row 3 of the panel is A[4 + 3, 2].
        let (packed, _) = both_ways::<4>(80, 40, (0, 8), (0, 5));
        assert_eq!(packed[5 * 4 + 2 * 4 + 3], (2 * 1000 + 7) as f32);
    }

    #[test]
    fn a_pass_of_packing_reads_whole_cache_lines_of_a_transposed_a() {
        for (mr, size, panels) in [
            (6, 4, 8),
            (6, 8, 4),
            (8, 4, 4),
            (12, 4, 4),
            (4, 4, 4),
            (7, 4, 16),
        ] {
            let p = if size == 4 {
                panels_per_pass::<f32>(mr)
            } else {
                panels_per_pass::<f64>(mr)
            };
            assert_eq!(p, panels, "{mr} rows of {size} bytes");
            assert_eq!(p * mr * size % LINE, 0, "whole lines");
        }
        // No whole lines within the limit: the fewest panels.
        assert_eq!(panels_per_pass::<[u8; 3]>(7), MIN_PANELS_PER_PASS);
    }
}
