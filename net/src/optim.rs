//! Optimizers: minibatch SGD, SGD with momentum, and Adam.

use std::sync::Arc;

use ndarray::{Array, Dimension};
use tapegrad_autograd::Element;

use crate::model::{Gradients, TwoLayerNet};

/// Which update rule to use, with its hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerKind {
    /// `w -= lr · g`.
    Sgd,
    /// `v = μ v - lr · g; w += v` (the course's momentum update).
    Momentum {
        /// The momentum `μ`, typically 0.9.
        mu: f64,
    },
    /// Adam (Kingma & Ba, 2015) with bias correction.
    Adam {
        /// Decay of the first moment, typically 0.9.
        beta1: f64,
        /// Decay of the second moment, typically 0.999.
        beta2: f64,
        /// Added to the root of the second moment, typically 1e-8.
        eps: f64,
    },
}

impl OptimizerKind {
    /// Momentum with `μ = 0.9`.
    pub const MOMENTUM: OptimizerKind = OptimizerKind::Momentum { mu: 0.9 };
    /// Adam with its usual constants.
    pub const ADAM: OptimizerKind = OptimizerKind::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
}

/// An optimizer for a [`TwoLayerNet`]: the rule plus its per-parameter state.
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::Tape;
/// use tapegrad_net::{Optimizer, OptimizerKind, TwoLayerNet};
///
/// let mut net = TwoLayerNet::<f64>::new(2, 8, 2, 0.1, 0);
/// let mut opt = Optimizer::new(OptimizerKind::Sgd);
/// let (x, y) = (array![[1.0, 0.0], [0.0, 1.0]], [0, 1]);
/// let mut tape = Tape::new();
/// let (before, g) = net.loss_and_gradients(&mut tape, x.clone(), &y, 0.0)?;
/// opt.step(&mut net, &g, 0.5);
/// let (after, _) = net.loss_and_gradients(&mut tape, x, &y, 0.0)?;
/// assert!(after < before);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Optimizer<T: Element> {
    kind: OptimizerKind,
    /// Steps taken (Adam's bias correction needs it).
    t: u64,
    /// First-moment / velocity buffers, one per parameter (W1, b1, W2, b2).
    m: Vec<Vec<T>>,
    /// Second-moment buffers (Adam only).
    v: Vec<Vec<T>>,
}

impl<T: Element> Optimizer<T> {
    /// A fresh optimizer (zero state).
    pub fn new(kind: OptimizerKind) -> Self {
        Optimizer {
            kind,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// The rule in use.
    pub fn kind(&self) -> OptimizerKind {
        self.kind
    }

    /// The state, for saving: steps taken, then the first-moment (velocity) and second-moment
    /// buffers, one per parameter in the order W1, b1, W2, b2 (empty where unused).
    pub fn state(&self) -> (u64, &[Vec<T>], &[Vec<T>]) {
        (self.t, &self.m, &self.v)
    }

    /// An optimizer that continues from a saved [`state`](Optimizer::state).
    pub fn restore(kind: OptimizerKind, steps: u64, m: Vec<Vec<T>>, v: Vec<Vec<T>>) -> Self {
        Optimizer {
            kind,
            t: steps,
            m,
            v,
        }
    }

    /// Applies one update with learning rate `lr` to a list of parameters of any model, each
    /// with its gradient. Pass them in the same order every step: parameter `k` keeps its own
    /// momentum or Adam state. As with [`step`](Optimizer::step), clear the tape first so the
    /// parameters are updated in place.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use ndarray::{array, ArrayD};
    /// use tapegrad_net::{Optimizer, OptimizerKind};
    ///
    /// let mut params = vec![Arc::new(array![1.0, -2.0].into_dyn())];
    /// let grads: Vec<ArrayD<f64>> = vec![array![0.5, 0.5].into_dyn()];
    /// Optimizer::new(OptimizerKind::Sgd).step_params(&mut params, &grads, 0.1);
    /// assert_eq!(*params[0], array![0.95, -2.05].into_dyn());
    /// ```
    ///
    /// # Panics
    /// If a gradient's shape differs from its parameter's.
    pub fn step_params<D: Dimension>(
        &mut self,
        params: &mut [Arc<Array<T, D>>],
        grads: &[Array<T, D>],
        lr: f64,
    ) {
        self.t += 1;
        for (k, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            assert_eq!(p.shape(), g.shape(), "parameter {k}: gradient shape");
            update(self, k, p, g, lr);
        }
    }

    /// Applies one update with learning rate `lr` to every parameter of `net`. The net should
    /// hold the only reference to its parameters (clear the tape first); otherwise they are
    /// copied before being changed.
    pub fn step(&mut self, net: &mut TwoLayerNet<T>, grads: &Gradients<T>, lr: f64) {
        self.t += 1;
        update(self, 0, &mut net.w1, &grads.w1, lr);
        update(self, 1, &mut net.b1, &grads.b1, lr);
        update(self, 2, &mut net.w2, &grads.w2, lr);
        update(self, 3, &mut net.b2, &grads.b2, lr);
    }
}

/// Updates parameter number `k` in place.
fn update<T: Element, D: Dimension>(
    opt: &mut Optimizer<T>,
    k: usize,
    param: &mut Arc<Array<T, D>>,
    grad: &Array<T, D>,
    lr: f64,
) {
    let w = Arc::make_mut(param);
    let lr_t = T::cast(lr);
    let g = grad.as_standard_layout();
    let (w, g) = (
        w.as_slice_mut().expect("parameters are contiguous"),
        g.as_slice().expect("standard layout"),
    );
    let state = |bufs: &mut Vec<Vec<T>>| -> Vec<T> {
        if bufs.len() <= k {
            bufs.resize_with(k + 1, Vec::new);
        }
        let mut b = std::mem::take(&mut bufs[k]);
        b.resize(w.len(), T::zero());
        b
    };
    match opt.kind {
        OptimizerKind::Sgd => {
            for (w, &g) in w.iter_mut().zip(g) {
                *w -= lr_t * g;
            }
        }
        OptimizerKind::Momentum { mu } => {
            let mu = T::cast(mu);
            let mut v = state(&mut opt.m);
            for ((w, &g), v) in w.iter_mut().zip(g).zip(&mut v) {
                *v = mu * *v - lr_t * g;
                *w += *v;
            }
            opt.m[k] = v;
        }
        OptimizerKind::Adam { beta1, beta2, eps } => {
            let t = opt.t as i32;
            let step = lr / (1.0 - beta1.powi(t)) * (1.0 - beta2.powi(t)).sqrt();
            let (b1, b2, eps, step) = (T::cast(beta1), T::cast(beta2), T::cast(eps), T::cast(step));
            let one = T::one();
            let eps_hat = eps * T::cast((1.0 - beta2.powi(t)).sqrt());
            let (mut m, mut v) = (state(&mut opt.m), state(&mut opt.v));
            for (((w, &g), m), v) in w.iter_mut().zip(g).zip(&mut m).zip(&mut v) {
                *m = b1 * *m + (one - b1) * g;
                *v = b2 * *v + (one - b2) * g * g;
                *w -= step * *m / (v.sqrt() + eps_hat);
            }
            opt.m[k] = m;
            opt.v[k] = v;
        }
    }
}
