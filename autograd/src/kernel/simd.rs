//! The vector operations the micro-kernel is written in, one implementation per instruction set
//! and element type: AVX-512 and AVX2 (with FMA) for `f32` and `f64`, and a portable scalar one.
//!
//! Each implementation also fixes its register blocking: the micro-kernel keeps an
//! `MR x (NV·LANES)` tile of C in registers, so `MR·NV` accumulators plus `NV` loaded B vectors
//! and one broadcast A value must fit the register file (32 vectors with AVX-512, 16 with AVX2).
//! And its cache blocking: a packed block of B (`KC` deep, at most `NC` wide) fills at most
//! three quarters of the L2 cache, so it stays there beside A's panels: on a 2 MiB L2, f32
//! 400 x 960 (whole panels) and f64 128 x 1024
//! ([`block_columns`](super::blocks::block_columns); fewer columns on a smaller L2;
//! f64 blocks of 256 x 1024, 2 MiB, measured 25% slower at the large shape). f32 panels are
//! 400 deep (784 = 2 x 392), not 256: each tile of C is stored half as often. At AVX2 (then
//! with 4-row tiles, which store C half again as often as today's 6 rows) the mnist800 step
//! 4-8% faster and cifar 1-6% (three interleaved rounds); at AVX-512 1-2% (seven rounds),
//! large unchanged.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use crate::Element;

/// One instruction set's vectors of one element type.
///
/// # Safety
/// The methods are intrinsics: they may only run on a CPU with the implementation's target
/// features, and pointers must be valid for `LANES` elements.
pub(crate) trait Simd {
    /// The element type.
    type E: Element;
    /// A vector of `LANES` elements.
    type V: Copy;
    /// Elements per vector.
    const LANES: usize;
    /// Depth of the packed panels (the product's inner dimension is cut into blocks of this).
    const KC: usize;
    /// Rows of A packed at a time (a block that stays in the L2 cache).
    const MC: usize;
    /// Columns of B packed at a time, at most (see [`block_columns`](super::blocks::block_columns)).
    const NC: usize;
    /// Steps of the micro-kernel's loop per turn (see [`micro`](super::micro)): 4 at AVX2,
    /// whose 6 x 16 step spends more instructions per multiply-add (the `1024 x 3072 x 1024`
    /// products 4-8% faster on one thread, paired runs), 1 at AVX-512, whose packed-A products
    /// were 2-5% slower unrolled (a panel of A read in place takes at least four a turn:
    /// `IN_PLACE_UNROLL` in [`micro`](super::micro)).
    const UNROLL: usize;
    /// The vectors of half the width in the same registers, for a last panel of B whose
    /// columns fit in one (see [`panel_width`](Simd::panel_width)): AVX-512's 256-bit halves,
    /// which a CPU that splits each 512-bit multiply-add in two (Zen 4) runs in half the time
    /// (there, paired runs: the `200 x 3072 x 100` and `3072 x 200 x 100` products of cifar's
    /// 100 columns, a last panel of 4, 1-3% faster, the tiny shape's first product 3%; on a
    /// CPU with whole 512-bit units it costs what the full vector did); `Self` where no
    /// narrower vector would be cheaper.
    type Half: Simd<E = Self::E>;
    /// All lanes zero.
    unsafe fn zero() -> Self::V;
    /// All lanes `x`.
    unsafe fn splat(x: Self::E) -> Self::V;
    /// `LANES` elements from `p` (no alignment needed).
    unsafe fn load(p: *const Self::E) -> Self::V;
    /// Stores `v` to `LANES` elements at `p`.
    unsafe fn store(p: *mut Self::E, v: Self::V);
    /// The first `len` elements from `p` (`0 < len < LANES`), zero in the other lanes; memory
    /// past them is not touched.
    unsafe fn load_part(p: *const Self::E, len: usize) -> Self::V;
    /// Stores the first `len` lanes of `v` (`0 < len < LANES`) to `p`; memory past them is not
    /// touched.
    unsafe fn store_part(p: *mut Self::E, v: Self::V, len: usize);
    /// `a · b + c`, fused where the instruction set has it.
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `a · b`.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// Hints that the cache line holding `p` will be read and written soon (`p` may be any
    /// address).
    unsafe fn prefetch(p: *const Self::E);
    /// The width of a packed panel of B holding `cols` columns (at most a full panel): one
    /// [`Half`](Simd::Half) vector when they fit in one and it is narrower, else whole vectors.
    /// The micro-kernel's dispatch reads a panel with the vectors this width is made of.
    fn panel_width(cols: usize) -> usize {
        let half = <Self::Half as Simd>::LANES;
        if half < Self::LANES && cols <= half {
            half
        } else {
            cols.div_ceil(Self::LANES) * Self::LANES
        }
    }
    /// [`prefetch`](Simd::prefetch) for the cache lines of the `len` elements from `p`, one
    /// request per 64 bytes.
    #[inline(always)]
    unsafe fn prefetch_lines(p: *const Self::E, len: usize) {
        let per_line = (64 / std::mem::size_of::<Self::E>()).max(1);
        for at in (0..len).step_by(per_line) {
            Self::prefetch(p.wrapping_add(at));
        }
    }
}

