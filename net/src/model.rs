//! `TwoLayerNet`: the document's net, its loss recorded on the tape, and inference.

use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayD, ArrayView2, Axis, Ix1, Ix2};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use tapegrad_autograd::{Element, Leaf, Tape, Var};

use crate::optim::{update_parameter, OptimError, Optimizer};
use crate::{NetError, Result};

/// The two-layer net of the document: `X → XW1 + b1 → relu → ·W2 + b2 → softmax`.
///
/// Parameters are `Arc`-shared arrays so the tape records them without copying; after
/// [`Tape::clear`] the net holds the only reference again and updates them in place
/// (`Arc::make_mut` does not copy then).
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLayerNet<T: Element> {
    /// First-layer weights, `d x h`.
    pub w1: Arc<Array2<T>>,
    /// First-layer bias, `h`.
    pub b1: Arc<Array1<T>>,
    /// Second-layer weights, `h x c`.
    pub w2: Arc<Array2<T>>,
    /// Second-layer bias, `c`.
    pub b2: Arc<Array1<T>>,
}

/// The four gradients of the loss, shaped like the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients<T> {
    /// dL/dW1, `d x h`.
    pub w1: Array2<T>,
    /// dL/db1, `h`.
    pub b1: Array1<T>,
    /// dL/dW2, `h x c`.
    pub w2: Array2<T>,
    /// dL/db2, `c`.
    pub b2: Array1<T>,
}

impl Gradients<f64> {
    /// The largest [`relative_error`](tapegrad_autograd::relative_error) over the four
    /// gradients: how far two ways of computing them disagree.
    pub fn relative_error(&self, other: &Gradients<f64>) -> f64 {
        use tapegrad_autograd::relative_error as rel;
        rel(&self.w1, &other.w1)
            .max(rel(&self.b1, &other.b1))
            .max(rel(&self.w2, &other.w2))
            .max(rel(&self.b2, &other.b2))
    }
}

/// The net's forward pass as recorded on a tape: the loss and the parameter variables.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'t, T: Element> {
    /// The loss `L`, a 0-D tensor.
    pub loss: Var<'t, T>,
    /// The scores `z2`, `n x c`.
    pub scores: Var<'t, T>,
    /// W1 on the tape.
    pub w1: Var<'t, T>,
    /// b1 on the tape.
    pub b1: Var<'t, T>,
    /// W2 on the tape.
    pub w2: Var<'t, T>,
    /// b2 on the tape.
    pub b2: Var<'t, T>,
}

impl<T: Element> TwoLayerNet<T> {
    /// A net with `d` inputs, `h` hidden units and `c` classes: `W = std · N(0, 1)` (W1 then W2,
    /// row-major, from one generator seeded with `seed`), `b = 0`. The classic setting is
    /// `std = 1e-4`.
    ///
    /// ```
    /// use tapegrad_net::TwoLayerNet;
    /// let net = TwoLayerNet::<f64>::new(4, 5, 3, 1e-4, 0);
    /// assert_eq!(net.dims(), (4, 5, 3));
    /// assert_eq!(net, TwoLayerNet::new(4, 5, 3, 1e-4, 0)); // same seed, same net
    /// ```
    pub fn new(d: usize, h: usize, c: usize, std: f64, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut normal = |shape: (usize, usize)| {
            Array2::from_shape_simple_fn(shape, || {
                let z: f64 = StandardNormal.sample(&mut rng);
                T::cast(std * z)
            })
        };
        let w1 = normal((d, h));
        let w2 = normal((h, c));
        TwoLayerNet {
            w1: Arc::new(w1),
            b1: Arc::new(Array1::zeros(h)),
            w2: Arc::new(w2),
            b2: Arc::new(Array1::zeros(c)),
        }
    }

    /// A net from given parameters, checking that their shapes fit together.
    pub fn from_parameters(
        w1: Array2<T>,
        b1: Array1<T>,
        w2: Array2<T>,
        b2: Array1<T>,
    ) -> Result<Self> {
        let (d, h) = w1.dim();
        if b1.len() != h || w2.nrows() != h || b2.len() != w2.ncols() {
            return Err(NetError::Parameters(format!(
                "W1 is {d}x{h}, b1 has {}, W2 is {}x{}, b2 has {}; expected b1: {h}, W2: {h}xc, b2: c",
                b1.len(),
                w2.nrows(),
                w2.ncols(),
                b2.len()
            )));
        }
        Ok(TwoLayerNet {
            w1: Arc::new(w1),
            b1: Arc::new(b1),
            w2: Arc::new(w2),
            b2: Arc::new(b2),
        })
    }

