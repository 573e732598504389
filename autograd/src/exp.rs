//! The exponential of the softmax family (log-softmax, its gradient, cross-entropy), written
//! so that a loop over many values runs as vector instructions.
//!
//! A classifier's loss takes `n x classes` exponentials forward and as many backward; through
//! the C library's `expf`, one call per value, they were 6% of the tiny benchmark step. For
//! `f32`, [`exp_f32`] is the classic branch-free scheme (Cephes' `expf`): `x = n·ln 2 + r`
//! with `n` an integer and `|r| <= ln 2 / 2`, `e^r` by a degree-7 polynomial, `2^n` put
//! straight into the exponent bits. No branch and no call, so [`exp_in_place`] (run through
//! [`widest`](crate::widest)) computes 16 values per instruction with AVX-512. `f64` keeps
//! the standard library's `exp` ([`Element::fast_exp`]).
//!
//! The same operations run in the same order on one value or a vector of them (Rust neither
//! fuses a multiply-add nor reorders without being told), so a value's exponential has the
//! same bits however it is computed, on every instruction set.

use crate::Element;

/// `e^x` in `f32` to within 1 unit in the last place (0.96 at worst against `f64` in the test),
/// `+inf` above about 88.72, `0` below about -103.97, subnormal results in between, NaN for
/// NaN. Branch-free: the range checks are selects, so a loop of it vectorises.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    // ln 2 in two parts: `n · LN2_HI` is exact for the integers `n` here (9 + 8 bits).
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 · 2^23 rounds a number of magnitude below 2^22 to an integer, kept in the
    // low bits of the sum.
    const SHIFT: f32 = 12_582_912.0;
    // Beyond these `e^x` is 0 or infinite in f32 (`n` stays within [-150, 129]).
    const LO: f32 = -104.0;
    const HI: f32 = 89.0;
    let c = x.clamp(LO, HI); // NaN stays NaN
    let t = c * std::f32::consts::LOG2_E + SHIFT;
    let n = t - SHIFT;
    let r = (c - n * LN2_HI) - n * LN2_LO;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * (r * r) + r + 1.0;
    // 2^n as two powers of two, each a normal number for every n here, so that results down
    // in the subnormals and up to f32::MAX come out of one rounding.
    let k = t.to_bits().wrapping_sub(SHIFT.to_bits()) as i32;
    let (k1, k2) = (k >> 1, k - (k >> 1));
    let pow2 = |k: i32| f32::from_bits(((k + 127) as u32) << 23);
    let y = e_r * pow2(k1) * pow2(k2);
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// Replaces every element by its exponential ([`Element::fast_exp`]), vectorised for the
/// kernel's instruction set. The same bits as `fast_exp` on each element.
pub(crate) fn exp_in_place<T: Element>(xs: &mut [T]) {
    crate::widest(|| {
        for x in xs.iter_mut() {
            *x = x.fast_exp();
        }
    })
}

/// `Σ_k e^{x_k - m}` over `xs` in order, the exponentials computed in vectorised blocks.
pub(crate) fn sum_exp_shifted<T: Element>(xs: impl IntoIterator<Item = T>, m: T) -> T {
    let mut buf = [T::zero(); BLOCK];
    let mut xs = xs.into_iter().peekable();
    let mut sum = T::zero();
    while xs.peek().is_some() {
        let mut len = 0;
        for (b, x) in buf.iter_mut().zip(&mut xs) {
            *b = x - m;
            len += 1;
        }
        exp_in_place(&mut buf[..len]);
        sum = buf[..len].iter().fold(sum, |s, &e| s + e);
    }
    sum
}

/// Values whose exponentials are computed at a time from a stack buffer (4 KiB of `f64`).
pub(crate) const BLOCK: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units of the last place between an f32 and the exact value (in f64).
    fn ulps(got: f32, exact: f64) -> f64 {
        let rounded = exact as f32;
        if rounded == 0.0 || rounded.is_infinite() {
            return if got == rounded { 0.0 } else { f64::INFINITY };
        }
        let ulp = (f32::from_bits(rounded.abs().to_bits() + 1) - rounded.abs()) as f64;
        (got as f64 - exact).abs() / ulp
    }

    #[test]
    fn exp_f32_is_within_one_ulp_of_the_exact_exponential_over_its_whole_range() {
        let mut worst = (0.0, 0.0f32);
        let mut x = -103.0f32;
        while x < 88.7 {
            let e = ulps(exp_f32(x), (x as f64).exp());
            if e > worst.0 {
                worst = (e, x);
            }
            x += 1.3e-4;
        }
        assert!(worst.0 <= 1.0, "{} ulps at x = {}", worst.0, worst.1);
    }

    #[test]
    fn exp_f32_is_exact_at_zero_and_saturates_at_the_ends_of_the_range() {
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-104.0), 0.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(89.0), f32::INFINITY);
        assert!(exp_f32(f32::NAN).is_nan());
        // The largest finite result and a subnormal one.
        assert!(exp_f32(88.72).is_finite() && exp_f32(88.72) > 3.3e38);
        let tiny = exp_f32(-100.0);
        assert!(tiny > 0.0 && !tiny.is_normal());
        assert!(ulps(tiny, (-100f64).exp()) <= 1.0);
    }

    #[test]
    fn exp_in_place_gives_the_bits_of_one_value_at_a_time_on_every_instruction_set() {
        let xs: Vec<f32> = (0..1000).map(|i| (i as f32 - 700.0) * 0.137).collect();
        let one_by_one: Vec<u32> = xs.iter().map(|&x| exp_f32(x).to_bits()).collect();
        let bits = |f: &dyn Fn(&mut [f32])| {
            let mut v = xs.clone();
            f(&mut v);
            v.iter().map(|e| e.to_bits()).collect::<Vec<_>>()
        };
        let plain = |v: &mut [f32]| v.iter_mut().for_each(|x| *x = exp_f32(*x));
        assert_eq!(bits(&plain), one_by_one, "baseline loop");
        assert_eq!(bits(&|v| exp_in_place(v)), one_by_one, "widest");
        #[cfg(target_arch = "x86_64")]
        {
            use crate::widest::{avx2, avx512};
            if crate::Isa::Avx2.is_supported() {
                // SAFETY: checked just above.
                assert_eq!(bits(&|v| unsafe { avx2(|| plain(v)) }), one_by_one, "avx2");
            }
            if crate::Isa::Avx512.is_supported() {
                // SAFETY: checked just above.
                assert_eq!(
                    bits(&|v| unsafe { avx512(|| plain(v)) }),
                    one_by_one,
                    "avx512"
                );
            }
        }
    }

    #[test]
    fn sum_exp_shifted_adds_in_order_across_blocks() {
        let xs: Vec<f64> = (0..1300).map(|i| (i % 17) as f64 * -0.25).collect();
        let expected = xs.iter().fold(0.0, |s, &x| s + (x - 0.5).exp());
        assert_eq!(sum_exp_shifted(xs.iter().copied(), 0.5), expected);
    }
}
