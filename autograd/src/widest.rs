//! Elementwise loops compiled for the vector instructions the matrix kernel uses.
//!
//! The crates are built for baseline x86-64 (SSE2, 4 `f32` lanes), so a loop written in plain
//! Rust, such as an optimizer's update rule or a block of a sum of squares, runs 4 lanes wide
//! even on an AVX-512 CPU. [`widest`] calls a closure from inside a function compiled with the
//! instruction set that [`isa`](crate::isa) chose (AVX-512 or AVX2 with FMA), so that the
//! closure, inlined there, is vectorised for it. The results do not change: Rust never fuses a
//! multiplication and an addition, nor reorders a sum, without being told, so the same
//! operations run in the same order on wider vectors.

/// Runs `f`, compiled for the widest instruction set [`isa`](crate::isa) allows when `f` is
/// inlined into the call (a closure over a loop, as in the example). Same results as `f()`.
///
/// ```
/// let mut w = vec![1.0f32; 1000];
/// let g = vec![0.5f32; 1000];
/// tapegrad_autograd::widest(|| {
///     for (w, g) in w.iter_mut().zip(&g) {
///         *w -= 0.1 * g;
///     }
/// });
/// assert_eq!(w[999], 1.0 - 0.1 * 0.5);
/// ```
#[inline]
pub fn widest<R>(f: impl FnOnce() -> R) -> R {
    match crate::isa() {
        // SAFETY: `isa()` names only instruction sets this CPU supports (`set_isa` refuses
        // others), and each function below enables no more than its instruction set.
        #[cfg(target_arch = "x86_64")]
        crate::Isa::Avx512 => unsafe { avx512(f) },
        #[cfg(target_arch = "x86_64")]
        crate::Isa::Avx2 => unsafe { avx2(f) },
        _ => f(),
    }
}

/// `f()` compiled with AVX-512F (and AVX2, FMA).
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `f()` compiled with AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A momentum update over `n` elements, and a 32-lane sum of squares, as a closure.
    fn rules(n: usize) -> impl Fn() -> (Vec<f32>, Vec<f32>, [f32; 32]) {
        move || {
            let g: Vec<f32> = (0..n)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) * 1e-3)
                .collect();
            let mut w: Vec<f32> = (0..n).map(|i| ((i * 13 % 97) as f32).sin()).collect();
            let mut v: Vec<f32> = (0..n).map(|i| ((i * 7 % 89) as f32).cos() * 1e-2).collect();
            let (mu, lr) = (0.9f32, 0.05f32);
            for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(&g) {
                *v = mu * *v - lr * g;
                *w += *v;
            }
            let mut lanes = [0f32; 32];
            for chunk in w.chunks(32) {
                for (a, &x) in lanes.iter_mut().zip(chunk) {
                    *a += x * x;
                }
            }
            (w, v, lanes)
        }
    }

    #[test]
    fn loops_compiled_for_wider_vectors_give_the_same_bits() {
        for n in [0, 1, 31, 1000, 4099] {
            let f = rules(n);
            let plain = f();
            let bits = |r: &(Vec<f32>, Vec<f32>, [f32; 32])| {
                let all = r.0.iter().chain(&r.1).chain(&r.2);
                all.map(|x| x.to_bits()).collect::<Vec<_>>()
            };
            assert_eq!(bits(&widest(&f)), bits(&plain), "widest, n = {n}");
            #[cfg(target_arch = "x86_64")]
            {
                if crate::Isa::Avx2.is_supported() {
                    // SAFETY: checked just above.
                    assert_eq!(bits(&unsafe { avx2(&f) }), bits(&plain), "avx2, n = {n}");
                }
                if crate::Isa::Avx512.is_supported() {
                    // SAFETY: checked just above.
                    assert_eq!(
                        bits(&unsafe { avx512(&f) }),
                        bits(&plain),
                        "avx512, n = {n}"
                    );
                }
            }
        }
    }
}
