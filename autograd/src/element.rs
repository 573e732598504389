//! The element types a tape can hold.

use ndarray::NdFloat;
use num_traits::FromPrimitive;

/// A floating-point element type of tape tensors: `f32` and `f64`, and only those.
///
/// The trait is sealed (it has a private supertrait), because the matrix kernel's safety
/// argument relies on the element being one of these two types.
///
/// Everything the engine needs from a number: ndarray's float arithmetic ([`NdFloat`]) plus
/// exact-enough conversions to and from `f64`, which the engine uses for constants, for
/// accumulating long sums and for [`gradcheck`](crate::gradcheck).
///
/// ```
/// use tapegrad_autograd::Element;
/// assert_eq!(f32::cast(0.5), 0.5f32);
/// assert_eq!(2.0f32.as_f64(), 2.0);
/// assert_eq!(<f64 as Element>::NAME, "f64");
/// ```
///
/// Other types cannot implement it:
///
/// ```compile_fail
/// struct Half(u16);
/// impl tapegrad_autograd::Element for Half {} // error: the private supertrait is not implemented
/// ```
pub trait Element:
    sealed::Sealed + NdFloat + FromPrimitive + Default + std::iter::Sum + 'static
{
    /// The type's name as Rust spells it (`"f32"`, `"f64"`).
    const NAME: &'static str;
    /// Converts from `f64`, rounding to the nearest representable value.
    fn cast(x: f64) -> Self;
    /// Converts to `f64` (exact for `f32` and `f64`).
    fn as_f64(self) -> f64;
    /// `e^self` as the softmax family (log-softmax, cross-entropy and their gradients)
    /// computes it: for `f32` a branch-free polynomial within 1 unit in the last place, whose
    /// loops vectorise; for `f64` the standard library's `exp`.
    ///
    /// ```
    /// use tapegrad_autograd::Element;
    /// assert_eq!(0.0f32.fast_exp(), 1.0);
    /// assert!((1.0f32.fast_exp() - std::f32::consts::E).abs() <= 2.0 * f32::EPSILON * 3.0);
    /// assert_eq!(1.0f64.fast_exp(), 1f64.exp());
    /// ```
    fn fast_exp(self) -> Self;
}

impl Element for f32 {
    const NAME: &'static str = "f32";
    fn cast(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn fast_exp(self) -> Self {
        crate::exp::exp_f32(self)
    }
}

impl Element for f64 {
    const NAME: &'static str = "f64";
    fn cast(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn fast_exp(self) -> Self {
        self.exp()
    }
}

/// The private supertrait that keeps [`Element`] to `f32` and `f64`.
mod sealed {
    /// Implemented for `f32` and `f64` only; not nameable outside the crate.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}
