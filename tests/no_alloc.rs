//! A training step reuses its tape and buffers: in steady state the tape, the optimizer and
//! the step allocate nothing. That includes the matrix kernel, whose packing buffers are kept
//! per thread across products: the test also runs the step's five products through the kernel
//! alone and requires zero allocations from each of the three. A step with dropout of the
//! hidden units and label smoothing (a deeper net, tanh) allocates nothing either, nor does the
//! weight average's update after each step (`--ema`, outside the step), nor a step with an
//! optimizer of the user's own that takes gradient values only. The steps run on two
//! threads, so the products' halves handed to the team's helper are counted too.
//!
//! This test binary counts every heap allocation through a global allocator, so it holds only
//! this test (other tests' allocations would be counted too).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use std::sync::Arc;

use ndarray::Array2;
use tapegrad::autograd::{gemm, set_threads, Element};
use tapegrad::net::model::Dropout;
use tapegrad::net::optim::{Adam, OptimError, Optimizer, OptimizerState};
use tapegrad::net::train::WeightAverage;
use tapegrad::net::{Activation, Init, Mlp, TrainStep};
use tapegrad_benchmark::{StepBench, StepShape};

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

/// Allocations made by `steps` calls of `step` after `warmup` calls.
fn allocations(mut step: impl FnMut(), warmup: usize, steps: usize) -> usize {
    for _ in 0..warmup {
        step();
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..steps {
        step();
    }
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// Allocations of 5 steps of `step` on `net` (λ = 1e-3) after 10 to warm up.
fn step_allocations<T: Element>(
    step: &mut TrainStep<T>,
    net: &mut Mlp<T>,
    x: &Arc<Array2<T>>,
    y: &[usize],
) -> usize {
    allocations(
        || {
            step.step(net, Arc::clone(x), y, T::cast(1e-3), 1e-3)
                .unwrap();
        },
        10,
        5,
    )
}

/// Allocations of 5 tape steps with dropout of the hidden units and label smoothing, on a tanh net with two hidden
/// layers of `shape.h` units.
fn regularised_step_allocations<T: Element>(shape: StepShape) -> usize {
    let (n, d, h, c) = (shape.n, shape.d, shape.h, shape.c);
    let mut net = Mlp::<T>::new(&[d, h, h, c], Init { std: 0.1, seed: 1 })
        .unwrap()
        .with_activation(Activation::Tanh);
    let mut step = TrainStep::new(Adam::default());
    step.set_dropout(Some(Dropout::new(0.5, 2).unwrap()), 0);
    step.set_label_smoothing(T::cast(0.1));
    let x = Arc::new(Array2::from_shape_fn((n, d), |(i, j)| {
        T::cast(((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5)
    }));
    let y: Vec<usize> = (0..n).map(|i| i % c).collect();
    step_allocations(&mut step, &mut net, &x, &y)
}

/// Plain SGD written by a user: `update` only, so its weights' gradients are written out.
#[derive(Debug, Clone)]
struct OwnSgd;

impl<T: Element> Optimizer<T> for OwnSgd {
    fn name(&self) -> &'static str {
        "own-sgd"
    }
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        &[]
    }
    fn begin_step(&mut self) {}
    fn update(&mut self, _: usize, w: &mut [T], g: &[T], lr: f64) -> Result<(), OptimError> {
        for (w, &g) in w.iter_mut().zip(g) {
            *w -= T::cast(lr) * g;
        }
        Ok(())
    }
    fn state(&self) -> OptimizerState<T> {
        OptimizerState::default()
    }
    fn load_state(&mut self, _: OptimizerState<T>, _: &[usize]) -> Result<(), OptimError> {
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn Optimizer<T>> {
        Box::new(self.clone())
    }
}

/// Allocations of 5 tape steps with [`OwnSgd`].
fn own_optimizer_step_allocations<T: Element>(shape: StepShape) -> usize {
    let (n, d, h, c) = (shape.n, shape.d, shape.h, shape.c);
    let mut net = Mlp::<T>::new(&[d, h, c], Init { std: 0.1, seed: 1 }).unwrap();
    let mut step = TrainStep::new(OwnSgd);
    let x = Arc::new(Array2::from_elem((n, d), T::cast(0.25)));
    let y: Vec<usize> = (0..n).map(|i| i % c).collect();
    step_allocations(&mut step, &mut net, &x, &y)
}

/// Allocations of 5 steps of the tape and of the closed form, of the kernel alone doing
/// 5 steps' worth of the step's matrix products, and of 5 EMA updates of a net's average.
fn steady_state_allocations<T: Element>(shape: StepShape) -> [usize; 4] {
    let mut bench = StepBench::<T>::new(shape);
    let tape = allocations(
        || {
            bench.tape_step().unwrap();
        },
        10,
        5,
    );
    let closed = allocations(
        || {
            bench.closed_form_step().unwrap();
        },
        10,
        5,
    );
    let (n, d, h, c) = (shape.n, shape.d, shape.h, shape.c);
    let m = |r, c| Array2::<T>::zeros((r, c));
    let (x, w1, a1, w2, g2) = (m(n, d), m(d, h), m(n, h), m(h, c), m(n, c));
    let (mut z1, mut z2, mut dw2, mut da1, mut dw1) = (m(n, h), m(n, c), m(h, c), m(n, h), m(d, h));
    let kernel = allocations(
        || {
            gemm(x.view(), w1.view(), z1.view_mut(), false); // z1 = X W1
            gemm(a1.view(), w2.view(), z2.view_mut(), false); // z2 = a1 W2
            gemm(a1.t(), g2.view(), dw2.view_mut(), true); // dW2 = a1ᵀ dz2
            gemm(g2.view(), w2.t(), da1.view_mut(), false); // da1 = dz2 W2ᵀ
            gemm(x.t(), a1.view(), dw1.view_mut(), true); // dW1 = Xᵀ dz1
        },
        3,
        5,
    );
    let net = Mlp::<T>::new(&[d, h, c], Init { std: 0.1, seed: 1 }).unwrap();
    let mut average = WeightAverage::new(&net);
    let ema = allocations(|| average.ema_update(&net, 0.999), 2, 5);
    [tape, closed, kernel, ema]
}

#[test]
fn training_steps_allocate_nothing_in_steady_state() {
    // Two threads, so that the large products split between the caller and a helper of the
    // team, whose jobs live on the caller's stack (rayon's job queue, used before, allocated
    // a block of slots now and then).
    set_threads(2);
    let shapes = [
        StepShape {
            name: "small",
            n: 16,
            d: 20,
            h: 30,
            c: 10,
        },
        StepShape {
            name: "cifar-like",
            n: 200,
            d: 300,
            h: 100,
            c: 10,
        },
    ];
    for shape in shapes {
        for (dtype, [tape, closed, kernel, ema]) in [
            ("f32", steady_state_allocations::<f32>(shape)),
            ("f64", steady_state_allocations::<f64>(shape)),
        ] {
            let at = format!("{} ({dtype}), 5 steps", shape.name);
            assert_eq!(
                [tape, closed, kernel, ema],
                [0, 0, 0, 0],
                "allocations at {at}: tape step, closed-form step, the kernel alone, EMA update"
            );
        }
        for (dtype, regularised) in [
            ("f32", regularised_step_allocations::<f32>(shape)),
            ("f64", regularised_step_allocations::<f64>(shape)),
        ] {
            let at = format!(
                "{} ({dtype}), 5 steps with dropout and label smoothing",
                shape.name
            );
            assert_eq!(regularised, 0, "allocations at {at}");
        }
        for (dtype, own) in [
            ("f32", own_optimizer_step_allocations::<f32>(shape)),
            ("f64", own_optimizer_step_allocations::<f64>(shape)),
        ] {
            let at = format!("{} ({dtype}), 5 steps with an optimizer's own", shape.name);
            assert_eq!(own, 0, "allocations at {at}");
        }
    }
}
