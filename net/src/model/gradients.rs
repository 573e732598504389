//! [`ParameterGradients`]: the gradient of the loss for each of a model's parameters, in the
//! model's parameter order.

use std::borrow::Cow;
use std::ops::Index;

use ndarray::{ArrayD, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Ix1, Ix2};
use tapegrad_autograd::Element;

/// The name of parameter number `k` of an [`Mlp`](crate::Mlp): `W1`, `b1`, `W2`, `b2`, ...
/// (layer `k / 2 + 1`; even numbers are weights, odd ones biases). Names of the first eight
/// layers are static strings, so recording them allocates nothing.
///
/// ```
/// use tapegrad_net::model::parameter_name;
/// assert_eq!(parameter_name(0), "W1");
/// assert_eq!(parameter_name(3), "b2");
/// assert_eq!(parameter_name(20), "W11");
/// ```
pub fn parameter_name(k: usize) -> Cow<'static, str> {
    const NAMES: [&str; 16] = [
        "W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4", "W5", "b5", "W6", "b6", "W7", "b7", "W8",
        "b8",
    ];
    match NAMES.get(k) {
        Some(&name) => Cow::Borrowed(name),
        None => {
            let kind = if k.is_multiple_of(2) { "W" } else { "b" };
            Cow::Owned(format!("{kind}{}", k / 2 + 1))
        }
    }
}

/// dL/dθ for every parameter θ of a model, in the model's order (`W1, b1, W2, b2, ...`, see
/// [`parameter_name`]), each shaped like its parameter.
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::Tape;
/// use tapegrad_net::{Init, Mlp};
///
/// let net = Mlp::<f64>::new(&[2, 4, 3], Init::default())?;
/// let (_, grads) = net.loss_and_gradients(&mut Tape::new(), array![[1.0, 2.0]], &[1], 1e-3)?;
/// assert_eq!(grads.len(), 4);
/// assert_eq!(grads.weight(0).dim(), (2, 4)); // dL/dW1
/// assert_eq!(grads["b2"].shape(), &[3]);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterGradients<T> {
    /// Weights and biases of layer 1, 2, ... in turn: even entries are 2-D, odd ones 1-D.
    grads: Vec<ArrayD<T>>,
}

impl<T: Element> ParameterGradients<T> {
    /// Gradients in parameter order; the caller guarantees weights (even entries) are 2-D and
    /// biases (odd entries) 1-D.
    pub(crate) fn from_vec(grads: Vec<ArrayD<T>>) -> Self {
        debug_assert!(grads.len().is_multiple_of(2));
        debug_assert!(grads.iter().enumerate().all(|(k, g)| g.ndim() == 2 - k % 2));
        ParameterGradients { grads }
    }

    /// Zero gradients for layers of `sizes` (`[d, h1, ..., c]`).
    pub(crate) fn zeros(sizes: &[usize]) -> Self {
        let grads = sizes
            .windows(2)
            .flat_map(|io| {
                [
                    ArrayD::zeros(vec![io[0], io[1]]),
                    ArrayD::zeros(vec![io[1]]),
                ]
            })
            .collect();
        ParameterGradients { grads }
    }

    /// Number of parameters (twice the number of layers).
    pub fn len(&self) -> usize {
        self.grads.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }

    /// dL/dW of layer `l` (from 0).
    ///
    /// # Panics
    /// If there is no layer `l`.
    pub fn weight(&self, l: usize) -> ArrayView2<'_, T> {
        let g = &self.grads[2 * l];
        g.view()
            .into_dimensionality::<Ix2>()
            .expect("weights are 2-D")
    }

    /// dL/db of layer `l` (from 0).
    ///
    /// # Panics
    /// If there is no layer `l`.
    pub fn bias(&self, l: usize) -> ArrayView1<'_, T> {
        let g = &self.grads[2 * l + 1];
        g.view()
            .into_dimensionality::<Ix1>()
            .expect("biases are 1-D")
    }

    /// dL/dW of layer `l`, to write into.
    pub(crate) fn weight_mut(&mut self, l: usize) -> ArrayViewMut2<'_, T> {
        let g = &mut self.grads[2 * l];
        g.view_mut()
            .into_dimensionality::<Ix2>()
            .expect("weights are 2-D")
    }

    /// dL/db of layer `l`, to write into.
    pub(crate) fn bias_mut(&mut self, l: usize) -> ArrayViewMut1<'_, T> {
        let g = &mut self.grads[2 * l + 1];
        g.view_mut()
            .into_dimensionality::<Ix1>()
            .expect("biases are 1-D")
    }

    /// The gradient of the parameter named `name` (`W1`, `b2`, ...), if there is one.
    pub fn get(&self, name: &str) -> Option<&ArrayD<T>> {
        (0..self.grads.len())
            .find(|&k| parameter_name(k) == name)
            .map(|k| &self.grads[k])
    }

    /// `(name, gradient)` in parameter order.
    pub fn iter(&self) -> impl Iterator<Item = (Cow<'static, str>, &ArrayD<T>)> {
        self.grads
            .iter()
            .enumerate()
            .map(|(k, g)| (parameter_name(k), g))
    }

    /// The gradients in parameter order, as a list.
    pub fn into_vec(self) -> Vec<ArrayD<T>> {
        self.grads
    }

    /// The gradients in parameter order.
    pub fn as_slice(&self) -> &[ArrayD<T>] {
        &self.grads
    }
}

impl ParameterGradients<f64> {
    /// The largest [`relative_error`](tapegrad_autograd::relative_error) over the parameters:
    /// how far two ways of computing the gradients disagree (infinite if they are for models
    /// of different shapes).
    pub fn relative_error(&self, other: &ParameterGradients<f64>) -> f64 {
        let same_shapes = self.grads.len() == other.grads.len()
            && self
                .grads
                .iter()
                .zip(&other.grads)
                .all(|(a, b)| a.shape() == b.shape());
        if !same_shapes {
            return f64::INFINITY;
        }
        self.grads
            .iter()
            .zip(&other.grads)
            .map(|(a, b)| tapegrad_autograd::relative_error(a, b))
            .fold(0.0, f64::max)
    }
}

impl<T: Element> Index<usize> for ParameterGradients<T> {
    type Output = ArrayD<T>;

    /// The gradient of parameter number `k`.
    fn index(&self, k: usize) -> &ArrayD<T> {
        &self.grads[k]
    }
}

impl<T: Element> Index<&str> for ParameterGradients<T> {
    type Output = ArrayD<T>;

    /// The gradient of the parameter named `name`.
    ///
    /// # Panics
    /// If the model has no parameter of that name ([`get`](ParameterGradients::get) does not
    /// panic).
    fn index(&self, name: &str) -> &ArrayD<T> {
        self.get(name)
            .unwrap_or_else(|| panic!("no parameter named {name}"))
    }
}
