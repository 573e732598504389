//! tapegrad's own matrix-product kernel: packed panels, register-blocked micro-kernels for
//! AVX-512 and AVX2+FMA (f32 and f64) chosen at run time, a portable scalar fallback, packing
//! buffers kept per thread, and threads that split the larger dimension of C.
//!
//! Results are bit-identical whatever the number of threads: each element of C is reduced in
//! the same order wherever the split falls (see [`micro`]). They may differ between
//! instruction sets (FMA rounds once, the scalar fallback twice).

mod blocks;
mod cache;
mod depth_halves;
mod dispatch;
pub(crate) mod gemm;
mod micro;
mod out;
mod pack;
mod scratch;
mod simd;
mod start;
mod tile;

use std::any::TypeId;

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use crate::Element;

pub(crate) use out::{RowFinish, Target};
use start::start_only;
pub(crate) use start::Start;

/// An instruction set the packed kernel has micro-kernels for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// Plain Rust, any CPU.
    Scalar,
    /// x86-64 AVX2 with FMA (256-bit vectors, 16 registers).
    Avx2,
    /// x86-64 AVX-512F with AVX-512VL (512-bit vectors, 32 registers, which VL opens to the
    /// 256-bit vectors of a narrow last panel too; every AVX-512 CPU but Xeon Phi has it).
    Avx512,
}

impl Isa {
    /// Every instruction set, supported by this CPU or not.
    pub const ALL: [Isa; 3] = [Isa::Scalar, Isa::Avx2, Isa::Avx512];

    /// Whether this CPU can run the micro-kernels of `self`.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The widest instruction set this CPU supports.
    pub fn best() -> Isa {
        [Isa::Avx512, Isa::Avx2]
            .into_iter()
            .find(|isa| isa.is_supported())
            .unwrap_or(Isa::Scalar)
    }
}

/// A read-only matrix: pointer, shape and element strides.
#[derive(Clone, Copy)]
pub(crate) struct Mat<T> {
    ptr: *const T,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
}

/// A writable matrix: pointer, shape and element strides.
#[derive(Clone, Copy)]
pub(crate) struct MatMut<T> {
    pub(crate) ptr: *mut T,
    pub(crate) rs: isize,
    pub(crate) cs: isize,
}

impl<T> Mat<T> {
    fn of(v: &ArrayView2<'_, T>) -> Self {
        let (rows, cols) = v.dim();
        let (rs, cs) = (v.strides()[0], v.strides()[1]);
        Mat {
            ptr: v.as_ptr(),
            rows,
            cols,
            rs,
            cs,
        }
    }
    /// The same matrix as elements of `U`, which must be `T` itself.
    pub(crate) fn cast<U>(self) -> Mat<U> {
        Mat {
            ptr: self.ptr.cast(),
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
        }
    }
    /// Pointer to element `(i, j)`; it must be in bounds.
    #[inline(always)]
    unsafe fn at(&self, i: usize, j: usize) -> *const T {
        self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }
}

impl<T> MatMut<T> {
    pub(crate) fn of(v: &mut ArrayViewMut2<'_, T>) -> Self {
        let (rs, cs) = (v.strides()[0], v.strides()[1]);
        MatMut {
            ptr: v.as_mut_ptr(),
            rs,
            cs,
        }
    }
    /// The same matrix as elements of `U`, which must be `T` itself.
    pub(crate) fn cast<U>(self) -> MatMut<U> {
        MatMut {
            ptr: self.ptr.cast(),
            rs: self.rs,
            cs: self.cs,
        }
    }
    /// Pointer to element `(i, j)`; it must be in bounds.
    #[inline(always)]
    unsafe fn at(&self, i: usize, j: usize) -> *mut T {
        self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }
}

/// Rows of C given to a thread come in multiples of this (a multiple of the 4- and 8-row
/// tiles; a 6- or 12-row tile may then end in a short panel): 784 rows cut 392 + 392, where a
/// unit of 24 cut 384 + 400, and the mnist800 step's thread with 400 rows kept the other
/// waiting (about 1% of the step).
const ROW_UNIT: usize = 8;
/// Columns of C given to a thread come in multiples of this (a multiple of every vector width).
const COL_UNIT: usize = 16;

/// `c = a · b`, `c += a · b` or `c = s·x + a·b` as `start` says, with `isa`'s micro-kernels on
/// up to `threads` threads, into the matrix or the sink of `target`. Shapes must agree (`a`:
/// m x k, `b`: k x n, C and `x`: m x n) and `isa` must be supported; the caller checks both. A
/// sink takes C's final values, so it needs a start other than `Accumulate` and `k` within one
/// depth block ([`single_pass`]).
pub(crate) fn product<T: Element>(
    isa: Isa,
    threads: usize,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    target: Target<'_, '_, T>,
    start: Start<ArrayView2<'_, T>, T>,
) {
    assert!(
        isa.is_supported(),
        "the packed kernel was asked for {isa:?}, which this CPU lacks"
    );
    let (m, n) = target.dim();
    if m == 0 || n == 0 {
        return;
    }
    let c = match target {
        Target::Matrix(c) => c,
        Target::Finished {
            mut c,
            finish,
            origin,
        } => {
            assert!(c.strides()[1] == 1, "a finished product's C is row-major");
            if a.ncols() == 0 {
                start_only(c.view_mut(), start);
                for (i, mut row) in c.rows_mut().into_iter().enumerate() {
                    let row = row.as_slice_mut().expect("a row of unit stride");
                    finish(i, 0, row);
                }
                return;
            }
            let target = Target::Finished { c, finish, origin };
            return split(isa, threads, a, b, target, start);
        }
        Target::Rows { sink, .. } => {
            assert!(
                !matches!(start, Start::Accumulate) && single_pass::<T>(isa, a.ncols()),
                "a product handed to a sink is computed in one pass"
            );
            if a.ncols() == 0 {
                return out::scaled_rows(sink, (m, n), start);
            }
            return split(isa, threads, a, b, target, start);
        }
    };
    if a.ncols() == 0 {
        return start_only(c, start);
    }
    // The micro-kernel stores rows of C as vectors; a column-major C is a row-major Cᵀ = BᵀAᵀ.
    if c.strides()[1] != 1 && c.strides()[0] == 1 {
        return split(
            isa,
            threads,
            b.reversed_axes(),
            a.reversed_axes(),
            Target::Matrix(c.reversed_axes()),
            start.reversed_axes(),
        );
    }
    split(isa, threads, a, b, Target::Matrix(c), start);
}

