//! The matrix-product kernel every matmul, forward and backward, goes through.
//!
//! With the default `gemm` feature this is the `gemm` crate: pure Rust, AVX2 or AVX-512
//! micro-kernels picked at run time from the CPU's features, and rayon threads for products
//! large enough to pay for them. Without the feature it is ndarray's own product
//! (the `matrixmultiply` crate). Both read transposed operands through their strides, so a
//! transpose is never copied.

use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Element;

/// Products of fewer multiply-adds than this run on the calling thread.
const SERIAL_BELOW: usize = 1 << 21;

/// Threads for matrix products; 0 means "all of rayon's".
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads matrix products may use (`0`: as many as there are cores).
///
/// ```
/// tapegrad_autograd::set_threads(1); // single-threaded from now on
/// # tapegrad_autograd::set_threads(0);
/// ```
pub fn set_threads(threads: usize) {
    THREADS.store(threads, Ordering::Relaxed);
}

/// `c = a · b`, or `c += a · b` when `accumulate`: the kernel of the tape's matmul, for code
/// that computes outside the tape (a hand-written closed form, say). `a` and `b` may be
/// transposed views. When not accumulating, `c`'s old contents are never read.
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
    assert_eq!(a.ncols(), b.nrows(), "gemm: inner dimensions differ");
    assert_eq!(c.dim(), (a.nrows(), b.ncols()), "gemm: output shape");
    kernel(a, b, c, accumulate);
}

#[cfg(feature = "gemm")]
fn kernel<T: Element>(
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
    // Products too small to repay waking another thread run on this one.
    let parallelism = match THREADS.load(Ordering::Relaxed) {
        _ if m * n * k < SERIAL_BELOW => gemm::Parallelism::None,
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

#[cfg(not(feature = "gemm"))]
fn kernel<T: Element>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
    accumulate: bool,
) {
    let beta = if accumulate { T::one() } else { T::zero() };
    ndarray::linalg::general_mat_mul(T::one(), &a, &b, beta, &mut c);
}
