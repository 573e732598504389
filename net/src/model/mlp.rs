//! [`Mlp`]: a stack of [`Linear`] layers with an [`Activation`] between them (ReLU unless
//! chosen otherwise), trained on the document's loss; the document's net is the ReLU `Mlp` of
//! two layers.

use std::borrow::Cow;

use ndarray::{Array1, Array2, ArrayD, ArrayViewD, Ix1, Ix2};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use tapegrad_autograd::{Element, Leaf, Tape, Var};

use super::activation::Activation;
use super::gradients::{parameter_name, ParameterGradients};
use super::linear::Linear;
use super::loss::loss;
use super::objective::Objective;
use super::step_gradients::{GradientRef, StepGradient};
use crate::limits::MAX_LAYERS;
use crate::optim::{OptimError, Optimizer};
use crate::{NetError, Result};

/// How a new net's weights are drawn: `W = std · N(0, 1)` for every layer in turn (row-major,
/// from one generator seeded with `seed`); biases start at 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Init {
    /// Standard deviation of the initial weights.
    pub std: f64,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for Init {
    /// The classic setting of the document's net: `std = 1e-4`, seed 0.
    fn default() -> Self {
        Init { std: 1e-4, seed: 0 }
    }
}

/// A multi-layer perceptron: layers `1..=L` compute `z_l = a_{l-1} W_l + b_l` from
/// `a_0 = X`, with `a_l = act(z_l)` between layers (`act` its [`Activation`], ReLU unless
/// [`with_activation`](Mlp::with_activation) chose another) and the last `z_L` the class
/// scores. Its
/// parameters are an ordered list `W1, b1, W2, b2, ...` (see
/// [`parameter_name`](crate::model::parameter_name)); that order is the one of the gradients,
/// the optimizer state and the model file.
///
/// The document's net is the `Mlp` of two layers, sizes `[d, h, c]`:
/// `X → X W1 + b1 → relu → · W2 + b2 → softmax`, trained on
/// `L = (1/n) Σ_i -ln p_{y_i} + λ Σ_l Σ W_l²` ([`loss`](crate::loss)).
///
/// ```
/// use tapegrad_net::{Init, Mlp};
///
/// let net = Mlp::<f64>::new(&[4, 5, 3], Init { std: 1e-4, seed: 0 })?;
/// assert_eq!(net.sizes(), [4, 5, 3]);
/// assert_eq!(net, Mlp::new(&[4, 5, 3], Init { std: 1e-4, seed: 0 })?); // same seed, same net
/// let deeper = Mlp::<f32>::new(&[784, 512, 256, 10], Init::default())?;
/// assert_eq!(deeper.layers().len(), 3);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp<T: Element> {
    /// At least one layer; each takes as many inputs as the one before has outputs.
    layers: Vec<Linear<T>>,
    /// The nonlinearity between layers.
    activation: Activation,
}

/// The net's forward pass and loss as recorded on a tape. The parameters' variables are the
/// tape's [`params`](Tape::params), in the net's parameter order.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'t, T: Element> {
    /// The loss `L`, a 0-D tensor.
    pub loss: Var<'t, T>,
    /// The class scores `z_L`, `n x c`.
    pub scores: Var<'t, T>,
}