/// Whether a product with inner dimension `k` of `T`s on `isa` is one depth block, so that each
/// tile of C is final when the micro-kernel has it (which a [`Target::Rows`] needs).
pub(crate) fn single_pass<T: Element>(isa: Isa, k: usize) -> bool {
    k <= depth_block::<T>(isa)
}

/// The most depth of `T`s one pass of `isa`'s micro-kernels takes (its `KC`).
fn depth_block<T: Element>(isa: Isa) -> usize {
    let f32 = TypeId::of::<T>() == TypeId::of::<f32>();
    #[cfg(target_arch = "x86_64")]
    let kc = match isa {
        Isa::Avx512 if f32 => <simd::Avx512F32 as simd::Simd>::KC,
        Isa::Avx512 => <simd::Avx512F64 as simd::Simd>::KC,
        Isa::Avx2 if f32 => <simd::Avx2F32 as simd::Simd>::KC,
        Isa::Avx2 => <simd::Avx2F64 as simd::Simd>::KC,
        Isa::Scalar => <simd::Scalar<T> as simd::Simd>::KC,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let kc = {
        let _ = (isa, f32);
        <simd::Scalar<T> as simd::Simd>::KC
    };
    kc
}

/// Deterministic values in [-1, 1) that are not round numbers, for the kernel's unit tests.
#[cfg(test)]
fn test_values(rows: usize, cols: usize, seed: usize) -> ndarray::Array2<f32> {
    ndarray::Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * 7919 + j * 104_729 + seed * 13) % 2003) as f32 / 1001.5 - 1.0
    })
}

/// Splits C between `threads` threads (the [`team`](crate::team)'s), recursively in two: by
/// rows unless C is more than twice as wide as tall. Rows are preferred because the other
/// parallel passes over a matrix (the optimizer's update, long sums) cut it into row halves
/// too, so each thread finds its half of a weight gradient in its own core's cache (the
/// mnist800 step: 3% faster than cutting `784 x 800` gradients by columns). A product stored
/// over C (not added to it) that is three or more depth blocks deep is cut by depth, on any
/// number of threads; a finished one of two blocks, when it would be cut by columns
/// ([`depth_halves`]).
fn split<T: Element>(
    isa: Isa,
    threads: usize,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c: Target<'_, '_, T>,
    start: Start<ArrayView2<'_, T>, T>,
) {
    let (m, n) = c.dim();
    let cut = depth_halves::cut::<T>(isa, a.ncols());
    match (c, cut) {
        (Target::Finished { c, finish, origin }, Some(cut))
            if matches!(start, Start::Overwrite)
                && (cut.always || threads >= 2 && !by_rows(m, n)) =>
        {
            depth_halves::product(isa, threads, a, b, c, Some((finish, origin)), cut.k0)
        }
        (Target::Matrix(c), Some(cut)) if matches!(start, Start::Overwrite) && cut.always => {
            depth_halves::product(isa, threads, a, b, c, None, cut.k0)
        }
        (c, _) => split_plain(isa, threads, a, b, c, start),
    }
}

/// Whether an `m x n` C is cut between threads by rows (else by columns): unless it is more
/// than twice as wide as tall, and when it has rows enough for two threads.
fn by_rows(m: usize, n: usize) -> bool {
    2 * m >= n && m >= 2 * ROW_UNIT
}

/// [`split`] by rows or columns only.
pub(super) fn split_plain<T: Element>(
    isa: Isa,
    threads: usize,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c: Target<'_, '_, T>,
    start: Start<ArrayView2<'_, T>, T>,
) {
    let (m, n) = c.dim();
    let left = threads / 2;
    let cut = |len: usize, unit: usize| {
        let mid = (len * left / threads.max(1) + unit / 2) / unit * unit;
        mid.clamp(unit, len - unit)
    };
    if threads >= 2 && by_rows(m, n) {
        let mid = cut(m, ROW_UNIT);
        let (a0, a1) = a.split_at(Axis(0), mid);
        let (c0, c1) = c.split_at(Axis(0), mid);
        let (s0, s1) = start.split_at(Axis(0), mid);
        crate::team::join(
            || split_plain(isa, left, a0, b, c0, s0),
            || split_plain(isa, threads - left, a1, b, c1, s1),
        );
    } else if threads >= 2 && n >= 2 * COL_UNIT {
        let mid = cut(n, COL_UNIT);
        let (b0, b1) = b.split_at(Axis(1), mid);
        let (c0, c1) = c.split_at(Axis(1), mid);
        let (s0, s1) = start.split_at(Axis(1), mid);
        crate::team::join(
            || split_plain(isa, left, a, b0, c0, s0),
            || split_plain(isa, threads - left, a, b1, c1, s1),
        );
    } else {
        dispatch::serial(isa, a, b, c, start);
    }
}
