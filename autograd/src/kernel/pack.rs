//! Copying blocks of A and B into the contiguous, zero-padded panels the micro-kernel streams.
//!
//! A block of A (`mc x kc`) becomes `ceil(mc / MR)` panels, each `kc` steps of `MR` values (one
//! value per row, rows past the block's end are zero). A block of B (`kc x nc`) becomes panels
//! of `nr` columns, each `kc` steps of `nr` values; the last panel is only as wide as its
//! columns rounded up to whole vectors, with zeros past the end. Whatever the operands' strides
//! (transposed views included), the micro-kernel then reads both with unit stride.

use super::simd::Simd;
use super::Mat;
use crate::Element;

/// Packs rows `i0 .. i0 + mc` and columns `p0 .. p0 + kc` of `a` into `MR`-row panels at `dst`,
/// prefetching with `S`'s hint.
///
/// # Safety
/// The block must lie inside `a`, and `dst` must be valid for `ceil(mc / MR) · MR · kc` writes;
/// `S`'s target features must be present.
#[inline(always)]
pub(crate) unsafe fn pack_a<S: Simd, const MR: usize>(
    a: Mat<S::E>,
    (i0, mc): (usize, usize),
    (p0, kc): (usize, usize),
    mut dst: *mut S::E,
) {
    let mr = MR;
    for ir in (0..mc).step_by(mr) {
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

/// Packs rows `p0 .. p0 + kc` and columns `j0 .. j0 + nc` of `b` into `NV · lanes`-column panels at
/// `dst`; the last panel is `round_up(remaining columns, lanes)` wide.
///
/// # Safety
/// The block must lie inside `b`, and `dst` must be valid for `kc · round_up(nc, lanes)` writes.
#[inline(always)]
pub(crate) unsafe fn pack_b<T: Element, const NV: usize>(
    b: Mat<T>,
    (p0, kc): (usize, usize),
    (j0, nc): (usize, usize),
    lanes: usize,
    mut dst: *mut T,
) {
    let nr = NV * lanes;
    for jr in (0..nc).step_by(nr) {
        let cols = nr.min(nc - jr);
        let width = cols.div_ceil(lanes) * lanes;
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
                        T::zero()
                    };
                }
                dst = dst.add(width);
            }
        }
    }
}

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
