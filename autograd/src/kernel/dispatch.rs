//! The micro-kernel for an instruction set and element type, chosen at run time: the tile
//! shape for the operands ([`serial`]), this thread's packing buffers, and the SIMD
//! instantiations of [`micro::product`], each compiled for its target features.

use std::any::TypeId;

use super::out::Out;
use super::{blocks, micro, scratch, simd, Isa, Mat, Start, Target};
use crate::Element;
use ndarray::ArrayView2;

/// The product on this thread, with the micro-kernel for `isa` and `T`.
pub(super) fn serial<T: Element>(
    isa: Isa,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: Target<'_, '_, T>,
    start: Start<ArrayView2<'_, T>, T>,
) {
    let (a, b, c) = (Mat::of(&a), Mat::of(&b), c.out());
    let start = match start {
        Start::Overwrite => Start::Overwrite,
        Start::Accumulate => Start::Accumulate,
        Start::Scaled(x, s) => Start::Scaled(Mat::of(&x), s),
    };
    let f32 = TypeId::of::<T>() == TypeId::of::<f32>();
    // AVX-512 has registers for a 12-row tile, but 8 rows fit more heights without padding
    // (64, 128, 200, 784, 1024): take whichever pads fewer rows of A. A row-major A, which
    // the micro-kernel reads in place, takes 8 rows: a panel's rows are a row of A apart, and
    // where that is a multiple of 4 KiB (3072 f32s, cifar's and large's X) they all fall in
    // one set of the L1 cache, whose 8 ways (Zen 4) cannot hold 12 of them. On Zen 4, cifar's
    // forward `96 x 3072 x 100` on one thread 12% faster (paired runs); without that
    // alignment (784 or 1000 columns), the same either way.
    let pad = |mr: usize| a.rows.div_ceil(mr) * mr - a.rows;
    #[cfg(target_arch = "x86_64")]
    let tall = pad(12) <= pad(8) && a.cs != 1;
    // SAFETY: the matrices come from live views whose shapes the caller checked, `c` from a
    // mutable view (so it aliases neither operand); `isa` was checked to be supported by this
    // CPU in `product`; each cast turns `T` into the type `T` was just compared equal to (an
    // `Element` is f32 or f64).
    unsafe {
        #[cfg(target_arch = "x86_64")]
        use variants::*;
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if f32 && tall => avx512_f32_12::run(a, b, c, start),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if f32 => avx512_f32_8::run(a, b, c, start),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if tall => avx512_f64_12::run(a, b, c, start),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => avx512_f64_8::run(a, b, c, start),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 if f32 => avx2_f32_6::run(a, b, c, start),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => avx2_f64_6::run(a, b, c, start),
            _ => with_buffers::<simd::Scalar<T>, 4, 4, T>(
                micro::product::<simd::Scalar<T>, 4, 4>,
                a,
                b,
                c,
                start,
            ),
        }
    }
}

/// A micro-kernel driver ([`micro::product`] for one instruction set): matrices, start,
/// packing buffers.
type Driver<E> = for<'s> unsafe fn(Mat<E>, Mat<E>, Out<'s, E>, Start<Mat<E>, E>, *mut E, *mut E);

/// Calls `driver` with this thread's packing buffers, sized for `S` with `MR x NV`-vector
/// tiles, and the operands as elements of `S::E`, which must be `T` itself (the one cast, so
/// that only the instantiation that runs casts a finished C or a sink). (The buffers are
/// fetched here, outside the driver, whose target features would not reach into a closure.)
///
/// # Safety
/// As for [`micro::product`] with `S`, `MR` and `NV`, which `driver` must be; `S::E` must be
/// `T`.
unsafe fn with_buffers<S: simd::Simd, const MR: usize, const NV: usize, T: Element>(
    driver: Driver<S::E>,
    a: Mat<T>,
    b: Mat<T>,
    c: Out<'_, T>,
    start: Start<Mat<T>, T>,
) {
    let (a, b, c, start) = (a.cast(), b.cast(), c.cast(), start.cast());
    let (a_len, b_len) = blocks::buffer_lens::<S, MR, NV>((a.rows, a.cols, b.cols), a.cs == 1);
    scratch::with::<S::E, _>(a_len, b_len, |pa, pb| driver(a, b, c, start, pa, pb));
}

