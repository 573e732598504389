//! The register-blocked micro-kernel and the loops around it (the BLIS scheme).
//!
//! Loop order, outermost first: the inner dimension in blocks of `KC` ([`depth`]); columns of
//! C in blocks of at most `NC` ([`block_columns`]: as many as three quarters of the L2 cache
//! hold; as few blocks as that allows, of even widths, [`column_step`]), each block of B packed
//! (it stays in L2); rows of C in blocks of `MC`, each block of
//! A packed (once for all column blocks when there are several, [`packs_a_once`]); then
//! `MR`-row panels of A and `nr`-column panels of B, each pair multiplied by the micro-kernel
//! into an `MR x nr` tile of C held in registers. The micro-kernel broadcasts A's values and loads
//! B's as vectors, so a panel of A (the broadcast side, `MR x KC`) stays in L1 while every
//! panel of the B block streams past it from L2.
//!
//! Every element of C is computed the same way wherever it lies (edge tiles included, whose
//! panels are zero-padded): for each depth block (`depth`) in order, a chain of `KC` multiply-adds from
//! zero, then added to C (or stored, for the first block without accumulation). So a result
//! does not depend on how C was split between threads, nor on the tile widths.

use super::blocks::{block_columns, column_step, depth, packs_a_once, reads_a_in_place};
use super::out::Out;
use super::pack::{pack_a, pack_b};
use super::simd::Simd;
use super::tile::{store_narrow, store_tile, Tile};
use super::{Mat, MatMut, Start};

