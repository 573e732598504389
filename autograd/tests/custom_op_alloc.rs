//! A training step with custom ops allocates nothing in steady state: their outputs and
//! gradients are pooled buffers like those of the built-in ops, and their boxes are reused.
//!
//! This test binary counts every heap allocation through a global allocator, so it holds only
//! this test (other tests' allocations would be counted too). The step uses no matrix product:
//! the matrix kernel allocates its own packing scratch (see tests/no_alloc.rs at the root).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayViewD, ArrayViewMutD, IxDyn, Zip};
use tapegrad_autograd::{CustomOp, Result, Tape};

/// The system allocator, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates to the system allocator unchanged; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Mean Huber loss of two inputs of the same shape; an op with a field, so its box is not
/// free the way a zero-sized op's is.
struct Huber {
    delta: f64,
}

impl Huber {
    /// `dh/dr`.
    fn slope(&self, r: f64) -> f64 {
        r.clamp(-self.delta, self.delta)
    }
}

impl CustomOp<f64> for Huber {
    fn name(&self) -> &str {
        "huber"
    }
    fn output_shape(&self, _inputs: &[ArrayViewD<'_, f64>]) -> Result<IxDyn> {
        Ok(IxDyn(&[]))
    }
    fn forward(&self, x: &[ArrayViewD<'_, f64>], mut y: ArrayViewMutD<'_, f64>) -> Result<()> {
        let d = self.delta;
        let mut total = 0.0;
        Zip::from(&x[0]).and(&x[1]).for_each(|&p, &t| {
            let r: f64 = p - t;
            total += if r.abs() <= d {
                0.5 * r * r
            } else {
                d * (r.abs() - 0.5 * d)
            };
        });
        y.fill(total / x[0].len() as f64);
        Ok(())
    }
    fn backward(
        &self,
        x: &[ArrayViewD<'_, f64>],
        _y: &ArrayViewD<'_, f64>,
        g: &ArrayViewD<'_, f64>,
        grads: &mut [Option<ArrayViewMutD<'_, f64>>],
    ) -> Result<()> {
        let g = g.iter().sum::<f64>() / x[0].len() as f64;
        for (dst, sign) in grads.iter_mut().zip([1.0, -1.0]) {
            if let Some(dst) = dst {
                Zip::from(dst)
                    .and(&x[0])
                    .and(&x[1])
                    .for_each(|d, &p, &t| *d = sign * g * self.slope(p - t));
            }
        }
        Ok(())
    }
}

/// `x³` elementwise, zero-sized.
struct Cube;

impl CustomOp<f64> for Cube {
    fn name(&self) -> &str {
        "cube"
    }
    fn forward(&self, x: &[ArrayViewD<'_, f64>], mut y: ArrayViewMutD<'_, f64>) -> Result<()> {
        y.zip_mut_with(&x[0], |y, &x| *y = x * x * x);
        Ok(())
    }
    fn backward(
        &self,
        x: &[ArrayViewD<'_, f64>],
        _y: &ArrayViewD<'_, f64>,
        g: &ArrayViewD<'_, f64>,
        grads: &mut [Option<ArrayViewMutD<'_, f64>>],
    ) -> Result<()> {
        if let Some(dx) = &mut grads[0] {
            Zip::from(dx)
                .and(g)
                .and(&x[0])
                .for_each(|d, &g, &x| *d = 3.0 * g * x * x);
        }
        Ok(())
    }
}

/// One step: record a loss with built-in ops (a broadcast add among them) and custom ops (two,
/// both inputs of the Huber loss needing gradients), run backward, read the loss, give the
/// gradients back and clear the tape.
fn step(
    tape: &mut Tape<f64>,
    x: &Arc<Array2<f64>>,
    w: &Arc<Array1<f64>>,
    t: &Arc<Array2<f64>>,
) -> f64 {
    let loss = {
        let (xv, wv, tv) = (tape.constant(x), tape.param(w), tape.param(t));
        let pred = xv.mul(wv).unwrap().add(wv).unwrap().tanh();
        let pred = pred.custom(Cube, &[]).unwrap();
        let huber = pred.custom(Huber { delta: 0.5 }, &[tv]).unwrap();
        let loss = huber.add(wv.sum_squares().scale(1e-3)).unwrap();
        let grads = loss.backward().unwrap();
        assert!(grads.get(wv).is_some() && grads.get(tv).is_some());
        tape.recycle(grads);
        loss.item().unwrap()
    };
    tape.clear();
    loss
}

#[test]
fn a_step_with_custom_ops_allocates_nothing_in_steady_state() {
    let x = Arc::new(Array2::from_shape_fn((16, 8), |(i, j)| {
        ((i * 8 + j) as f64 * 0.37).sin()
    }));
    let w = Arc::new(Array1::from_shape_fn(8, |j| 0.5 - 0.1 * j as f64));
    let t = Arc::new(Array2::from_shape_fn((16, 8), |(i, j)| {
        ((i + 2 * j) as f64 * 0.11).cos()
    }));
    let mut tape = Tape::new();
    let first = step(&mut tape, &x, &w, &t);
    for _ in 0..10 {
        step(&mut tape, &x, &w, &t);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut last = 0.0;
    for _ in 0..5 {
        last = step(&mut tape, &x, &w, &t);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(
        allocations, 0,
        "5 warm steps with custom ops made {allocations} allocations"
    );
    assert!(first.is_finite() && first > 0.0);
    assert_eq!(
        first.to_bits(),
        last.to_bits(),
        "the steps computed the same loss"
    );
}
