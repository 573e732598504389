//! The tape: an append-only record of ops and their values, and the one path that records an
//! op.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{Array, ArrayD, ArrayViewD, Dimension};

use crate::leaf::{LeafValue, Value};
use crate::op::Op;
use crate::ops::custom::SpareOps;
use crate::pool::Pool;
use crate::{Element, Gradients, Leaf, Var};

/// One recorded node: the op that made it, its value, and whether gradients flow through it.
pub(crate) struct Node<T: Element> {
    pub op: Op<T>,
    pub value: Value<T>,
    pub requires_grad: bool,
}

/// Everything behind the tape's `RefCell`.
pub(crate) struct Inner<T: Element> {
    pub nodes: Vec<Node<T>>,
    pub pool: Pool<T>,
    /// Labels of every `pick` on the tape, back to back.
    pub labels: Vec<usize>,
    /// Inputs of every custom op on the tape, back to back.
    pub inputs: Vec<usize>,
    /// Boxes of custom ops of erased recordings, for the next ones of the same type.
    pub spare_ops: SpareOps<T>,
    /// Gradient slots, kept between backward passes to avoid reallocating.
    pub spare_slots: Vec<Option<ArrayD<T>>>,
}

/// What an op's forward computation may use while it is recorded: the values recorded so far,
/// the buffer pool and the tape's arenas.
pub(crate) struct Recorder<'a, T: Element> {
    nodes: &'a [Node<T>],
    pub pool: &'a mut Pool<T>,
    pub labels: &'a mut Vec<usize>,
    pub inputs: &'a mut Vec<usize>,
    pub spare_ops: &'a mut SpareOps<T>,
}

impl<'a, T: Element> Recorder<'a, T> {
    /// The value of node `i`.
    pub fn value(&self, i: usize) -> ArrayViewD<'a, T> {
        self.nodes[i].value.view()
    }

    /// The nodes recorded so far.
    pub fn nodes(&self) -> &'a [Node<T>] {
        self.nodes
    }
}

static NEXT_TAPE_ID: AtomicUsize = AtomicUsize::new(0);

/// A tape that records tensor ops as they run and walks them backwards for gradients.
///
/// Create leaves with [`param`](Tape::param) (gradients wanted) and
/// [`constant`](Tape::constant) (inputs, never differentiated), compute with the methods of
/// [`Var`], then call [`Var::backward`] on a scalar. [`clear`](Tape::clear) empties the tape for
/// the next step and keeps its buffers.
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::Tape;
///
/// let tape = Tape::<f64>::new();
/// let x = tape.param(array![1.0, -2.0, 3.0]);
/// let y = x.square().sum(); // y = Σ x²
/// let grads = y.backward()?;
/// assert_eq!(grads[x], array![2.0, -4.0, 6.0].into_dyn()); // dy/dx = 2x
/// # Ok::<(), tapegrad_autograd::Error>(())
/// ```
pub struct Tape<T: Element> {
    pub(crate) id: usize,
    /// Bumped by every [`clear`](Tape::clear), so gradients of an erased recording can tell.
    pub(crate) generation: Cell<u64>,
    pub(crate) inner: RefCell<Inner<T>>,
}

