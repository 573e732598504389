//! Optimizers: one update rule per file behind one trait, [`Optimizer`].
//!
//! An optimizer updates an ordered list of parameters, one at a time:
//! [`begin_step`](Optimizer::begin_step) once, then [`update`](Optimizer::update) for
//! parameter `0, 1, 2, ...` in the same order every step (parameter `k` keeps its own momentum
//! or Adam state). [`update_parameter`] does that for one `Arc`-shared `ndarray` parameter, and
//! [`TrainStep`](crate::TrainStep) for a whole model. Its state (steps taken and named
//! per-parameter buffers) is saved and restored through the trait
//! ([`state`](Optimizer::state), [`load_state`](Optimizer::load_state)), so the run-state file
//! holds any optimizer's state.
//!
//! A new optimizer is a new file here: a struct implementing [`Optimizer`] (its update rule,
//! its state buffers kept in [`ParameterBuffers`]), and, to be chosen by name from a
//! [`TrainConfig`](crate::train::TrainConfig), one [`OptimizerKind`] variant and its arm in
//! [`OptimizerKind::build`].

use std::fmt;
use std::sync::Arc;

use ndarray::{Array, Array2, ArrayBase, Data, Dimension};
use tapegrad_autograd::{Element, ProductGradient};
use thiserror::Error;

mod adam;
mod buffers;
mod kind;
mod momentum;
mod sgd;

pub use adam::Adam;
pub use buffers::ParameterBuffers;
pub use kind::OptimizerKind;
pub use momentum::Momentum;
pub use sgd::Sgd;

/// An update rule and its per-parameter state.
///
/// ```
/// use std::sync::Arc;
/// use ndarray::array;
/// use tapegrad_net::optim::{update_parameter, Optimizer, Sgd};
///
/// let mut w = Arc::new(array![1.0, -2.0]);
/// let mut sgd = Sgd::default();
/// Optimizer::<f64>::begin_step(&mut sgd);
/// update_parameter(&mut sgd, 0, &mut w, &array![0.5, 0.5], 0.1)?;
/// assert_eq!(*w, array![0.95, -2.05]);
/// # Ok::<(), tapegrad_net::optim::OptimError>(())
/// ```
pub trait Optimizer<T: Element>: fmt::Debug + Send {
    /// The rule's name as the CLI's `--optimizer` spells it (`sgd`, `momentum`, `adam`).
    fn name(&self) -> &'static str;

    /// Checks the rule's own constants (a decay in `[0, 1)`, a positive `eps`, ...); the error
    /// says what is wrong.
    fn check(&self) -> Result<(), String>;

    /// Names of the state buffers the rule keeps per parameter (`["m", "v"]` for Adam), in the
    /// order of [`OptimizerState::buffers`].
    fn buffer_names(&self) -> &'static [&'static str];

    /// Starts a step: called once before the step's [`update`](Optimizer::update)s.
    fn begin_step(&mut self);

    /// Updates parameter number `k` (counted from 0 in the model's parameter order) with its
    /// gradient `grad` (as long as `param`) and learning rate `lr`. State of another length than
    /// `param` is [`OptimError::StateLength`], never resized.
    fn update(&mut self, k: usize, param: &mut [T], grad: &[T], lr: f64) -> Result<(), OptimError>;
    /// Whether the rule takes a weight's gradient still a product
    /// ([`update_product`](Optimizer::update_product)); asked before the backward pass, so that
    /// a rule that does not (the default) gets its gradients written out into pooled buffers.
    fn takes_products(&self) -> bool {
        false
    }
    /// [`update`](Optimizer::update) with a weight's gradient still a product
    /// ([`ProductGradient`]), which an elementwise rule computes piece by piece as it goes (see
    /// [`Gradient::elementwise`]), so that the gradient is never written to memory; `param` is
    /// the weight (row-major). Called only when [`takes_products`](Optimizer::takes_products);
    /// the default writes the gradient into a new array and calls `update`.
    fn update_product(
        &mut self,
        k: usize,
        param: &mut [T],
        grad: &ProductGradient<T>,
        lr: f64,
    ) -> Result<(), OptimError> {
        let [d, h] = grad.shape();
        let w = ndarray::ArrayView2::from_shape((d, h), &*param).map_err(|_| {
            OptimError::GradientShape {
                parameter: k,
                shape: vec![param.len()],
                gradient: grad.shape().to_vec(),
            }
        })?;
        let mut g = Array2::zeros((d, h));
        grad.evaluate(w, g.view_mut());
        let g = g.as_slice().expect("a new array is one slice");
        self.update(k, param, g, lr)
    }

    /// The state, for saving.
    fn state(&self) -> OptimizerState<T>;

    /// Continues from a saved [`state`](Optimizer::state) of a model whose parameters have
    /// `sizes` elements each: buffers of the wrong count or length are an [`OptimError`].
    fn load_state(&mut self, state: OptimizerState<T>, sizes: &[usize]) -> Result<(), OptimError>;

    /// A copy behind a new box (the state included).
    fn clone_box(&self) -> Box<dyn Optimizer<T>>;
}