impl<T: Element> Mlp<T> {
    /// A net with layers of `sizes = [d, h1, ..., c]` (inputs, hidden units of each hidden
    /// layer, classes), initialised by `init`. Every size must be at least 1, with at least one
    /// layer and at most [`MAX_LAYERS`](crate::limits::MAX_LAYERS); the weights are
    /// allocated, so check the memory they need first when the sizes come from a user
    /// ([`TrainConfig::check_fits`](crate::train::TrainConfig::check_fits)).
    pub fn new(sizes: &[usize], init: Init) -> Result<Self> {
        check_sizes::<T>(sizes)?;
        let mut rng = StdRng::seed_from_u64(init.seed);
        let layers = sizes
            .windows(2)
            .map(|io| {
                let w = Array2::from_shape_simple_fn((io[0], io[1]), || {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    T::cast(init.std * z)
                });
                Linear::from_parameters(w, Array1::zeros(io[1]))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Mlp {
            layers,
            activation: Activation::Relu,
        })
    }

    /// A net of the given layers with ReLU between them (see
    /// [`with_activation`](Mlp::with_activation)), checking that each takes the outputs of the
    /// one before.
    pub fn from_layers(layers: Vec<Linear<T>>) -> Result<Self> {
        if layers.is_empty() || layers.len() > MAX_LAYERS {
            return Err(NetError::Parameters(format!(
                "a net has 1 to {MAX_LAYERS} layers, not {}",
                layers.len()
            )));
        }
        for (l, pair) in layers.windows(2).enumerate() {
            if pair[0].outputs() != pair[1].inputs() {
                return Err(NetError::Parameters(format!(
                    "{} is {}x{} but {} is {}x{}: a layer takes the outputs of the one before",
                    parameter_name(2 * l),
                    pair[0].inputs(),
                    pair[0].outputs(),
                    parameter_name(2 * l + 2),
                    pair[1].inputs(),
                    pair[1].outputs(),
                )));
            }
        }
        Ok(Mlp {
            layers,
            activation: Activation::Relu,
        })
    }

    /// The same net with `activation` between its layers instead.
    ///
    /// ```
    /// use tapegrad_net::model::Activation;
    /// use tapegrad_net::{Init, Mlp};
    ///
    /// let net = Mlp::<f64>::new(&[4, 5, 3], Init::default())?.with_activation(Activation::Tanh);
    /// assert_eq!(net.activation(), Activation::Tanh);
    /// # Ok::<(), tapegrad_net::NetError>(())
    /// ```
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// The nonlinearity between the layers.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// A net from its parameters in order (`W1, b1, W2, b2, ...`: 2-D weights, 1-D biases),
    /// with ReLU between its layers (see [`with_activation`](Mlp::with_activation)).
    pub fn from_parameters(parameters: Vec<ArrayD<T>>) -> Result<Self> {
        if !parameters.len().is_multiple_of(2) {
            return Err(NetError::Parameters(format!(
                "{} parameters: a net has a weight and a bias per layer",
                parameters.len()
            )));
        }
        let mut layers = Vec::with_capacity(parameters.len() / 2);
        let mut it = parameters.into_iter();
        while let (Some(w), Some(b)) = (it.next(), it.next()) {
            let k = 2 * layers.len();
            let rank = |k: usize, shape: &[usize]| {
                let want = if k.is_multiple_of(2) { "2-D" } else { "1-D" };
                NetError::Parameters(format!(
                    "{} has shape {shape:?}, not {want}",
                    parameter_name(k)
                ))
            };
            let shape = w.shape().to_vec();
            let w = w
                .into_dimensionality::<Ix2>()
                .map_err(|_| rank(k, &shape))?;
            let shape = b.shape().to_vec();
            let b = b
                .into_dimensionality::<Ix1>()
                .map_err(|_| rank(k + 1, &shape))?;
            let layer = Linear::from_parameters(w, b)
                .map_err(|e| NetError::Parameters(format!("layer {}: {e}", layers.len() + 1)))?;
            layers.push(layer);
        }
        Self::from_layers(layers)
    }

    /// The layers, first to last.
    pub fn layers(&self) -> &[Linear<T>] {
        &self.layers
    }

    /// The layers, to change their parameters in place (their sizes stay).
    pub(crate) fn layers_mut(&mut self) -> &mut [Linear<T>] {
        &mut self.layers
    }

    /// `[d, h1, ..., c]`: inputs, each hidden layer's units, classes.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.inputs()];
        sizes.extend(self.layers.iter().map(Linear::outputs));
        sizes
    }

    /// Hidden units of each hidden layer (`[h]` for the document's net).
    pub fn hidden(&self) -> Vec<usize> {
        let sizes = self.sizes();
        sizes[1..sizes.len() - 1].to_vec()
    }

