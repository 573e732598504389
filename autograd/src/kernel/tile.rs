//! Storing the micro-kernel's register tile into C: overwriting, adding to what C holds, or
//! adding to a scaled copy of another matrix, vector by vector with the last vector masked to
//! the tile's width, or element by element when C (or the scaled matrix) is strided.

use super::simd::Simd;
use super::Start;

/// Where a micro-kernel's result goes: an up to `MR x nr` tile of C.
#[derive(Clone, Copy)]
pub(crate) struct Tile<T> {
    pub(super) c: *mut T,
    pub(super) rs: isize,
    pub(super) cs: isize,
    pub(super) rows: usize,
    pub(super) cols: usize,
    /// What the tile's product is added to: the tile of `s · x` is given by the pointer to its
    /// first element and `x`'s strides.
    pub(super) start: Start<(*const T, isize, isize), T>,
}

/// Stores a tile of unit column stride as its start says, vector by vector, the last vector's
/// first `last` lanes only.
///
/// # Safety
/// The tile must be valid for its shape and strides (and `x`'s too, for a scaled start), `S`'s
/// target features present; C's column stride must be 1, and the tile's columns
/// `(NV - 1)·LANES + last`.
#[inline(always)]
pub(super) unsafe fn store_tile<S: Simd, const MR: usize, const NV: usize>(
    acc: &[[S::V; NV]; MR],
    t: &Tile<S::E>,
    last: usize,
) {
    match t.start {
        Start::Overwrite => {
            store_rows::<S, MR, NV>(acc, t, last, |p, _, len, acc| store_len::<S>(p, acc, len))
        }
        Start::Accumulate => store_rows::<S, MR, NV>(acc, t, last, |p, _, len, acc| {
            store_len::<S>(p, S::add(load_len::<S>(p, len), acc), len)
        }),
        Start::Scaled((x, rs, 1), s) => {
            let s = S::splat(s);
            store_rows::<S, MR, NV>(acc, t, last, |p, at, len, acc| {
                let sx = S::mul(
                    s,
                    load_len::<S>(x.offset(at.0 as isize * rs).add(at.1), len),
                );
                store_len::<S>(p, S::add(sx, acc), len)
            })
        }
        Start::Scaled(..) => store_narrow::<S, MR, NV>(acc, t),
    }
}

/// `len` elements from `p` (`0 < len <= LANES`) as a vector, zero in the other lanes.
///
/// # Safety
/// As for [`Simd::load_part`].
#[inline(always)]
unsafe fn load_len<S: Simd>(p: *const S::E, len: usize) -> S::V {
    if len == S::LANES {
        S::load(p)
    } else {
        S::load_part(p, len)
    }
}

/// Stores the first `len` lanes of `v` (`0 < len <= LANES`) to `p`.
///
/// # Safety
/// As for [`Simd::store_part`].
#[inline(always)]
unsafe fn store_len<S: Simd>(p: *mut S::E, v: S::V, len: usize) {
    if len == S::LANES {
        S::store(p, v)
    } else {
        S::store_part(p, v, len)
    }
}

/// Stores a tile's rows (as many as it has) vector by vector: `store(p, (i, j), len, v)` with
/// `p` the address of C's element `(i, j)` of the tile, `v` its accumulator vector, `len` the
/// lanes of it to store (`LANES`, or `last` for the last vector). The loops run over all `MR`
/// rows, so every index into `acc` is known at compile time.
///
/// # Safety
/// As for [`store_tile`].
#[inline(always)]
unsafe fn store_rows<S: Simd, const MR: usize, const NV: usize>(
    acc: &[[S::V; NV]; MR],
    t: &Tile<S::E>,
    last: usize,
    store: impl Fn(*mut S::E, (usize, usize), usize, S::V),
) {
    for (i, row) in acc.iter().enumerate() {
        if i < t.rows {
            let c = t.c.offset(i as isize * t.rs);
            for (v, &acc) in row.iter().enumerate() {
                let len = if v + 1 == NV { last } else { S::LANES };
                store(c.add(v * S::LANES), (i, v * S::LANES), len, acc);
            }
        }
    }
}

/// Stores a tile of strided C, or scaled from a strided `x`: the accumulators through a
/// buffer, then element by element.
///
/// # Safety
/// The tile must be valid for its shape and strides (and `x`'s too, for a scaled start), `S`'s
/// target features present.
#[inline(always)]
pub(super) unsafe fn store_narrow<S: Simd, const MR: usize, const NV: usize>(
    acc: &[[S::V; NV]; MR],
    t: &Tile<S::E>,
) {
    let mut buf = [[<S::E as num_traits::Zero>::zero(); MAX_TILE_WIDTH]; MR];
    for (row, out) in acc.iter().zip(buf.iter_mut()) {
        for (v, &acc) in row.iter().enumerate() {
            S::store(out.as_mut_ptr().add(v * S::LANES), acc);
        }
    }
    for (i, row) in buf.iter().enumerate().take(t.rows) {
        let c = t.c.offset(i as isize * t.rs);
        for (j, &acc) in row.iter().enumerate().take(t.cols) {
            let p = c.offset(j as isize * t.cs);
            *p = match t.start {
                Start::Overwrite => acc,
                Start::Accumulate => *p + acc,
                Start::Scaled((x, rs, cs), s) => {
                    s * *x.offset(i as isize * rs + j as isize * cs) + acc
                }
            };
        }
    }
}

/// Upper bound of `NV · LANES` over the instruction sets, so an edge row fits the micro-kernel's
/// buffer.
pub(crate) const MAX_TILE_WIDTH: usize = 64;
