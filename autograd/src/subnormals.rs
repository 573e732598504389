//! Flushing subnormal numbers to zero in hardware, for a scope: [`FlushSubnormals`].
//!
//! A float smaller in magnitude than the smallest normal number (`1.2e-38` in `f32`) is
//! *subnormal*, and on x86 every multiply or add that reads or produces one leaves the fast
//! path for a microcode assist some hundred cycles long. Training makes such numbers: the
//! weights of a hidden unit that never fires get only the regularisation term as gradient,
//! decay geometrically and, with them, their products and the optimizer's moments pass
//! through the subnormal range. Measured here (Fashion-MNIST, h=800, Adam, one-cycle
//! schedule): epochs slowed from 2.7 s to 19.8 s as the run went on, and stayed flat (the
//! same accuracies to the last digit) with the flush. A subnormal changes
//! nothing a model computes, so XLA and TensorFlow run their compute threads with the
//! processor's flush-to-zero (FTZ) and denormals-are-zero (DAZ) modes on, and PyTorch offers
//! `torch.set_flush_denormal(True)`; [`FlushSubnormals`] is that switch.
//!
//! The modes are per thread (x86's MXCSR register): the guard sets them on the calling
//! thread and on every thread of rayon's current pool (where data augmentation runs) and
//! restores each thread's previous mode when dropped; the helpers of the
//! [`team`](crate::team), where the matrix products and the other parallel passes run, take
//! the mode of the thread that hands them each job. On other architectures it does nothing.

/// MXCSR's flush-to-zero bit: subnormal results are written as zero.
#[cfg(target_arch = "x86_64")]
const FTZ: u32 = 1 << 15;
/// MXCSR's denormals-are-zero bit: subnormal inputs are read as zero.
#[cfg(target_arch = "x86_64")]
const DAZ: u32 = 1 << 6;

/// While alive, subnormal numbers are flushed to zero on the calling thread and on rayon's
/// pool (see the `subnormals` module's documentation); dropped, every thread gets its
/// previous mode back.
///
/// ```
/// use tapegrad_autograd::FlushSubnormals;
/// let tiny = std::hint::black_box(1e-30f32);
/// {
///     let _flush = FlushSubnormals::new();
///     # #[cfg(target_arch = "x86_64")]
///     assert_eq!(tiny * 1e-10, 0.0); // 1e-40 is subnormal: written as zero
/// }
/// assert_eq!(tiny * 1e-10, 1e-40f32); // subnormal again
/// ```
#[must_use = "the modes are restored as soon as the guard is dropped"]
#[derive(Debug)]
pub struct FlushSubnormals {
    /// The calling thread's mode before, then each pool thread's, by pool index.
    #[cfg(target_arch = "x86_64")]
    previous: (u32, Vec<u32>),
}

impl FlushSubnormals {
    /// Turns flushing on for the calling thread and rayon's current pool.
    pub fn new() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let caller = mxcsr::read();
            let pool = rayon::broadcast(|_| {
                let before = mxcsr::read();
                mxcsr::write(before | FTZ | DAZ);
                before
            });
            mxcsr::write(caller | FTZ | DAZ);
            FlushSubnormals {
                previous: (caller, pool),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        FlushSubnormals {}
    }

    /// Whether subnormals are flushed on the calling thread now.
    pub fn is_on() -> bool {
        #[cfg(target_arch = "x86_64")]
        return mxcsr::read() & (FTZ | DAZ) == FTZ | DAZ;
        #[cfg(not(target_arch = "x86_64"))]
        false
    }
}

impl Default for FlushSubnormals {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for FlushSubnormals {
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        {
            let (caller, pool) = &self.previous;
            rayon::broadcast(|ctx| {
                if let Some(&before) = pool.get(ctx.index()) {
                    mxcsr::write(before);
                }
            });
            mxcsr::write(*caller);
        }
    }
}

/// Reading and writing the SSE control register. `core::arch`'s `_mm_getcsr`/`_mm_setcsr`
/// are deprecated in favour of inline assembly, which is what this is.
#[cfg(target_arch = "x86_64")]
pub(crate) mod mxcsr {
    /// The calling thread's MXCSR.
    pub(crate) fn read() -> u32 {
        let mut value: u32 = 0;
        // SAFETY: `stmxcsr` stores the 32-bit control register to the address given, a
        // local u32 that lives through the instruction; it touches nothing else.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut value, options(nostack, preserves_flags));
        }
        value
    }

    /// Sets the calling thread's MXCSR. Only the FTZ and DAZ bits are ever changed by this
    /// module (the rounding mode and the exception masks are written back as they were read),
    /// so every result stays the IEEE result except that subnormals read and written as zero.
    pub(crate) fn write(value: u32) {
        // SAFETY: `ldmxcsr` loads the control register from a local u32 that lives through
        // the instruction; the value is one read from the register with at most FTZ and DAZ
        // changed, so no reserved bit is set (which would fault) and no exception is unmasked.
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &value, options(nostack, readonly, preserves_flags));
        }
    }
}
