//! The matrix-product kernel every matmul, forward and backward, goes through.
//!
//! By default this is tapegrad's own packed kernel (`crate::kernel`): AVX-512 or AVX2+FMA
//! micro-kernels picked at run time from the CPU's features, packing buffers reused across
//! calls, and the [`team`](crate::team)'s threads for products large enough to pay for them. The `gemm` crate (the
//! default `gemm` feature) stays available as [`Kernel::GemmCrate`] for comparison. Both read
//! transposed operands through their strides, so a transpose is never copied.

use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::kernel::{Isa, Start};
use crate::Element;

/// Products of fewer multiply-adds than this run on the calling thread. (2^19: the mnist800
/// step's `128 x 800 x 10` products of the second layer, about a million multiply-adds, take
/// both cores; the tiny and cifar shapes' small products stay on one.)
const SERIAL_BELOW: usize = 1 << 19;

/// Threads for parallel passes; 0 means "all the team's" (one per core).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads matrix products and the other parallel passes (long sums, the
/// optimizers' updates) may use (`0`: as many as there are cores).
///
/// ```
/// tapegrad_autograd::set_threads(1); // single-threaded from now on
/// # tapegrad_autograd::set_threads(0);
/// ```
pub fn set_threads(threads: usize) {
    THREADS.store(threads, Ordering::Relaxed);
}

/// The threads parallel passes use now: those set by [`set_threads`], else one per core
/// ([`team::size`](crate::team::size)).
///
/// ```
/// assert!(tapegrad_autograd::threads() >= 1);
/// ```
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => crate::team::size(),
        t => t,
    }
}

/// `c = a · b`, or `c += a · b` when `accumulate`: the kernel of the tape's matmul, for code
/// that computes outside the tape (a hand-written closed form, say). `a` and `b` may be
/// transposed views. When not accumulating, `c`'s old contents are never read.
///
/// Uses [`Kernel::auto`] on the threads set by [`set_threads`] (one for products too small to
/// repay waking another thread).
///
/// # Panics
/// If the shapes do not fit: `a` is `m x k`, `b` is `k x n`, `c` is `m x n`.
///
/// ```
/// use ndarray::{array, Array2};
/// let (a, b) = (array![[1.0, 2.0]], array![[3.0], [4.0]]);
/// let mut c = Array2::from_elem((1, 1), 100.0);
/// tapegrad_autograd::gemm(a.view(), b.view(), c.view_mut(), true);
/// assert_eq!(c[[0, 0]], 111.0);
/// ```
pub fn gemm<T: Element>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c: ArrayViewMut2<'_, T>,
    accumulate: bool,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    gemm_with(
        Kernel::auto::<T>(m, k, n),
        threads_for(m, k, n),
        a,
        b,
        c,
        accumulate,
    );
}

/// The threads [`gemm()`] uses for an `m x k` by `k x n` product: one below a couple of million
/// multiply-adds (too little work to repay waking another thread), else those set by
/// [`set_threads`] ([`threads`]).
pub fn threads_for(m: usize, k: usize, n: usize) -> usize {
    if m * n * k < SERIAL_BELOW {
        1
    } else {
        threads()
    }
}

/// Which implementation computes a matrix product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// tapegrad's own packed kernel with the micro-kernels of an instruction set.
    Packed(Isa),
    /// The `gemm` crate.
    #[cfg(feature = "gemm")]
    GemmCrate,
}

impl Kernel {
    /// The kernel [`gemm()`] uses for an `m x k` by `k x n` product of `T`s on this CPU: the
    /// packed kernel with the instruction set [`set_isa`] chose, else the widest this CPU has.
    pub fn auto<T: Element>(m: usize, k: usize, n: usize) -> Kernel {
        let _ = (m, k, n);
        Kernel::Packed(isa())
    }
}

/// The instruction set chosen by [`set_isa`], as its index in [`Isa::ALL`] plus one (0: none).
static ISA: AtomicUsize = AtomicUsize::new(0);

