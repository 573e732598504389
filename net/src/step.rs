//! One SGD step of the net at fixed shapes: the workload that the benchmarks time and compare
//! with other engines (see the workspace README's Performance section).

use std::sync::Arc;

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use tapegrad_autograd::{Element, Tape};

use crate::{closed_form, Gradients, Optimizer, OptimizerKind, Result, TwoLayerNet};

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

/// The shapes the peers were measured at (`../shared/peers/README.md`).
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
    pub net: TwoLayerNet<T>,
    x: Arc<Array2<T>>,
    y: Vec<usize>,
    tape: Tape<T>,
    workspace: closed_form::Workspace<T>,
    opt: Optimizer<T>,
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
            net: TwoLayerNet::new(shape.d, shape.h, shape.c, 1e-2, 1),
            x: Arc::new(x),
            y,
            tape: Tape::new(),
            workspace: closed_form::Workspace::new(shape.n, shape.d, shape.h, shape.c),
            opt: Optimizer::new(OptimizerKind::Sgd),
        }
    }

    /// One step through the tape; returns the loss.
    pub fn tape_step(&mut self) -> Result<T> {
        let (loss, g) = self.net.loss_and_gradients(
            &mut self.tape,
            Arc::clone(&self.x),
            &self.y,
            T::cast(REG),
        )?;
        self.update(g);
        Ok(loss)
    }

    /// One step with the hand-written closed-form gradients (preallocated buffers, the same
    /// matrix-product kernel); returns the loss.
    pub fn closed_form_step(&mut self) -> Result<T> {
        let ws = &mut self.workspace;
        let loss = ws.gradients(&self.net, self.x.view(), &self.y, T::cast(REG))?;
        self.opt.step(&mut self.net, &ws.grads, LR);
        Ok(loss)
    }

    fn update(&mut self, g: Gradients<T>) {
        self.opt.step(&mut self.net, &g, LR);
        for a in [
            g.w1.into_dyn(),
            g.w2.into_dyn(),
            g.b1.into_dyn(),
            g.b2.into_dyn(),
        ] {
            self.tape.give_buffer(a);
        }
    }
}