impl<T: Element> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Element> Tape<T> {
    /// An empty tape.
    pub fn new() -> Self {
        Tape {
            id: NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed),
            generation: Cell::new(0),
            inner: RefCell::new(Inner {
                nodes: Vec::new(),
                pool: Pool::default(),
                labels: Vec::new(),
                inputs: Vec::new(),
                spare_ops: SpareOps::default(),
                spare_slots: Vec::new(),
            }),
        }
    }

    /// Records a parameter: a leaf whose gradient [`Var::backward`] computes.
    ///
    /// Takes an owned array (moved, not copied) or an `Arc` of one (shared, not copied).
    pub fn param(&self, value: impl Into<Leaf<T>>) -> Var<'_, T> {
        self.leaf(value.into(), true, None)
    }

    /// Records a parameter with a name, which the DOT export shows. A `&'static str` name is
    /// stored without allocating.
    pub fn param_named(
        &self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Leaf<T>>,
    ) -> Var<'_, T> {
        self.leaf(value.into(), true, Some(name.into()))
    }

    /// Records a constant: an input or a label that gradients never flow into.
    pub fn constant(&self, value: impl Into<Leaf<T>>) -> Var<'_, T> {
        self.leaf(value.into(), false, None)
    }

    /// Records a constant with a name, which the DOT export shows. A `&'static str` name is
    /// stored without allocating.
    pub fn constant_named(
        &self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Leaf<T>>,
    ) -> Var<'_, T> {
        self.leaf(value.into(), false, Some(name.into()))
    }

    fn leaf(&self, value: Leaf<T>, param: bool, name: Option<Cow<'static, str>>) -> Var<'_, T> {
        let mut inner = self.inner.borrow_mut();
        let value = match value.0 {
            LeafValue::Owned(a) => Value::Owned(inner.pool.share(a)),
            LeafValue::Shared(a) => Value::Shared(a),
        };
        inner.nodes.push(Node {
            op: Op::Leaf { param, name },
            value,
            requires_grad: param,
        });
        Var::new(self, inner.nodes.len() - 1)
    }

    /// Records an op: `forward` computes its value from the recorded values (into a buffer of
    /// the pool) and returns it with the op. Every op, built-in or custom, is recorded here.
    /// The new node requires a gradient when any of its inputs does.
    pub(crate) fn record<E>(
        &self,
        forward: impl FnOnce(&mut Recorder<'_, T>) -> Result<(Op<T>, ArrayD<T>), E>,
    ) -> Result<Var<'_, T>, E> {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        let (op, value) = forward(&mut Recorder {
            nodes: &inner.nodes,
            pool: &mut inner.pool,
            labels: &mut inner.labels,
            inputs: &mut inner.inputs,
            spare_ops: &mut inner.spare_ops,
        })?;
        let mut requires_grad = false;
        op.for_each_input(&inner.inputs, |i| {
            requires_grad |= inner.nodes[i].requires_grad
        });
        let value = Value::Owned(inner.pool.share(value));
        inner.nodes.push(Node {
            op,
            value,
            requires_grad,
        });
        Ok(Var::new(self, inner.nodes.len() - 1))
    }

    /// The parameters recorded so far, in recording order (for a model that records its
    /// parameters in its own order, that order): what a training step walks to collect each
    /// parameter's gradient without keeping its own list of variables.
    ///
    /// ```
    /// # use ndarray::array;
    /// # use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param(array![1.0, 2.0]);
    /// let _x = tape.constant(array![3.0, 4.0]);
    /// let b = tape.param(array![0.5]);
    /// let params: Vec<usize> = tape.params().map(|v| v.index()).collect();
    /// assert_eq!(params, [w.index(), b.index()]);
    /// ```
    pub fn params(&self) -> impl Iterator<Item = Var<'_, T>> + '_ {
        (0..self.len())
            .filter(move |&i| matches!(self.borrow().nodes[i].op, Op::Leaf { param: true, .. }))
            .map(move |i| Var::new(self, i))
    }

    /// Number of recorded nodes (leaves and ops).
    pub fn len(&self) -> usize {
        self.inner.borrow().nodes.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every recorded node, keeping the allocations (nodes and tensor buffers) for the
    /// next recording. Taking `&mut self` guarantees no [`Var`] of the old recording survives.
    pub fn clear(&mut self) {
        self.generation.set(self.generation.get() + 1);
        let inner = self.inner.get_mut();
        for node in inner.nodes.drain(..) {
            if let Value::Owned(a) = node.value {
                inner.pool.give_shared(a);
            }
            if let Op::Custom { op, .. } = node.op {
                inner.spare_ops.give(op);
            }
        }
        inner.labels.clear();
        inner.inputs.clear();
    }

    /// A buffer of `shape` from the tape's pool, with unspecified contents: fill it and record
    /// it as a leaf (a training batch, say), and a steady loop allocates nothing for it.
    ///
    /// ```
    /// # use tapegrad_autograd::Tape;
    /// let mut tape = Tape::<f32>::new();
    /// let mut batch = tape.take_buffer(&[2, 3]);
    /// batch.fill(1.0);
    /// let x = tape.constant(batch);
    /// assert_eq!(x.sum().item()?, 6.0);
    /// tape.clear(); // the buffer goes back to the pool for the next take_buffer
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn take_buffer(&self, shape: &[usize]) -> ArrayD<T> {
        self.inner.borrow_mut().pool.dirty(shape)
    }

    /// Gives an array's buffer to the tape's pool for later ops (or [`take_buffer`](Tape::take_buffer)) to reuse.
    pub fn give_buffer<D: Dimension>(&self, array: Array<T, D>) {
        self.inner.borrow_mut().pool.give(array.into_dyn());
    }

    /// Takes back the buffers of gradients that are no longer needed, so the next backward pass
    /// reuses them instead of allocating.
    pub fn recycle(&self, grads: Gradients<T>) {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        let mut slots = grads.into_slots();
        for g in slots.iter_mut().filter_map(Option::take) {
            inner.pool.give(g);
        }
        if slots.capacity() > inner.spare_slots.capacity() {
            inner.spare_slots = slots;
        }
    }

    /// Takes back the buffers of the [`ProductGradient`](crate::ProductGradient)s in
    /// `products` (emptying it) once they are used, so the next backward pass reuses them.
    pub fn recycle_products(&self, products: &mut Vec<crate::ProductGradient<T>>) {
        let mut inner = self.inner.borrow_mut();
        for p in products.drain(..) {
            let (x, g) = p.into_parts();
            inner.pool.give(g);
            if let Value::Owned(x) = x {
                inner.pool.give_shared(x);
            }
        }
    }

    /// Read access to the recording.
    pub(crate) fn borrow(&self) -> Ref<'_, Inner<T>> {
        self.inner.borrow()
    }
}
