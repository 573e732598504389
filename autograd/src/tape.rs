//! The tape: an append-only record of ops and their values.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ndarray::{Array, ArrayD, ArrayViewD, Dimension};

use crate::op::Op;
use crate::pool::Pool;
use crate::{Element, Gradients, Var};

/// A tensor value held by the tape: owned, or shared with the caller without a copy.
pub(crate) enum Value<T: Element> {
    Owned(ArrayD<T>),
    Shared(Arc<dyn SharedArray<T>>),
}

impl<T: Element> Value<T> {
    pub fn view(&self) -> ArrayViewD<'_, T> {
        match self {
            Value::Owned(a) => a.view(),
            Value::Shared(a) => a.view_dyn(),
        }
    }
}

/// An array of any dimensionality that the tape can read through a shared pointer.
///
/// Implemented for every owned ndarray `Array<T, D>`, so an `Arc<Array2<T>>` becomes a tape
/// leaf without copying its data.
pub trait SharedArray<T>: Send + Sync {
    /// The array as an n-dimensional view.
    fn view_dyn(&self) -> ArrayViewD<'_, T>;
}

impl<T: Element, D: Dimension> SharedArray<T> for Array<T, D> {
    fn view_dyn(&self) -> ArrayViewD<'_, T> {
        self.view().into_dyn()
    }
}

/// Data that can become a leaf of the tape: any owned ndarray array (moved in, not copied), or
/// an `Arc` of one or a reference to such an `Arc` (shared, not copied).
///
/// ```
/// # use std::sync::Arc;
/// # use ndarray::array;
/// # use tapegrad_autograd::Tape;
/// let w = Arc::new(array![[1.0, 2.0]]);
/// let tape = Tape::<f64>::new();
/// let p = tape.param(&w); // shared: no copy, `w` stays usable
/// assert_eq!(Arc::strong_count(&w), 2);
/// assert_eq!(p.sum().item(), 3.0);
/// ```
pub struct Leaf<T: Element>(pub(crate) Value<T>);

impl<T: Element, D: Dimension> From<Array<T, D>> for Leaf<T> {
    fn from(a: Array<T, D>) -> Self {
        Leaf(Value::Owned(a.into_dyn()))
    }
}

impl<T: Element, D: Dimension + 'static> From<Arc<Array<T, D>>> for Leaf<T> {
    fn from(a: Arc<Array<T, D>>) -> Self {
        Leaf(Value::Shared(a))
    }
}

impl<T: Element, D: Dimension + 'static> From<&Arc<Array<T, D>>> for Leaf<T> {
    fn from(a: &Arc<Array<T, D>>) -> Self {
        Leaf(Value::Shared(Arc::clone(a) as Arc<dyn SharedArray<T>>))
    }
}

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
    /// Gradient slots, kept between backward passes to avoid reallocating.
    pub spare_slots: Vec<Option<ArrayD<T>>>,
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
        inner.nodes.push(Node {
            op: Op::Leaf { param, name },
            value: value.0,
            requires_grad: param,
        });
        Var::new(self, inner.nodes.len() - 1)
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
                inner.pool.give(a);
            }
        }
        inner.labels.clear();
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
    /// assert_eq!(x.sum().item(), 6.0);
    /// tape.clear(); // the buffer goes back to the pool for the next take_buffer
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

    /// Records a computed value. `requires_grad` is true when any input requires it.
    pub(crate) fn push(&self, op: Op<T>, value: ArrayD<T>) -> Var<'_, T> {
        let mut inner = self.inner.borrow_mut();
        let mut requires_grad = false;
        op.for_each_input(|i| requires_grad |= inner.nodes[i].requires_grad);
        inner.nodes.push(Node {
            op,
            value: Value::Owned(value),
            requires_grad,
        });
        Var::new(self, inner.nodes.len() - 1)
    }

    /// Read access to the recording, for the op implementations.
    pub(crate) fn borrow(&self) -> Ref<'_, Inner<T>> {
        self.inner.borrow()
    }
}
