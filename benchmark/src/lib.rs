//! # tapegrad-benchmark: one SGD step of the net at fixed shapes
//!
//! The workload that `tapegrad bench`, the criterion benches (`benches/train_step.rs`,
//! `benches/gemm.rs`) and the allocation test `tests/no_alloc.rs` run (see the workspace
//! README's Performance section). A crate of its own, not published, because its users live
//! in two packages (the binary-only CLI and the root package's benches and tests) and the
//! libraries should not carry a benchmark.

#![warn(missing_docs)]

use std::sync::Arc;

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use tapegrad_autograd::Element;

use tapegrad_net::optim::Sgd;
use tapegrad_net::{closed_form, Init, Mlp, Result, TrainStep};

/// A benchmark shape: batch `n`, inputs `d`, hidden units `h`, classes `c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepShape {
    /// The shape's name.
    pub name: &'static str,
    /// Batch size.
    pub n: usize,
    /// Inputs.
    pub d: usize,
    /// Hidden units.
    pub h: usize,
    /// Classes.
    pub c: usize,
}

impl StepShape {
    /// Floating-point operations of one step's matrix products: `4ndh + 6nhc`.
    pub fn flops(&self) -> f64 {
        let (n, d, h, c) = (self.n as f64, self.d as f64, self.h as f64, self.c as f64);
        4.0 * n * d * h + 6.0 * n * h * c
    }
}

/// The shapes at which the README's Performance section compares tapegrad with other engines.
pub const SHAPES: [StepShape; 4] = [
    StepShape {
        name: "tiny",
        n: 64,
        d: 64,
        h: 100,
        c: 10,
    },
    StepShape {
        name: "cifar",
        n: 200,
        d: 3072,
        h: 100,
        c: 10,
    },
    StepShape {
        name: "mnist800",
        n: 128,
        d: 784,
        h: 800,
        c: 10,
    },
    StepShape {
        name: "large",
        n: 1024,
        d: 3072,
        h: 1024,
        c: 10,
    },
];

/// The fixed workload: data `N(0,1)`, weights `1e-2·N(0,1)`, biases 0, `λ = 1e-3`,
/// `lr = 1e-3`, fixed seed — as the peers use.
pub struct StepBench<T: Element> {
    /// The net being trained.
    pub net: Mlp<T>,
    x: Arc<Array2<T>>,
    y: Vec<usize>,
    step: TrainStep<T>,
    workspace: closed_form::Workspace<T>,
    sgd: Sgd,
}

/// `λ` of the benchmark.
pub const REG: f64 = 1e-3;
/// Learning rate of the benchmark.
pub const LR: f64 = 1e-3;

impl<T: Element> StepBench<T> {
    /// The workload at `shape`.
    pub fn new(shape: StepShape) -> Self {
        let mut rng = StdRng::seed_from_u64(0);
        let x = Array2::from_shape_simple_fn((shape.n, shape.d), || {
            let z: f64 = StandardNormal.sample(&mut rng);
            T::cast(z)
        });
        let y = (0..shape.n).map(|_| rng.random_range(0..shape.c)).collect();
        StepBench {
            net: Mlp::new(&[shape.d, shape.h, shape.c], Init { std: 1e-2, seed: 1 })
                .expect("the benchmark shapes are valid"),
            x: Arc::new(x),
            y,
            step: TrainStep::new(Sgd::default()),
            workspace: closed_form::Workspace::new(shape.n, shape.d, shape.h, shape.c),
            sgd: Sgd::default(),
        }
    }

    /// One step through the tape ([`TrainStep::step`]); returns the loss.
    pub fn tape_step(&mut self) -> Result<T> {
        let x = Arc::clone(&self.x);
        self.step.step(&mut self.net, x, &self.y, T::cast(REG), LR)
    }

    /// One step with the hand-written closed-form gradients (preallocated buffers, the same
    /// matrix-product kernel); returns the loss.
    pub fn closed_form_step(&mut self) -> Result<T> {
        let ws = &mut self.workspace;
        let loss = ws.gradients(&self.net, self.x.view(), &self.y, T::cast(REG))?;
        self.net.update(&mut self.sgd, &ws.grads, LR)?;
        Ok(loss)
    }
}