/// The SIMD instantiations, each compiled for its target features.
#[cfg(target_arch = "x86_64")]
mod variants {
    use super::micro::product;
    use super::simd::{Avx2F32, Avx2F64, Avx512F32, Avx512F64};
    use super::{with_buffers, Element, Mat, Out, Start};

    /// Defines the module `$name`: `kernel`, [`product`] with `$simd` and an `$mr x $nv`-vector
    /// register tile, compiled with the target features `$features`; and `run`, which calls it
    /// with this thread's packing buffers sized for that tile ([`with_buffers`]), so that the
    /// tile's shape is written once.
    macro_rules! variant {
        // What `Isa::Avx512` stands for (`Isa::is_supported` checks the same features).
        ($name:ident, $simd:ty, $e:ty, $mr:literal, $nv:literal, avx512) => {
            variant!($name, $simd, $e, $mr, $nv, "avx512f,avx512vl,avx2,fma");
        };
        ($name:ident, $simd:ty, $e:ty, $mr:literal, $nv:literal, $features:literal) => {
            #[doc = concat!("[`product`] with `", stringify!($simd), "`, ", stringify!($mr),
                                                    " rows x ", stringify!($nv), " vectors.")]
            pub(super) mod $name {
                use super::{product, with_buffers, Element, Mat, Out, Start, $simd};

                /// The product, compiled for the variant's target features.
                #[target_feature(enable = $features)]
                unsafe fn kernel(
                    a: Mat<$e>,
                    b: Mat<$e>,
                    c: Out<'_, $e>,
                    start: Start<Mat<$e>, $e>,
                    pa: *mut $e,
                    pb: *mut $e,
                ) {
                    product::<$simd, $mr, $nv>(a, b, c, start, pa, pb)
                }

                /// The product with this thread's packing buffers.
                ///
                /// # Safety
                /// As for [`with_buffers`]; `T` must be the variant's element type.
                pub(in super::super) unsafe fn run<T: Element>(
                    a: Mat<T>,
                    b: Mat<T>,
                    c: Out<'_, T>,
                    start: Start<Mat<T>, T>,
                ) {
                    with_buffers::<$simd, $mr, $nv, T>(kernel, a, b, c, start)
                }
            }
        };
    }

    // 24 accumulators (AVX-512, 32 registers); 12 (AVX2, 16 registers). The 8-row AVX-512
    // tiles are 3 vectors wide (f32 8 x 48, f64 8 x 24), not 2: 8 broadcasts
    // and 3 loads feed 24 multiply-adds instead of 16, and with A read in place (the forward
    // X·W1) each broadcast also needs its address: the mnist800 step 3-4% faster, large 3-5%,
    // cifar 1-2% (three interleaved rounds); in f64 `tapegrad bench --dtype f64` two rounds:
    // mnist800 3.37 / 3.51 -> 3.21 / 3.28 ms, tiny 8-11% faster, cifar and large unchanged.
    // AVX2 f32 takes 6 rows x 2 vectors (6 x 16), like BLIS and OpenBLAS on Haswell. A 4 x 24
    // tile needs fewer loads per multiply-add (7 for 12 against 8) and was 2-5% faster while
    // the epilogue spilled the accumulators; with them in registers, 6 x 16 streams a third
    // less of packed B from L2 per multiply-add, and the AVX2 steps are faster (three
    // interleaved rounds): tiny 16%, cifar 10%, mnist800 12%, large 4%.
    // The AVX-512 variants enable AVX-512VL: a last panel of B that fits one half vector (the
    // 4 of cifar's 100 columns) takes 256-bit vectors, and without VL those have only the 16
    // registers of AVX2 (LLVM moved accumulators between registers inside the loop). With VL,
    // on Sapphire Rapids (paired runs): cifar's forward product 7% faster on one thread, the
    // cifar step 5.5%, tiny 2%, f64 tiny 7% and cifar 3%.
    variant!(avx512_f32_12, Avx512F32, f32, 12, 2, avx512);
    variant!(avx512_f32_8, Avx512F32, f32, 8, 3, avx512);
    variant!(avx512_f64_12, Avx512F64, f64, 12, 2, avx512);
    variant!(avx512_f64_8, Avx512F64, f64, 8, 3, avx512);
    variant!(avx2_f32_6, Avx2F32, f32, 6, 2, "avx2,fma");
    variant!(avx2_f64_6, Avx2F64, f64, 6, 2, "avx2,fma");
}
