//! [`TrainStep`]: one training step (record the loss, walk it back, update the parameters) with
//! the tape's buffers reused from step to step, for any model.

use std::fmt;
use std::sync::Arc;

use ndarray::ArrayD;
use tapegrad_autograd::{Element, Leaf, ProductGradient, Tape, Var};

use crate::model::{recycle_step_gradients, Dropout, Objective, StepGradient};
use crate::optim::{update_parameter, Optimizer};
use crate::{Mlp, Result};

/// A tape and an optimizer: each [`step`](TrainStep::step) records the loss, takes its
/// gradients, updates the parameters and hands every buffer back to the tape, so that after
/// the first step a step allocates nothing.
///
/// A non-finite loss leaves the parameters as they were (the update would spread NaN through
/// them) and is returned as it is, for the caller to stop on.
///
/// ```
/// use ndarray::array;
/// use tapegrad_net::optim::Adam;
/// use tapegrad_net::{Init, Mlp, TrainStep};
///
/// let mut net = Mlp::<f64>::new(&[2, 8, 2], Init { std: 0.1, seed: 0 })?;
/// let mut step = TrainStep::new(Adam::default());
/// let (x, y) = (array![[1.0, 0.0], [0.0, 1.0]], [0, 1]);
/// let first = step.step(&mut net, x.clone(), &y, 0.0, 0.05)?;
/// for _ in 0..20 {
///     step.step(&mut net, x.clone(), &y, 0.0, 0.05)?;
/// }
/// assert!(step.step(&mut net, x, &y, 0.0, 0.05)? < first / 2.0);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
pub struct TrainStep<T: Element> {
    tape: Tape<T>,
    optimizer: Box<dyn Optimizer<T>>,
    /// The gradients of the step, kept for the list's capacity.
    grads: Vec<ArrayD<T>>,
    /// The gradients of [`step`](TrainStep::step), weights' as products where the tape leaves
    /// them so (see [`StepGradient`]), kept for the list's capacity.
    step_grads: Vec<StepGradient<T>>,
    /// The products of a backward pass, kept for the list's capacity.
    products: Vec<ProductGradient<T>>,
    /// Dropout of the hidden units in [`step`](TrainStep::step) (none: the document's loss).
    dropout: Option<Dropout>,
    /// The run's count of steps taken, which keys each step's dropout masks.
    iteration: u64,
    /// Label smoothing `ε` in [`step`](TrainStep::step) (0: the document's loss).
    label_smoothing: T,
}

impl<T: Element> TrainStep<T> {
    /// Steps with `optimizer` on a new tape.
    pub fn new(optimizer: impl Optimizer<T> + 'static) -> Self {
        Self::with_boxed(Box::new(optimizer))
    }

    /// Steps with an optimizer chosen at run time (see
    /// [`OptimizerKind::build`](crate::optim::OptimizerKind::build)).
    pub fn with_boxed(optimizer: Box<dyn Optimizer<T>>) -> Self {
        TrainStep {
            tape: Tape::new(),
            optimizer,
            grads: Vec::new(),
            step_grads: Vec::new(),
            products: Vec::new(),
            dropout: None,
            iteration: 0,
            label_smoothing: T::zero(),
        }
    }

    /// Smooths the labels by `epsilon` in every following [`step`](TrainStep::step) (0: the
    /// document's cross-entropy; see [`Objective`]).
    pub fn set_label_smoothing(&mut self, epsilon: T) {
        self.label_smoothing = epsilon;
    }

    /// Drops hidden units with `dropout` in every following [`step`](TrainStep::step) (none:
    /// never), whose masks are keyed by `iteration`, the run's steps taken so far (counted on
    /// by each step), so that a resumed run draws the masks an uninterrupted one would.
    ///
    /// ```
    /// use ndarray::array;
    /// use tapegrad_net::model::Dropout;
    /// use tapegrad_net::optim::Sgd;
    /// use tapegrad_net::{Init, Mlp, TrainStep};
    ///
    /// let net = Mlp::<f64>::new(&[2, 16, 2], Init { std: 0.5, seed: 0 })?;
    /// let (x, y) = (array![[1.0, 0.0], [0.0, 1.0]], [0, 1]);
    /// let mut plain = TrainStep::new(Sgd::default());
    /// let mut dropping = TrainStep::new(Sgd::default());
    /// dropping.set_dropout(Some(Dropout::new(0.5, 1)?), 0);
    /// let a = plain.step(&mut net.clone(), x.clone(), &y, 0.0, 0.1)?;
    /// let b = dropping.step(&mut net.clone(), x, &y, 0.0, 0.1)?;
    /// assert_ne!(a, b); // half the hidden units were dropped
    /// # Ok::<(), tapegrad_net::NetError>(())
    /// ```
    pub fn set_dropout(&mut self, dropout: Option<Dropout>, iteration: u64) {
        self.dropout = dropout;
        self.iteration = iteration;
    }

