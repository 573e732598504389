//! Deferred gradient shares: an input's first share `s · x`, its own value scaled (the sum of
//! squares gives `2g · x`), kept as the pair `(input, s)` until the input's next share. When
//! that is a matrix product, the product writes `s·x + a·b` in one pass over the gradient
//! buffer instead of two: a weight's gradient `dW = 2λW + Xᵀ·dz` reads W and writes dW once.
//! Any other share, or the end of the walk, writes `s · x` first. The result is the same bit
//! for bit as writing it at once.

use ndarray::{ArrayD, Zip};

use crate::tape::Node;
use crate::Element;

/// How many shares may wait at once (one per weight matrix of a net is typical); more are
/// written at once.
const CAPACITY: usize = 4;

/// The inputs whose gradient is `s · value` but not written yet; each has its (unwritten)
/// buffer in its gradient slot already.
pub(crate) struct Deferred<T> {
    entries: [Option<(usize, T)>; CAPACITY],
}

impl<T: Element> Deferred<T> {
    /// Nothing deferred.
    pub fn new() -> Self {
        Deferred {
            entries: [None; CAPACITY],
        }
    }

    /// Defers input `i`'s share `s · value`; false when there is no room (write it now).
    pub fn defer(&mut self, i: usize, s: T) -> bool {
        match self.entries.iter_mut().find(|e| e.is_none()) {
            Some(e) => {
                *e = Some((i, s));
                true
            }
            None => false,
        }
    }

    /// The scale deferred for input `i`, if any, no longer deferred.
    pub fn take(&mut self, i: usize) -> Option<T> {
        let e = self
            .entries
            .iter_mut()
            .find(|e| e.is_some_and(|(j, _)| j == i))?;
        e.take().map(|(_, s)| s)
    }

    /// Writes input `i`'s deferred share, if it has one, into its slot.
    pub fn settle(&mut self, i: usize, nodes: &[Node<T>], slots: &mut [Option<ArrayD<T>>]) {
        if let Some(s) = self.take(i) {
            let dst = slots[i]
                .as_mut()
                .expect("a deferred share has its buffer in the slot");
            Zip::from(dst)
                .and(&nodes[i].value.view())
                .for_each(|d, &x| *d = s * x);
        }
    }

    /// Writes every share still deferred.
    pub fn settle_all(&mut self, nodes: &[Node<T>], slots: &mut [Option<ArrayD<T>>]) {
        for k in 0..CAPACITY {
            if let Some((i, _)) = self.entries[k] {
                self.settle(i, nodes, slots);
            }
        }
    }
}