impl<T: Element> Clone for Box<dyn Optimizer<T>> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// An optimizer's state: the steps it has taken and its per-parameter buffers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OptimizerState<T> {
    /// Steps taken ([`begin_step`](Optimizer::begin_step) calls).
    pub steps: u64,
    /// One entry per name of [`buffer_names`](Optimizer::buffer_names): the buffer of each
    /// parameter in order, or no buffers at all before the first step.
    pub buffers: Vec<Vec<Vec<T>>>,
}

/// What went wrong updating parameters or restoring an optimizer's state.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OptimError {
    /// A gradient shaped unlike its parameter.
    #[error("parameter {parameter}: its gradient is {gradient:?} but the parameter {shape:?}")]
    GradientShape {
        /// The parameter's number.
        parameter: usize,
        /// The parameter's shape.
        shape: Vec<usize>,
        /// The gradient's shape.
        gradient: Vec<usize>,
    },
    /// Another number of gradients than the model has parameters.
    #[error("{found} gradients for a model of {expected} parameters")]
    GradientCount {
        /// The model's parameter count.
        expected: usize,
        /// The number of gradients given.
        found: usize,
    },
    /// A state buffer whose length differs from its parameter's.
    #[error("{optimizer} state '{buffer}' of parameter {parameter} has {found} values but the parameter {expected}")]
    StateLength {
        /// The optimizer's name.
        optimizer: &'static str,
        /// The buffer's name.
        buffer: &'static str,
        /// The parameter's number.
        parameter: usize,
        /// The parameter's element count.
        expected: usize,
        /// The buffer's length.
        found: usize,
    },
    /// State for another number of parameters, or a parameter updated out of order.
    #[error("{optimizer} state '{buffer}' holds {found} parameters' buffers but {expected} were expected")]
    StateCount {
        /// The optimizer's name.
        optimizer: &'static str,
        /// The buffer's name, or `buffers` when the number of buffers is wrong.
        buffer: &'static str,
        /// How many were expected.
        expected: usize,
        /// How many there are.
        found: usize,
    },
}

/// Applies `optimizer`'s update to parameter number `k`, an `Arc`-shared array, in place.
///
/// The parameter is changed where it is when this holds its only reference (clear the tape
/// first); otherwise it is copied first. A parameter not in standard (row-major) layout is
/// converted to it; a gradient not in standard layout is read through a row-major copy.
/// Call [`Optimizer::begin_step`] once before the step's first parameter.
pub fn update_parameter<T, D, S>(
    optimizer: &mut (impl Optimizer<T> + ?Sized),
    k: usize,
    param: &mut Arc<Array<T, D>>,
    grad: &ArrayBase<S, D>,
    lr: f64,
) -> Result<(), OptimError>
where
    T: Element,
    D: Dimension,
    S: Data<Elem = T>,
{
    if param.shape() != grad.shape() {
        return Err(OptimError::GradientShape {
            parameter: k,
            shape: param.shape().to_vec(),
            gradient: grad.shape().to_vec(),
        });
    }
    let g = grad.as_standard_layout();
    let Some(g) = g.as_slice() else {
        unreachable!("the array is in standard layout")
    };
    optimizer.update(k, row_major(param), g, lr)
}