/// Makes [`gemm()`] (and so every matmul of the tape) use `isa`'s micro-kernels instead of the
/// widest this CPU has (`None`: back to the widest), to measure a narrower instruction set on a
/// wider machine (AVX2 on an AVX-512 one, say). Results may differ in the last bits between
/// instruction sets.
///
/// # Errors
/// If this CPU cannot run `isa` (nothing is changed then).
///
/// ```
/// use tapegrad_autograd::{isa, set_isa, Isa};
/// set_isa(Some(Isa::Scalar))?; // every CPU has it
/// assert_eq!(isa(), Isa::Scalar);
/// set_isa(None)?;
/// assert_eq!(isa(), Isa::best());
/// # Ok::<(), tapegrad_autograd::Error>(())
/// ```
pub fn set_isa(isa: Option<Isa>) -> crate::Result<()> {
    let index = match isa {
        None => 0,
        Some(isa) if isa.is_supported() => Isa::ALL.iter().position(|&i| i == isa).unwrap_or(0) + 1,
        Some(isa) => {
            let best = Isa::best();
            return Err(crate::Error::UnsupportedIsa { isa, best });
        }
    };
    ISA.store(index, Ordering::Relaxed);
    Ok(())
}

/// The instruction set [`gemm()`]'s kernel uses now: the one [`set_isa`] chose, else
/// [`Isa::best`].
pub fn isa() -> Isa {
    match ISA.load(Ordering::Relaxed) {
        0 => None,
        i => Isa::ALL.get(i - 1).copied(),
    }
    .unwrap_or_else(Isa::best)
}

/// [`gemm()`] with a chosen kernel on up to `threads` threads (`0`: [`threads`]), however
/// small the product. Results do not depend on `threads`.
///
/// # Panics
/// If the shapes do not fit, or if `kernel` needs an instruction set this CPU lacks
/// ([`Isa::is_supported`]).
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::{gemm_with, Isa, Kernel};
/// let (a, b) = (array![[1.0f32, 2.0]], array![[3.0], [4.0]]);
/// let mut c = array![[0.0f32]];
/// gemm_with(Kernel::Packed(Isa::Scalar), 2, a.view(), b.view(), c.view_mut(), false);
/// assert_eq!(c[[0, 0]], 11.0);
/// ```
pub fn gemm_with<T: Element>(
    kernel: Kernel,
    threads: usize,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c: ArrayViewMut2<'_, T>,
    accumulate: bool,
) {
    assert_eq!(a.ncols(), b.nrows(), "gemm: inner dimensions differ");
    assert_eq!(c.dim(), (a.nrows(), b.ncols()), "gemm: output shape");
    let threads = match threads {
        0 => self::threads(),
        t => t,
    };
    let start = if accumulate {
        Start::Accumulate
    } else {
        Start::Overwrite
    };
    run(kernel, threads, a, b, c, start);
}

/// `c = s·x + a · b` in one pass over `c` (for a gradient whose first share is a scaled copy
/// of a value, and whose next is a product), the same bit for bit as `c = s·x` followed by
/// `c += a · b`; `c = a · b` when `scaled` is `None`. Kernel and threads as [`gemm()`].
pub(crate) fn gemm_scaled_plus<T: Element>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c: ArrayViewMut2<'_, T>,
    scaled: Option<(T, ArrayView2<'_, T>)>,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    assert_eq!(k, b.nrows(), "gemm: inner dimensions differ");
    assert_eq!(c.dim(), (m, n), "gemm: output shape");
    let start = match scaled {
        Some((s, x)) => {
            assert_eq!(x.dim(), (m, n), "gemm: the scaled start's shape");
            Start::Scaled(x, s)
        }
        None => Start::Overwrite,
    };
    run(
        Kernel::auto::<T>(m, k, n),
        threads_for(m, k, n),
        a,
        b,
        c,
        start,
    );
}