/// Scalar code for any CPU; `a · b + c` rounds twice, as it would without FMA hardware.
pub(crate) struct Scalar<T>(std::marker::PhantomData<T>);

impl<T: Element> Simd for Scalar<T> {
    type E = T;
    type V = T;
    const LANES: usize = 1;
    const KC: usize = 256;
    const MC: usize = 128;
    const NC: usize = 1024;
    const UNROLL: usize = 1;
    type Half = Self;
    #[inline(always)]
    unsafe fn zero() -> T {
        T::zero()
    }
    #[inline(always)]
    unsafe fn splat(x: T) -> T {
        x
    }
    #[inline(always)]
    unsafe fn load(p: *const T) -> T {
        *p
    }
    #[inline(always)]
    unsafe fn store(p: *mut T, v: T) {
        *p = v
    }
    #[inline(always)]
    unsafe fn load_part(_: *const T, _: usize) -> T {
        unreachable!("one lane has no part")
    }
    #[inline(always)]
    unsafe fn store_part(_: *mut T, _: T, _: usize) {
        unreachable!("one lane has no part")
    }
    #[inline(always)]
    unsafe fn mul_add(a: T, b: T, c: T) -> T {
        a * b + c
    }
    #[inline(always)]
    unsafe fn add(a: T, b: T) -> T {
        a + b
    }
    #[inline(always)]
    unsafe fn mul(a: T, b: T) -> T {
        a * b
    }
    #[inline(always)]
    unsafe fn prefetch(_: *const T) {}
}

/// Defines a unit struct implementing [`Simd`] with the given intrinsics.
macro_rules! x86_simd {
    ($name:ident, $doc:literal, $e:ty, $v:ty, $lanes:expr, kc = $kc:expr, mc = $mc:expr, nc = $nc:expr, unroll = $unroll:expr,
     half = $half:ty,
     $zero:ident, $splat:ident, $load:ident, $store:ident, $fma:ident, $add:ident, $mul:ident,
     $load_part:path, $store_part:path) => {
        #[doc = $doc]
        #[cfg(target_arch = "x86_64")]
        pub(crate) struct $name;

        #[cfg(target_arch = "x86_64")]
        impl Simd for $name {
            type E = $e;
            type V = $v;
            const LANES: usize = $lanes;
            const KC: usize = $kc;
            const MC: usize = $mc;
            const NC: usize = $nc;
            const UNROLL: usize = $unroll;
            type Half = $half;
            #[inline(always)]
            unsafe fn zero() -> $v {
                $zero()
            }
            #[inline(always)]
            unsafe fn splat(x: $e) -> $v {
                $splat(x)
            }
            #[inline(always)]
            unsafe fn load(p: *const $e) -> $v {
                $load(p)
            }
            #[inline(always)]
            unsafe fn store(p: *mut $e, v: $v) {
                $store(p, v)
            }
            #[inline(always)]
            unsafe fn load_part(p: *const $e, len: usize) -> $v {
                $load_part(p, len)
            }
            #[inline(always)]
            unsafe fn store_part(p: *mut $e, v: $v, len: usize) {
                $store_part(p, v, len)
            }
            #[inline(always)]
            unsafe fn mul_add(a: $v, b: $v, c: $v) -> $v {
                $fma(a, b, c)
            }
            #[inline(always)]
            unsafe fn add(a: $v, b: $v) -> $v {
                $add(a, b)
            }
            #[inline(always)]
            unsafe fn mul(a: $v, b: $v) -> $v {
                $mul(a, b)
            }
            #[inline(always)]
            unsafe fn prefetch(p: *const $e) {
                _mm_prefetch::<_MM_HINT_T0>(p.cast())
            }
        }
    };
}