/// `c = a · b` (or `c += a · b` when `accumulate`) on this thread, with `S`'s vectors and an
/// `MR x (NV·LANES)` register tile, packing into `pa` and `pb`. `k` must be at least 1.
///
/// With a finishing pass, each `MR`-row panel of C goes through it once stored for the last
/// depth block (C must then be row-major).
///
/// For a sink, each `MR`-row panel of C is stored into a staging area after packed B (in L1),
/// exactly as into C, and handed to the sink a whole row of the block at a time once its
/// tiles are done: long pieces, whose use (an optimizer's update) runs as one loop.
///
/// # Safety
/// `S`'s target features must be present; the three matrices must be valid for their shapes
/// and strides, `c` aliasing neither `a` nor `b`; `pa` and `pb` must be valid for the lengths
/// [`buffer_lens`](super::blocks::buffer_lens) gives.
#[inline(always)]
pub(crate) unsafe fn product<S: Simd, const MR: usize, const NV: usize>(
    a: Mat<S::E>,
    b: Mat<S::E>,
    c: Out<'_, S::E>,
    start: Start<Mat<S::E>, S::E>,
    pa: *mut S::E,
    pb: *mut S::E,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let nr = NV * S::LANES;
    let stage = pb.add(S::KC.min(k) * S::NC.min(n).div_ceil(S::LANES) * S::LANES);
    let in_place = reads_a_in_place(n, nr, a.cs == 1);
    let once = packs_a_once::<S>((m, k, n), nr, a.cs == 1);
    let nc_max = column_step(n, block_columns::<S>(nr), nr);
    // Depth blocks outermost: each element of C still takes them in order.
    let kc_step = depth::<S>(k);
    for pc in (0..k).step_by(kc_step) {
        let kc = kc_step.min(k - pc);
        // Only the first depth block starts from `start`; the later ones add to C.
        let start = if pc == 0 { start } else { Start::Accumulate };
        for jc in (0..n).step_by(nc_max) {
            let nc = nc_max.min(n - jc);
            pack_b::<S, NV>(b, (pc, kc), (jc, nc), pb);
            for ic in (0..m).step_by(S::MC) {
                let mc = S::MC.min(m - ic);
                // This block's packed panels (all of A's, when packed once, from the first
                // block of columns on).
                let pa = if once { pa.add(ic * kc) } else { pa };
                if !in_place && (!once || jc == 0) {
                    pack_a::<S, MR>(a, (ic, mc), (pc, kc), pa);
                }
                for ir in (0..mc).step_by(MR) {
                    let rows = MR.min(mc - ir);
                    let panel = if !in_place {
                        Panel::packed::<MR>(pa.add(ir * kc))
                    } else if rows == MR {
                        Panel {
                            a: a.at(ic + ir, pc),
                            rs: a.rs,
                            cs: a.cs,
                        }
                    } else {
                        pack_a::<S, MR>(a, (ic + ir, rows), (pc, kc), pa);
                        Panel::packed::<MR>(pa)
                    };
                    for jr in (0..nc).step_by(nr) {
                        let cols = nr.min(nc - jr);
                        let bp = pb.add(jr * kc).cast_const();
                        let (i, j) = (ic + ir, jc + jr);
                        let c = match c {
                            Out::Store(c) | Out::Finished { c, .. } => MatMut {
                                ptr: c.at(i, j),
                                ..c
                            },
                            Out::Rows { .. } => MatMut {
                                ptr: stage.add(jr),
                                rs: nc as isize,
                                cs: 1,
                            },
                        };
                        let tile = Tile {
                            c: c.ptr,
                            rs: c.rs,
                            cs: c.cs,
                            rows,
                            cols,
                            start: match start {
                                Start::Overwrite => Start::Overwrite,
                                Start::Accumulate => Start::Accumulate,
                                Start::Scaled(x, s) => Start::Scaled((x.at(i, j), x.rs, x.cs), s),
                            },
                        };
                        let packed = panel.rs == 1 && panel.cs == MR as isize;
                        // A last panel packed one half vector wide takes half vectors.
                        let half = S::panel_width(cols) < S::LANES;
                        match (cols.div_ceil(S::LANES), packed) {
                            _ if half && packed => {
                                micro::<S::Half, MR, 1, true>(kc, panel, bp, tile)
                            }
                            _ if half => micro::<S::Half, MR, 1, false>(kc, panel, bp, tile),
                            (1, true) => micro::<S, MR, 1, true>(kc, panel, bp, tile),
                            (2, true) => micro::<S, MR, 2, true>(kc, panel, bp, tile),
                            (3, true) => micro::<S, MR, 3, true>(kc, panel, bp, tile),
                            (_, true) => micro::<S, MR, NV, true>(kc, panel, bp, tile),
                            (1, false) => micro::<S, MR, 1, false>(kc, panel, bp, tile),
                            (2, false) => micro::<S, MR, 2, false>(kc, panel, bp, tile),
                            (3, false) => micro::<S, MR, 3, false>(kc, panel, bp, tile),
                            (_, false) => micro::<S, MR, NV, false>(kc, panel, bp, tile),
                        }
                    }
                    match c {
                        Out::Rows { sink, origin } => {
                            for r in 0..rows {
                                let row = std::slice::from_raw_parts(stage.add(r * nc), nc);
                                sink(origin.0 + ic + ir + r, origin.1 + jc, row);
                            }
                        }
                        // The panel's rows are final after the last depth block.
                        Out::Finished { c, finish, origin } if pc + kc == k => {
                            for r in 0..rows {
                                let row = c.at(ic + ir + r, jc);
                                let row = std::slice::from_raw_parts_mut(row, nc);
                                finish(origin.0 + ic + ir + r, origin.1 + jc, row);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// An `MR`-row panel of A as the micro-kernel reads it: row `i` of step `p` is at
/// `a + i·rs + p·cs`.
#[derive(Clone, Copy)]
struct Panel<T> {
    a: *const T,
    rs: isize,
    cs: isize,
}

impl<T> Panel<T> {
    /// A packed panel: the `MR` values of each step side by side.
    fn packed<const MR: usize>(a: *const T) -> Self {
        Panel {
            a,
            rs: 1,
            cs: MR as isize,
        }
    }
}

/// `tile (+)= Apanel · Bpanel` for one `MR`-row panel of A and the `NV`-vector-wide packed panel
/// of B at `b` (its steps `NV·LANES` elements apart: the dispatch gives a panel as many vectors
/// as its width needs), `kc` deep. `PACKED` says A's panel is packed (its strides are then known
/// at compile time); else it is read in place through its strides.
///
/// # Safety
/// As for [`product`]; the panels hold `kc` steps.
#[inline(always)]
unsafe fn micro<S: Simd, const MR: usize, const NV: usize, const PACKED: bool>(
    kc: usize,
    panel: Panel<S::E>,
    b: *const S::E,
    t: Tile<S::E>,
) {
    let (a, rs, cs) = if PACKED {
        (panel.a, 1, MR as isize)
    } else {
        (panel.a, panel.rs, panel.cs)
    };
    // Fetch C's tile while the products run, so that the final read of C does not wait.
    for i in 0..t.rows {
        let row = t.c.offset(i as isize * t.rs);
        S::prefetch(row);
        S::prefetch(row.offset((t.cols as isize - 1) * t.cs));
    }
    let mut acc = [[S::zero(); NV]; MR];
    // An unpacked panel's rows, each from its own pointer.
    let rows: [*const S::E; MR] = std::array::from_fn(|i| a.wrapping_offset(i as isize * rs));
    if !PACKED && cs == 1 {
        // A row-major A read in place, its steps adjacent: with that stride known, each row's
        // address is its own pointer plus the step, and not (as LLVM made it for any stride)
        // one row's address plus the row stride, again and again, a chain of additions as
        // long as the panel is tall in every step.
        steps::<S, MR, NV, PACKED>(&mut acc, kc, (a, &rows, 1), b);
    } else {
        steps::<S, MR, NV, PACKED>(&mut acc, kc, (a, &rows, cs), b);
    }
    // Every access to `acc` has an index known at compile time (loops of MR and NV), so the
    // accumulators stay in registers; one loop over `t.rows` rows spilled all of them to the
    // stack before the tile was stored (about 5% of a product's time).
    if t.cs != 1 {
        return store_narrow::<S, MR, NV>(&acc, &t);
    }
    // The dispatch gives a tile as many vectors as its columns need: only the last may be
    // part full.
    let last = t.cols - (NV - 1) * S::LANES;
    debug_assert!(
        last >= 1 && last <= S::LANES,
        "{} columns in {NV} vectors",
        t.cols
    );
    store_tile::<S, MR, NV>(&acc, &t, last)
}

/// `acc += Apanel · Bpanel` over `kc` steps, A's panel at `a` (packed) or in `rows` (in place),
/// its steps `cs` apart; B's panel at `b`.
///
/// # Safety
/// As for [`micro`].
#[inline(always)]
unsafe fn steps<S: Simd, const MR: usize, const NV: usize, const PACKED: bool>(
    acc: &mut [[S::V; NV]; MR],
    kc: usize,
    (mut a, rows, cs): (*const S::E, &[*const S::E; MR], isize),
    mut b: *const S::E,
) {
    let nr = NV * S::LANES;
    // Steps `S::UNROLL` at a time (a panel read in place, `IN_PLACE_UNROLL`): the addresses of
    // A's values and B's vectors are then offsets known at compile time from pointers advanced
    // once per group, and the loop's own instructions are shared by the group's steps.
    let unroll = if PACKED {
        S::UNROLL
    } else {
        S::UNROLL.max(IN_PLACE_UNROLL)
    };
    let mut step = 0isize;
    let mut left = kc;
    while left >= unroll {
        S::prefetch_lines(b.wrapping_add(PREFETCH_STEPS * nr), unroll * nr);
        for u in 0..unroll {
            one_step::<S, MR, NV, PACKED>(acc, (a, rows, step, cs), u, b.add(u * nr));
        }
        a = a.offset(unroll as isize * cs);
        step += unroll as isize * cs;
        b = b.add(unroll * nr);
        left -= unroll;
    }
    for _ in 0..left {
        S::prefetch_lines(b.wrapping_add(PREFETCH_STEPS * nr), nr);
        one_step::<S, MR, NV, PACKED>(acc, (a, rows, step, cs), 0, b);
        a = a.offset(cs);
        step += cs;
        b = b.add(nr);
    }
}

/// `acc += A's step · B's step` for the step `u` past the current one: A's values at
/// `a + u·MR` when packed, else at `rows[i] + step + u·cs`; B's vectors at `b`.
///
/// # Safety
/// As for [`micro`]; the step must lie inside both panels.
#[inline(always)]
unsafe fn one_step<S: Simd, const MR: usize, const NV: usize, const PACKED: bool>(
    acc: &mut [[S::V; NV]; MR],
    (a, rows, step, cs): (*const S::E, &[*const S::E; MR], isize, isize),
    u: usize,
    b: *const S::E,
) {
    let bv: [S::V; NV] = std::array::from_fn(|v| S::load(b.add(v * S::LANES)));
    for (i, row) in acc.iter_mut().enumerate() {
        let av = if PACKED {
            S::splat(*a.add(u * MR + i))
        } else {
            S::splat(*rows[i].offset(step + u as isize * cs))
        };
        for (x, &bx) in row.iter_mut().zip(&bv) {
            *x = S::mul_add(av, bx, *x);
        }
    }
}

/// How many steps ahead the micro-kernel asks for B's panel (which streams from L2).
const PREFETCH_STEPS: usize = 8;

/// Steps per turn of the loop at least, for a panel of A read in place: its rows' addresses
/// (each row's pointer plus the step, which LLVM makes one chain of additions of the row
/// stride) are then computed once per turn, not once per step. At AVX-512, whose packed loop
/// takes one step a turn, an 8 x 48 step read in place was 12 integer instructions more than a
/// packed one (52 in all), and on a Sapphire Rapids core, whose two 512-bit multiply-add units
/// share their ports with integer instructions, the loop ran 10% below the packed one; four
/// steps a turn: the `1024 x 400 x 720` product 3-6% faster on one thread, the cifar, mnist800
/// and large steps 2-4% (paired runs).
const IN_PLACE_UNROLL: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn a_last_panel_of_b_is_one_half_vector_wide_only_at_avx512_and_when_its_columns_fit() {
        use super::super::simd::{Avx2F32, Avx2F64, Avx512F32, Avx512F64};
        let widths = |w: fn(usize) -> usize| [1, 4, 8, 9, 16, 17, 32].map(w);
        assert_eq!(widths(Avx512F32::panel_width), [8, 8, 8, 16, 16, 32, 32]);
        assert_eq!(widths(Avx512F64::panel_width), [4, 4, 8, 16, 16, 24, 32]);
        assert_eq!(widths(Avx2F32::panel_width), [8, 8, 8, 16, 16, 24, 32]);
        assert_eq!(widths(Avx2F64::panel_width), [4, 4, 8, 12, 16, 20, 32]);
        assert_eq!(
            widths(super::super::simd::Scalar::<f32>::panel_width),
            [1, 4, 8, 9, 16, 17, 32]
        );
    }
}