    /// Applies one step of `optimizer` with learning rate `lr` to the parameters, in the order
    /// W1, b1, W2, b2. The net should hold the only reference to its parameters (clear the
    /// tape first); otherwise they are copied before being changed.
    ///
    /// ```
    /// use ndarray::array;
    /// use tapegrad_autograd::Tape;
    /// use tapegrad_net::optim::Sgd;
    /// use tapegrad_net::TwoLayerNet;
    ///
    /// let mut net = TwoLayerNet::<f64>::new(2, 8, 2, 0.1, 0);
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
        grads: &Gradients<T>,
        lr: f64,
    ) -> std::result::Result<(), OptimError> {
        optimizer.begin_step();
        update_parameter(optimizer, 0, &mut self.w1, &grads.w1, lr)?;
        update_parameter(optimizer, 1, &mut self.b1, &grads.b1, lr)?;
        update_parameter(optimizer, 2, &mut self.w2, &grads.w2, lr)?;
        update_parameter(optimizer, 3, &mut self.b2, &grads.b2, lr)
    }

    /// The parameters' element counts in the order W1, b1, W2, b2 (for
    /// [`Optimizer::load_state`]).
    pub fn parameter_sizes(&self) -> [usize; 4] {
        [self.w1.len(), self.b1.len(), self.w2.len(), self.b2.len()]
    }

    /// `(d, h, c)`: inputs, hidden units, classes.
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.w1.nrows(), self.w1.ncols(), self.w2.ncols())
    }

    /// Records the document's loss on `tape`, one line per formula:
    ///
    /// `z1 = X W1 + b1`, `a1 = relu(z1)`, `z2 = a1 W2 + b2`, `p = softmax(z2)`,
    /// `L = (1/n) Σ_i -ln p_{y_i} + λ (Σ W1² + Σ W2²)`.
    ///
    /// `x` is moved or shared onto the tape (an owned array or an `Arc` of one), never copied.
    pub fn record<'t>(
        &self,
        tape: &'t Tape<T>,
        x: impl Into<Leaf<T>>,
        y: &[usize],
        reg: T,
    ) -> Result<Recorded<'t, T>> {
        let x = tape.constant_named("X", x);
        let dims = x.with_value(|v| match *v.shape() {
            [n, d] => Some((n, d)),
            _ => None,
        });
        let Some((n, d)) = dims else {
            let (op, shape) = ("TwoLayerNet::record", x.shape());
            return Err(tapegrad_autograd::Error::WrongRank {
                op,
                expected: 2,
                shape,
            }
            .into());
        };
        self.check(d, n, y)?;
        let w1 = tape.param_named("W1", Arc::clone(&self.w1));
        let b1 = tape.param_named("b1", Arc::clone(&self.b1));
        let w2 = tape.param_named("W2", Arc::clone(&self.w2));
        let b2 = tape.param_named("b2", Arc::clone(&self.b2));

        let (loss, scores) = loss(x, [w1, b1, w2, b2], y, reg)?;
        Ok(Recorded {
            loss,
            scores,
            w1,
            b1,
            w2,
            b2,
        })
    }

    /// The loss and its gradients through the tape. `tape` is cleared before and after, so its
    /// buffers are reused from call to call.
    ///
    /// ```
    /// use ndarray::array;
    /// use tapegrad_autograd::Tape;
    /// use tapegrad_net::TwoLayerNet;
    ///
    /// let net = TwoLayerNet::<f64>::new(2, 4, 3, 1e-4, 0);
    /// let mut tape = Tape::new();
    /// let (loss, grads) = net.loss_and_gradients(&mut tape, array![[1.0, 2.0]], &[1], 1e-3)?;
    /// assert!((loss - 3f64.ln()).abs() < 1e-3); // small weights: L ≈ ln c
    /// assert_eq!(grads.w1.dim(), (2, 4));
    /// # Ok::<(), tapegrad_net::NetError>(())
    /// ```
    pub fn loss_and_gradients(
        &self,
        tape: &mut Tape<T>,
        x: impl Into<Leaf<T>>,
        y: &[usize],
        reg: T,
    ) -> Result<(T, Gradients<T>)> {
        tape.clear();
        let out = {
            let rec = self.record(tape, x, y, reg)?;
            let mut g = rec.loss.backward()?;
            let mut take = |v: Var<'_, T>| g.take(v).unwrap_or_else(|| ArrayD::zeros(v.shape()));
            let grads = Gradients {
                w1: into2(take(rec.w1)),
                b1: into1(take(rec.b1)),
                w2: into2(take(rec.w2)),
                b2: into1(take(rec.b2)),
            };
            tape.recycle(g);
            (rec.loss.item()?, grads)
        };
        tape.clear();
        Ok(out)
    }

    /// The class scores `z2 = relu(X W1 + b1) W2 + b2`, computed directly (no tape).
    pub fn scores(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        self.check(x.ncols(), x.nrows(), &[])?;
        let mut a1 = x.dot(&*self.w1) + &*self.b1;
        a1.mapv_inplace(|v| if v > T::zero() { v } else { T::zero() });
        Ok(a1.dot(&*self.w2) + &*self.b2)
    }

    /// The most likely class of each example (the first one on ties).
    pub fn predict(&self, x: ArrayView2<'_, T>) -> Result<Vec<usize>> {
        let scores = self.scores(x)?;
        Ok(scores
            .axis_iter(Axis(0))
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, T::neg_infinity()), |best, (k, &v)| {
                        if v > best.1 {
                            (k, v)
                        } else {
                            best
                        }
                    })
                    .0
            })
            .collect())
    }

    /// The fraction of examples whose predicted class is their label (0 for no examples).
    pub fn accuracy(&self, x: ArrayView2<'_, T>, y: &[usize]) -> Result<f64> {
        self.check(x.ncols(), x.nrows(), y)?;
        let predicted = self.predict(x)?;
        let right = predicted.iter().zip(y).filter(|(p, y)| p == y).count();
        Ok(if y.is_empty() {
            0.0
        } else {
            right as f64 / y.len() as f64
        })
    }

    /// Checks a training batch without computing anything: `x.ncols()` features, exactly one
    /// label per row of `x`, every label one of the model's classes.
    pub(crate) fn check_batch(&self, x: ArrayView2<'_, T>, y: &[usize]) -> Result<()> {
        if y.len() != x.nrows() {
            return Err(NetError::LabelCount {
                examples: x.nrows(),
                labels: y.len(),
            });
        }
        self.check(x.ncols(), x.nrows(), y)
    }

    /// Checks that `d` features, `n` examples and labels `y` (unless empty) fit the model.
    fn check(&self, d: usize, n: usize, y: &[usize]) -> Result<()> {
        let (d_model, _, c) = self.dims();
        if d != d_model {
            return Err(NetError::InputSize {
                expected: d_model,
                found: d,
            });
        }
        if !y.is_empty() && y.len() != n {
            return Err(NetError::LabelCount {
                examples: n,
                labels: y.len(),
            });
        }
        if let Some((index, &label)) = y.iter().enumerate().find(|(_, &l)| l >= c) {
            return Err(NetError::Label {
                index,
                label,
                classes: c,
            });
        }
        Ok(())
    }
}

