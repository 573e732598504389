//! `Var`: a cheap handle to a value recorded on a tape.

use std::fmt;

use ndarray::{ArrayD, ArrayViewD, Zip};

use crate::op::Op;
use crate::tape::Inner;
use crate::{Element, Error, Result, Tape};

/// A handle to one recorded value: a tape reference and an index, `Copy` and two words wide.
///
/// Ops are methods (`x.matmul(w)?.relu()`); each computes its value at once, records itself on
/// the tape and returns the new handle. Ops that can fail on shapes return [`Result`].
pub struct Var<'t, T: Element> {
    pub(crate) tape: &'t Tape<T>,
    pub(crate) index: usize,
}

impl<T: Element> Clone for Var<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Element> Copy for Var<'_, T> {}

impl<T: Element> fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.tape.borrow();
        let node = &inner.nodes[self.index];
        write!(
            f,
            "Var #{} ({}, shape {:?}{})",
            self.index,
            node.op.name(),
            node.value.view().shape(),
            if node.requires_grad {
                ", requires grad"
            } else {
                ""
            }
        )
    }
}

impl<'t, T: Element> Var<'t, T> {
    pub(crate) fn new(tape: &'t Tape<T>, index: usize) -> Self {
        Var { tape, index }
    }

    /// The variable's position on its tape (its recording order).
    pub fn index(self) -> usize {
        self.index
    }

    /// The tape this variable lives on.
    pub fn tape(self) -> &'t Tape<T> {
        self.tape
    }

    /// The shape of the value.
    pub fn shape(self) -> Vec<usize> {
        self.tape.borrow().nodes[self.index]
            .value
            .view()
            .shape()
            .to_vec()
    }

    /// A copy of the value.
    pub fn value(self) -> ArrayD<T> {
        self.tape.borrow().nodes[self.index].value.view().to_owned()
    }

    /// Calls `f` with a view of the value, without copying it.
    pub fn with_value<R>(self, f: impl FnOnce(ArrayViewD<'_, T>) -> R) -> R {
        f(self.tape.borrow().nodes[self.index].value.view())
    }

    /// The value of a one-element tensor (a loss, say); the first element otherwise.
    pub fn item(self) -> T {
        self.with_value(|v| v.iter().next().copied().unwrap_or_else(T::zero))
    }

    /// Whether gradients flow through this variable (it is a parameter or depends on one).
    pub fn requires_grad(self) -> bool {
        self.tape.borrow().nodes[self.index].requires_grad
    }

    /// Fails with [`Error::ForeignVariable`] unless `other` is on the same tape.
    pub(crate) fn same_tape(self, other: Var<'_, T>, op: &'static str) -> Result<()> {
        if self.tape.id == other.tape.id {
            Ok(())
        } else {
            Err(Error::ForeignVariable { op })
        }
    }

    /// Records an op whose value is computed from the tape's current contents by `compute`,
    /// which gets the recorded nodes' values and a buffer pool.
    pub(crate) fn record(
        self,
        op: Op<T>,
        compute: impl FnOnce(&mut Inner<T>) -> Result<ArrayD<T>>,
    ) -> Result<Var<'t, T>> {
        let value = compute(&mut self.tape.inner.borrow_mut())?;
        Ok(self.tape.push(op, value))
    }

    /// Records an elementwise op `y = f(x)`.
    pub(crate) fn map(self, op: Op<T>, f: impl Fn(T) -> T) -> Var<'t, T> {
        let value = {
            let mut inner = self.tape.inner.borrow_mut();
            let Inner { nodes, pool, .. } = &mut *inner;
            let x = nodes[self.index].value.view();
            let mut out = pool.dirty(x.shape());
            Zip::from(&mut out).and(&x).for_each(|o, &x| *o = f(x));
            out
        };
        self.tape.push(op, value)
    }
}