/// [`update_parameter`] for a weight matrix whose gradient is a [`ProductGradient`], computed as
/// the update goes ([`Optimizer::update_product`]).
pub fn update_parameter_product<T: Element>(
    optimizer: &mut (impl Optimizer<T> + ?Sized),
    k: usize,
    param: &mut Arc<Array2<T>>,
    grad: &ProductGradient<T>,
    lr: f64,
) -> Result<(), OptimError> {
    if param.shape() != grad.shape() {
        return Err(OptimError::GradientShape {
            parameter: k,
            shape: param.shape().to_vec(),
            gradient: grad.shape().to_vec(),
        });
    }
    optimizer.update_product(k, row_major(param), grad, lr)
}

/// The parameter's elements in row-major order, changed in place when `param` holds the only
/// reference (else copied first), converted to standard layout when it is not.
fn row_major<T: Element, D: Dimension>(param: &mut Arc<Array<T, D>>) -> &mut [T] {
    let w = Arc::make_mut(param);
    if !w.is_standard_layout() {
        *w = w.as_standard_layout().into_owned();
    }
    w.as_slice_mut()
        .expect("an array in standard layout is one slice")
}

/// The update methods of an [`Optimizer`] implementation whose rule is one method
/// `apply(&mut self, k, w, g: Gradient<'_, T>, lr)`, for gradient values and products alike.
macro_rules! updates_through_apply {
    () => {
        fn takes_products(&self) -> bool {
            true
        }

        fn update(&mut self, k: usize, w: &mut [T], g: &[T], lr: f64) -> Result<(), OptimError> {
            self.apply(k, w, $crate::optim::Gradient::Values(g), lr)
        }

        fn update_product(
            &mut self,
            k: usize,
            w: &mut [T],
            g: &tapegrad_autograd::ProductGradient<T>,
            lr: f64,
        ) -> Result<(), OptimError> {
            self.apply(k, w, $crate::optim::Gradient::Product(g), lr)
        }
    };
}
use updates_through_apply;

/// A parameter's gradient as an update rule reads it.
#[derive(Clone, Copy, Debug)]
pub enum Gradient<'a, T: Element> {
    /// Its values, as many as the parameter has (row-major).
    Values(&'a [T]),
    /// A weight's gradient left as a product, computed piece by piece by
    /// [`elementwise`](Gradient::elementwise).
    Product(&'a ProductGradient<T>),
}

impl<T: Element> Gradient<'_, T> {
    /// Applies `rule(parts, g)` to pieces of `slices` (the parameter first, then the rule's
    /// per-element state, each as long as the parameter) with the gradient's values `g` there,
    /// on the threads of [`tapegrad_autograd::team`] for long parameters. Each element's update
    /// must read and write that element alone; the result is then the same bit for bit however
    /// the pieces fall, and whether the gradient was a product or values.
    pub fn elementwise<const M: usize>(
        self,
        slices: [&mut [T]; M],
        rule: impl Fn([&mut [T]; M], &[T]) + Sync,
    ) {
        // Each piece's loop vectorised for the kernel's instruction set.
        let rule = |s: [&mut [T]; M], g: &[T]| tapegrad_autograd::widest(|| rule(s, g));
        match self {
            Gradient::Values(g) => elementwise(slices, g, rule),
            Gradient::Product(p) => p.for_each_piece(slices, &rule),
        }
    }
}

/// Parameters longer than this have their elementwise update split between threads.
const UPDATE_GRAIN: usize = 1 << 15;

/// Applies an update rule `rule(state, g)` to a parameter's slices (the weights and the
/// rule's per-element state, all as long as the gradient `g`; or a weight average and the
/// weights), split between the threads of
/// [`tapegrad_autograd::team`] for long parameters. Each element's update reads and writes
/// that element alone, so the result is the same bit for bit however the slices are split.
pub(crate) fn elementwise<T: Element, const M: usize>(
    slices: [&mut [T]; M],
    g: &[T],
    rule: impl Fn([&mut [T]; M], &[T]) + Sync,
) {
    tapegrad_autograd::team::for_each_split(
        slices,
        [g],
        UPDATE_GRAIN,
        tapegrad_autograd::threads(),
        &|s, [g]| rule(s, g),
    );
}

#[cfg(test)]
mod tests;