/// The document's loss on tape variables, one line per formula; returns `(L, z2)`.
///
/// `params` are `[W1, b1, W2, b2]`. [`TwoLayerNet::record`] calls this with the net's
/// parameters; it is public so that gradient checks can call it with any variables.
///
/// ```
/// use ndarray::{array, Array1, Array2};
/// use tapegrad_autograd::gradcheck;
///
/// let (w1, w2) = (Array2::from_elem((2, 3), 0.3), Array2::from_elem((3, 2), -0.2));
/// let params = [w1.into_dyn(), Array1::zeros(3).into_dyn(), w2.into_dyn(), Array1::zeros(2).into_dyn()];
/// let report = gradcheck(&params, |tape, p| {
///     let x = tape.constant(array![[1.0, 2.0]]);
///     Ok(tapegrad_net::loss(x, [p[0], p[1], p[2], p[3]], &[1], 0.1)?.0)
/// })?;
/// assert!(report.max_relative_error() < 1e-6);
/// # Ok::<(), tapegrad_autograd::Error>(())
/// ```
pub fn loss<'t, T: Element>(
    x: Var<'t, T>,
    [w1, b1, w2, b2]: [Var<'t, T>; 4],
    y: &[usize],
    reg: T,
) -> tapegrad_autograd::Result<(Var<'t, T>, Var<'t, T>)> {
    let z1 = x.matmul(w1)?.add(b1)?; //                     z1 = X W1 + b1
    let a1 = z1.relu(); //                                    a1 = relu(z1)
    let z2 = a1.matmul(w2)?.add(b2)?; //                    z2 = a1 W2 + b2
    let data = z2.cross_entropy(y)?; //       (1/n) Σ -ln softmax(z2)_{y_i}
    let l2 = w1.sum_squares().add(w2.sum_squares())?; //        ΣW1² + ΣW2²
    let loss = data.add(l2.scale(reg))?; //                  L = data + λ l2
    Ok((loss, z2))
}

/// A tape gradient of a 2-D parameter as a 2-D array (no copy).
fn into2<T>(a: ArrayD<T>) -> Array2<T> {
    a.into_dimensionality::<Ix2>()
        .expect("the gradient has its parameter's shape")
}

/// A tape gradient of a 1-D parameter as a 1-D array (no copy).
fn into1<T>(a: ArrayD<T>) -> Array1<T> {
    a.into_dimensionality::<Ix1>()
        .expect("the gradient has its parameter's shape")
}
