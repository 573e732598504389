//! Values on the tape: leaves brought in by the caller (moved or shared, never copied) and the
//! values ops compute.

use std::rc::Rc;
use std::sync::Arc;

use ndarray::{Array, ArrayD, ArrayViewD, Dimension};

use crate::Element;

/// A tensor value held by the tape: computed by an op or moved in (`Owned`), or shared with
/// the caller without a copy (`Shared`). Both are behind a handle, so a reader can keep a
/// value while the tape records more (see [`Var::with_value`](crate::Var::with_value)).
pub(crate) enum Value<T: Element> {
    Owned(Rc<ArrayD<T>>),
    Shared(Arc<dyn SharedArray<T>>),
}

impl<T: Element> Value<T> {
    /// The value as an n-dimensional view.
    pub fn view(&self) -> ArrayViewD<'_, T> {
        match self {
            Value::Owned(a) => a.view(),
            Value::Shared(a) => a.view_dyn(),
        }
    }
}

impl<T: Element> Clone for Value<T> {
    /// Another handle to the same value: a reference count, not a copy.
    fn clone(&self) -> Self {
        match self {
            Value::Owned(a) => Value::Owned(Rc::clone(a)),
            Value::Shared(a) => Value::Shared(Arc::clone(a)),
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
/// assert_eq!(p.sum().item()?, 3.0);
/// # Ok::<(), tapegrad_autograd::Error>(())
/// ```
pub struct Leaf<T: Element>(pub(crate) LeafValue<T>);

/// A leaf's data before the tape takes it.
pub(crate) enum LeafValue<T: Element> {
    Owned(ArrayD<T>),
    Shared(Arc<dyn SharedArray<T>>),
}

impl<T: Element, D: Dimension> From<Array<T, D>> for Leaf<T> {
    fn from(a: Array<T, D>) -> Self {
        Leaf(LeafValue::Owned(a.into_dyn()))
    }
}

impl<T: Element, D: Dimension + 'static> From<Arc<Array<T, D>>> for Leaf<T> {
    fn from(a: Arc<Array<T, D>>) -> Self {
        Leaf(LeafValue::Shared(a))
    }
}

impl<T: Element, D: Dimension + 'static> From<&Arc<Array<T, D>>> for Leaf<T> {
    fn from(a: &Arc<Array<T, D>>) -> Self {
        Leaf(LeafValue::Shared(Arc::clone(a) as Arc<dyn SharedArray<T>>))
    }
}
