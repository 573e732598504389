//! Reusable tensor buffers, so that a tape reused across training steps stops allocating.

use std::collections::BTreeMap;
use std::rc::Rc;

use ndarray::{ArrayD, IxDyn};

use crate::Element;

/// Buffers freed by [`Tape::clear`](crate::Tape::clear) and by backward, handed out again to
/// later ops, filed by capacity.
///
/// A steady training loop records the same ops with the same shapes every step, so after the
/// first step every request finds a buffer of exactly its size. A request takes the smallest
/// free buffer that is large enough, in logarithmic time however many buffers are free.
#[derive(Debug)]
pub(crate) struct Pool<T> {
    /// Free buffers by capacity. Emptied lists stay, so a steady loop does not allocate map
    /// nodes either.
    free: BTreeMap<usize, Vec<Vec<T>>>,
    /// Emptied handles of recorded values, so that recording a value allocates no `Rc` either.
    handles: Vec<Rc<ArrayD<T>>>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            free: BTreeMap::new(),
            handles: Vec::new(),
        }
    }
}

impl<T: Element> Pool<T> {
    /// An array of `shape` with unspecified (but initialised) contents: the caller overwrites
    /// every element.
    pub fn dirty(&mut self, shape: &[usize]) -> ArrayD<T> {
        let len = shape.iter().product();
        let mut buf = self.take(len);
        buf.resize(len, T::zero());
        ArrayD::from_shape_vec(IxDyn(shape), buf).expect("buffer length equals the shape's size")
    }

    /// An array of `shape` filled with zeros.
    pub fn zeros(&mut self, shape: &[usize]) -> ArrayD<T> {
        let mut a = self.dirty(shape);
        a.fill(T::zero());
        a
    }

    /// `array` behind a shared handle, as the tape holds recorded values (so that reading one
    /// never holds the tape's borrow), in a reused handle when there is one.
    pub fn share(&mut self, array: ArrayD<T>) -> Rc<ArrayD<T>> {
        match self.handles.pop() {
            Some(mut handle) => {
                *Rc::get_mut(&mut handle).expect("spare handles are not shared") = array;
                handle
            }
            None => Rc::new(array),
        }
    }

    /// Takes back a recorded value: its buffer and, unless someone still holds it, its handle.
    pub fn give_shared(&mut self, mut handle: Rc<ArrayD<T>>) {
        if let Some(array) = Rc::get_mut(&mut handle) {
            let empty = ndarray::Array1::from_vec(Vec::new()).into_dyn(); // allocates nothing
            self.give(std::mem::replace(array, empty));
            self.handles.push(handle);
        }
    }

    /// Returns an array's buffer for reuse.
    pub fn give(&mut self, array: ArrayD<T>) {
        let (buf, _) = array.into_raw_vec_and_offset();
        if buf.capacity() > 0 {
            self.free.entry(buf.capacity()).or_default().push(buf);
        }
    }

    /// The smallest free buffer with room for `len` elements, else a new one. The contents
    /// are left as they were.
    fn take(&mut self, len: usize) -> Vec<T> {
        let found = self.free.range_mut(len..).find_map(|(_, list)| list.pop());
        match found {
            Some(mut buf) => {
                buf.truncate(len);
                buf
            }
            None => Vec::with_capacity(len),
        }
    }
}