x86_simd!(
    Avx512F32,
    "AVX-512F, 16 f32 lanes.",
    f32,
    __m512,
    16,
    kc = 400,
    mc = 144,
    nc = 1024,
    unroll = 1,
    half = Avx2F32,
    _mm512_setzero_ps,
    _mm512_set1_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_mul_ps,
    part::load_512_ps,
    part::store_512_ps
);
x86_simd!(
    Avx512F64,
    "AVX-512F, 8 f64 lanes.",
    f64,
    __m512d,
    8,
    kc = 128,
    mc = 240,
    nc = 1024,
    unroll = 1,
    half = Avx2F64,
    _mm512_setzero_pd,
    _mm512_set1_pd,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_fmadd_pd,
    _mm512_add_pd,
    _mm512_mul_pd,
    part::load_512_pd,
    part::store_512_pd
);
x86_simd!(
    Avx2F32,
    "AVX2 with FMA, 8 f32 lanes.",
    f32,
    __m256,
    8,
    kc = 400,
    mc = 144,
    nc = 1024,
    unroll = 4,
    half = Avx2F32,
    _mm256_setzero_ps,
    _mm256_set1_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_mul_ps,
    part::load_256_ps,
    part::store_256_ps
);
x86_simd!(
    Avx2F64,
    "AVX2 with FMA, 4 f64 lanes.",
    f64,
    __m256d,
    4,
    kc = 128,
    mc = 240,
    nc = 1024,
    unroll = 4,
    half = Avx2F64,
    _mm256_setzero_pd,
    _mm256_set1_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_fmadd_pd,
    _mm256_add_pd,
    _mm256_mul_pd,
    part::load_256_pd,
    part::store_256_pd
);

/// Loads and stores of the first `len` lanes of a vector (`0 < len < LANES`), through the
/// instruction sets' masked moves, which neither read nor write the other lanes' memory.
///
/// Each enables its instruction set itself, so that the intrinsics inline into it and it into
/// the micro-kernel: as `#[inline(always)]` functions without the attribute (like the trait's
/// other methods) the AVX2 mask's compare and the masked store stayed calls, and the AVX2 tiny
/// step gained nothing.
#[cfg(target_arch = "x86_64")]
mod part {
    use std::arch::x86_64::*;

    /// The AVX-512 mask of the first `len` lanes.
    #[inline(always)]
    fn lanes(len: usize) -> u16 {
        ((1u32 << len) - 1) as u16
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn load_512_ps(p: *const f32, len: usize) -> __m512 {
        _mm512_maskz_loadu_ps(lanes(len), p)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn store_512_ps(p: *mut f32, v: __m512, len: usize) {
        _mm512_mask_storeu_ps(p, lanes(len), v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn load_512_pd(p: *const f64, len: usize) -> __m512d {
        _mm512_maskz_loadu_pd(lanes(len) as u8, p)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn store_512_pd(p: *mut f64, v: __m512d, len: usize) {
        _mm512_mask_storeu_pd(p, lanes(len) as u8, v)
    }
    /// The AVX2 mask of the first `len` of eight 32-bit lanes (sign bits set).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn words(len: usize) -> __m256i {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(len as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
    /// The AVX2 mask of the first `len` of four 64-bit lanes (sign bits set).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn doubles(len: usize) -> __m256i {
        _mm256_cmpgt_epi64(
            _mm256_set1_epi64x(len as i64),
            _mm256_setr_epi64x(0, 1, 2, 3),
        )
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn load_256_ps(p: *const f32, len: usize) -> __m256 {
        _mm256_maskload_ps(p, words(len))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn store_256_ps(p: *mut f32, v: __m256, len: usize) {
        _mm256_maskstore_ps(p, words(len), v)
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn load_256_pd(p: *const f64, len: usize) -> __m256d {
        _mm256_maskload_pd(p, doubles(len))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn store_256_pd(p: *mut f64, v: __m256d, len: usize) {
        _mm256_maskstore_pd(p, doubles(len), v)
    }
}