    /// The optimizer, for its state.
    pub fn optimizer(&self) -> &dyn Optimizer<T> {
        self.optimizer.as_ref()
    }

    /// The optimizer, to restore its state.
    pub fn optimizer_mut(&mut self) -> &mut dyn Optimizer<T> {
        self.optimizer.as_mut()
    }

    /// The tape, to take a pooled buffer for the next batch's inputs
    /// ([`Tape::take_buffer`]).
    pub fn tape(&self) -> &Tape<T> {
        &self.tape
    }

    /// One step of `net` on the batch `x`, `y` with regularisation `reg` and learning rate
    /// `lr` (and the dropout of [`set_dropout`](TrainStep::set_dropout) and label smoothing
    /// of [`set_label_smoothing`](TrainStep::set_label_smoothing)); returns the loss before
    /// the update.
    pub fn step(
        &mut self,
        net: &mut Mlp<T>,
        x: impl Into<Leaf<T>>,
        y: &[usize],
        reg: T,
        lr: f64,
    ) -> Result<T> {
        let objective = Objective {
            reg,
            dropout: self.dropout.map(|d| d.at_step(self.iteration)),
            label_smoothing: self.label_smoothing,
        };
        self.iteration += 1;
        let loss = net.step_gradients_into(
            &mut self.tape,
            x,
            y,
            objective,
            &mut self.step_grads,
            // Weights' gradients stay products for a rule that computes them as it goes.
            self.optimizer
                .takes_products()
                .then_some(&mut self.products),
        );
        let update = match loss {
            Ok(loss) if loss.is_finite() => {
                net.update_step(self.optimizer.as_mut(), &self.step_grads, lr)
            }
            _ => Ok(()),
        };
        recycle_step_gradients(&self.tape, &mut self.step_grads, &mut self.products);
        update?;
        loss
    }

    /// One step of any model whose parameters are `params`: `loss` records the loss on the
    /// tape from the parameters' variables (in `params` order); every parameter is then updated
    /// with learning rate `lr`. Returns the loss before the update. A parameter the loss does
    /// not use has a zero gradient.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use ndarray::{array, ArrayD};
    /// use tapegrad_net::optim::Sgd;
    /// use tapegrad_net::TrainStep;
    ///
    /// // Least squares: fit w so that x w ≈ t.
    /// let mut params: Vec<Arc<ArrayD<f64>>> = vec![Arc::new(array![[0.0], [0.0]].into_dyn())];
    /// let mut step = TrainStep::new(Sgd::default());
    /// let mut last = f64::INFINITY;
    /// for _ in 0..100 {
    ///     last = step.step_params(&mut params, 0.5, |tape, p| {
    ///         let x = tape.constant(array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]);
    ///         let t = tape.constant(array![[1.0], [2.0], [3.0]]);
    ///         x.matmul(p[0])?.mse(t)
    ///     })?;
    /// }
    /// assert!(last < 1e-9);
    /// # Ok::<(), tapegrad_net::NetError>(())
    /// ```
    pub fn step_params<F>(&mut self, params: &mut [Arc<ArrayD<T>>], lr: f64, loss: F) -> Result<T>
    where
        F: for<'t> FnOnce(&'t Tape<T>, &[Var<'t, T>]) -> tapegrad_autograd::Result<Var<'t, T>>,
    {
        self.tape.clear();
        let value = {
            let vars: Vec<Var<'_, T>> = params.iter().map(|p| self.tape.param(p)).collect();
            let loss = loss(&self.tape, &vars)?;
            let mut g = loss.backward()?;
            for &v in &vars {
                let grad = g.take(v).unwrap_or_else(|| ArrayD::zeros(v.shape()));
                self.grads.push(grad);
            }
            self.tape.recycle(g);
            loss.item()?
        };
        self.tape.clear();
        if value.is_finite() {
            self.optimizer.begin_step();
            for (k, (p, g)) in params.iter_mut().zip(&self.grads).enumerate() {
                update_parameter(self.optimizer.as_mut(), k, p, g, lr)?;
            }
        }
        for g in self.grads.drain(..) {
            self.tape.give_buffer(g);
        }
        Ok(value)
    }
}

impl<T: Element> Clone for TrainStep<T> {
    /// The same optimizer state, dropout, label smoothing and step count on a new tape.
    fn clone(&self) -> Self {
        let mut step = Self::with_boxed(self.optimizer.clone());
        step.set_dropout(self.dropout, self.iteration);
        step.set_label_smoothing(self.label_smoothing);
        step
    }
}

impl<T: Element> fmt::Debug for TrainStep<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrainStep")
            .field("optimizer", &self.optimizer)
            .finish_non_exhaustive()
    }
}