/// `c = a · b`, then `finish(i, j, row)` on each piece of C's rows as soon as it is final
/// (while in cache): a bias and an activation in the same pass as the product. `c` must be
/// row-major. Kernel and threads as [`gemm()`].
pub(crate) fn gemm_finished<T: Element>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c: ArrayViewMut2<'_, T>,
    finish: crate::kernel::RowFinish<'_, T>,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    assert_eq!(k, b.nrows(), "gemm: inner dimensions differ");
    assert_eq!(c.dim(), (m, n), "gemm: output shape");
    let target = crate::kernel::Target::Finished {
        c,
        finish,
        origin: (0, 0),
    };
    crate::kernel::product(isa(), threads_for(m, k, n), a, b, target, Start::Overwrite);
}

/// The product on `kernel`, shapes checked.
fn run<T: Element>(
    kernel: Kernel,
    threads: usize,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
    start: Start<ArrayView2<'_, T>, T>,
) {
    match kernel {
        Kernel::Packed(isa) => {
            crate::kernel::product(isa, threads, a, b, crate::kernel::Target::Matrix(c), start)
        }
        #[cfg(feature = "gemm")]
        Kernel::GemmCrate => {
            let accumulate = match start {
                Start::Overwrite => false,
                Start::Accumulate => true,
                Start::Scaled(x, s) => {
                    c.zip_mut_with(&x, |c, &x| *c = s * x);
                    true
                }
            };
            gemm_crate(threads, a, b, c, accumulate)
        }
    }
}

/// The product through the `gemm` crate.
#[cfg(feature = "gemm")]
fn gemm_crate<T: Element>(
    threads: usize,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
    accumulate: bool,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(T::zero());
        }
        return;
    }
    let parallelism = match threads {
        1 => gemm::Parallelism::None,
        t => gemm::Parallelism::Rayon(t),
    };
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (b_rs, b_cs) = (b.strides()[0], b.strides()[1]);
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and element strides come from live ndarray views whose shapes were
    // checked to be (m, k), (k, n) and (m, n), so every index the kernel touches is in bounds.
    // `c` is a mutable view, so it aliases neither `a` nor `b`. `T` is f32 or f64 (the only
    // `Element`s), which `gemm` supports. With `read_dst` false the kernel never reads `c`,
    // whose contents may be arbitrary (but initialised) values.
    unsafe {
        // gemm's convention: dst = alpha · dst + beta · lhs · rhs.
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder};

    use super::*;
    use crate::kernel::test_values as values;

    #[test]
    fn scaled_start_equals_scaling_then_accumulating_bit_for_bit_on_every_isa_and_thread_count() {
        for isa in Isa::ALL.into_iter().filter(|i| i.is_supported()) {
            for (m, k, n) in [(4, 0, 6), (5, 3, 7), (61, 300, 47), (130, 40, 90)] {
                let (a, b, x) = (values(m, k, 1), values(k, n, 2), values(m, n, 3));
                let s = 0.3f32;
                let mut expected = x.mapv(|x| s * x);
                gemm_with(
                    Kernel::Packed(isa),
                    1,
                    a.view(),
                    b.view(),
                    expected.view_mut(),
                    true,
                );
                for threads in [1, 2, 3] {
                    // A row-major C, and a column-major one (computed as the transposed
                    // product), with x in the other layout.
                    let mut row_major = Array2::from_elem((m, n), f32::NAN);
                    let start = Start::Scaled(x.view(), s);
                    run(
                        Kernel::Packed(isa),
                        threads,
                        a.view(),
                        b.view(),
                        row_major.view_mut(),
                        start,
                    );
                    assert_eq!(
                        row_major, expected,
                        "{isa:?}, {m}x{k}x{n}, {threads} threads"
                    );
                    let mut col_major = Array2::from_elem((m, n).f(), f32::NAN);
                    let x_t = x.t().as_standard_layout().into_owned();
                    let start = Start::Scaled(x_t.t(), s);
                    run(
                        Kernel::Packed(isa),
                        threads,
                        a.view(),
                        b.view(),
                        col_major.view_mut(),
                        start,
                    );
                    assert_eq!(
                        col_major, expected,
                        "{isa:?}, column-major, {threads} threads"
                    );
                }
            }
        }
    }
}