    /// Inputs per example `d`.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs()
    }

    /// Classes `c`.
    pub fn classes(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs()
    }

    /// `(name, value)` of every parameter, in order (`W1, b1, W2, b2, ...`).
    pub fn parameters(&self) -> impl Iterator<Item = (Cow<'static, str>, ArrayViewD<'_, T>)> {
        self.layers
            .iter()
            .flat_map(|layer| [layer.weight().into_dyn(), layer.bias().into_dyn()])
            .enumerate()
            .map(|(k, p)| (parameter_name(k), p))
    }

    /// The parameters' element counts, in order (for
    /// [`Optimizer::load_state`]).
    pub fn parameter_sizes(&self) -> Vec<usize> {
        self.parameters().map(|(_, p)| p.len()).collect()
    }

    /// Applies one step of `optimizer` with learning rate `lr` to every parameter, in order.
    /// The net should hold the only reference to its parameters (clear the tape first);
    /// otherwise they are copied before being changed.
    ///
    /// ```
    /// use ndarray::array;
    /// use tapegrad_autograd::Tape;
    /// use tapegrad_net::optim::Sgd;
    /// use tapegrad_net::{Init, Mlp};
    ///
    /// let mut net = Mlp::<f64>::new(&[2, 8, 2], Init { std: 0.1, seed: 0 })?;
    /// let (x, y) = (array![[1.0, 0.0], [0.0, 1.0]], [0, 1]);
    /// let mut tape = Tape::new();
    /// let (before, g) = net.loss_and_gradients(&mut tape, x.clone(), &y, 0.0)?;
    /// net.update(&mut Sgd::default(), &g, 0.5)?;
    /// let (after, _) = net.loss_and_gradients(&mut tape, x, &y, 0.0)?;
    /// assert!(after < before);
    /// # Ok::<(), tapegrad_net::NetError>(())
    /// ```
    pub fn update(
        &mut self,
        optimizer: &mut (impl Optimizer<T> + ?Sized),
        grads: &ParameterGradients<T>,
        lr: f64,
    ) -> std::result::Result<(), OptimError> {
        self.update_from(optimizer, grads.as_slice(), lr)
    }

    /// [`update`](Mlp::update) from gradients in a plain list.
    pub(crate) fn update_from(
        &mut self,
        optimizer: &mut (impl Optimizer<T> + ?Sized),
        grads: &[ArrayD<T>],
        lr: f64,
    ) -> std::result::Result<(), OptimError> {
        self.update_with(
            optimizer,
            grads.len(),
            |k| GradientRef::Values(grads[k].view()),
            lr,
        )
    }

    /// One step of `optimizer` from `count` gradients, the `k`-th being `grad(k)`.
    pub(crate) fn update_with<'g>(
        &mut self,
        optimizer: &mut (impl Optimizer<T> + ?Sized),
        count: usize,
        grad: impl Fn(usize) -> GradientRef<'g, T>,
        lr: f64,
    ) -> std::result::Result<(), OptimError> {
        if count != 2 * self.layers.len() {
            return Err(OptimError::GradientCount {
                expected: 2 * self.layers.len(),
                found: count,
            });
        }
        optimizer.begin_step();
        for (l, layer) in self.layers.iter_mut().enumerate() {
            layer.update(optimizer, 2 * l, [grad(2 * l), grad(2 * l + 1)], lr)?;
        }
        Ok(())
    }

    /// Records the loss on `tape`, one line per formula ([`loss`](crate::loss)) with the net's
    /// activation and `objective` (a plain `λ`, or an [`Objective`] with dropout), with the
    /// parameters recorded in order under their names.
    ///
    /// `x` is moved or shared onto the tape (an owned array or an `Arc` of one), never copied.
    pub fn record<'t>(
        &self,
        tape: &'t Tape<T>,
        x: impl Into<Leaf<T>>,
        y: &[usize],
        objective: impl Into<Objective<T>>,
    ) -> Result<Recorded<'t, T>> {
        let x = tape.constant_named("X", x);
        let dims = x.with_value(|v| match *v.shape() {
            [n, d] => Some((n, d)),
            _ => None,
        });
        let Some((n, d)) = dims else {
            let (op, shape) = ("Mlp::record", x.shape());
            let e = tapegrad_autograd::Error::WrongRank {
                op,
                expected: 2,
                shape,
            };
            return Err(e.into());
        };
        self.check(d, n, y)?;
        let params = self.layers.iter().enumerate().map(|(l, layer)| {
            layer.record_parameters(tape, parameter_name(2 * l), parameter_name(2 * l + 1))
        });
        let (loss, scores) = loss(x, params, self.activation, y, objective)?;
        Ok(Recorded { loss, scores })
    }

    /// The loss and its gradients through the tape, for `objective` (a plain `λ`, or an
    /// [`Objective`] with dropout). `tape` is cleared before and after, so its
    /// buffers are reused from call to call.
    ///
    /// ```
    /// use ndarray::array;
    /// use tapegrad_autograd::Tape;
    /// use tapegrad_net::{Init, Mlp};
    ///
    /// let net = Mlp::<f64>::new(&[2, 4, 3], Init::default())?;
    /// let mut tape = Tape::new();
    /// let (loss, grads) = net.loss_and_gradients(&mut tape, array![[1.0, 2.0]], &[1], 1e-3)?;
    /// assert!((loss - 3f64.ln()).abs() < 1e-3); // small weights: L ≈ ln c
    /// assert_eq!(grads.weight(0).dim(), (2, 4));
    /// # Ok::<(), tapegrad_net::NetError>(())
    /// ```
    pub fn loss_and_gradients(
        &self,
        tape: &mut Tape<T>,
        x: impl Into<Leaf<T>>,
        y: &[usize],
        objective: impl Into<Objective<T>>,
    ) -> Result<(T, ParameterGradients<T>)> {
        let mut grads = Vec::with_capacity(2 * self.layers.len());
        let loss = self.step_gradients_into(tape, x, y, objective.into(), &mut grads, None)?;
        let grads = grads.into_iter().map(|g| match g {
            StepGradient::Values(g) => g,
            StepGradient::Product(_) => unreachable!("products are only kept when asked for"),
        });
        Ok((loss, ParameterGradients::from_vec(grads.collect())))
    }
}

/// Checks layer sizes before anything is allocated: 2 to `MAX_LAYERS + 1` sizes, each at least
/// 1, and every weight matrix addressable.
fn check_sizes<T>(sizes: &[usize]) -> Result<()> {
    let bad = |what: String| Err(NetError::Parameters(what));
    if sizes.len() < 2 || sizes.len() > MAX_LAYERS + 1 {
        return bad(format!(
            "sizes {sizes:?}: a net needs inputs, classes and at most {} hidden layers",
            MAX_LAYERS - 1
        ));
    }
    if sizes.contains(&0) {
        return bad(format!("sizes {sizes:?}: every size must be at least 1"));
    }
    let most = isize::MAX as usize / std::mem::size_of::<T>().max(1);
    for io in sizes.windows(2) {
        if io[0].checked_mul(io[1]).is_none_or(|n| n > most) {
            return bad(format!(
                "a {}x{} weight matrix is too large to address",
                io[0], io[1]
            ));
        }
    }
    Ok(())
}
