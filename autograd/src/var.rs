//! `Var`: a cheap handle to a value recorded on a tape.

use std::fmt;

use ndarray::{ArrayD, ArrayViewD};

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
        self.with_value(|v| v.to_owned())
    }

    /// Calls `f` with a view of the value, without copying it. `f` may record more ops on the
    /// tape, or run backward: the view is of a handle to the value, not of the tape.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.0, 2.0]);
    /// let y = x.with_value(|v| x.scale(v[1]).sum()); // records while reading x
    /// assert_eq!(y.item()?, 6.0);
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn with_value<R>(self, f: impl FnOnce(ArrayViewD<'_, T>) -> R) -> R {
        let value = self.tape.borrow().nodes[self.index].value.clone();
        f(value.view())
    }

    /// The value of a one-element tensor (a loss, say), or [`Error::NotScalar`] for any other.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::{Error, Tape};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.0, 2.0]);
    /// assert_eq!(x.sum().item()?, 3.0);
    /// assert!(matches!(x.item(), Err(Error::NotScalar { op: "item", len: 2, .. })));
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn item(self) -> Result<T> {
        self.with_value(|v| match v.iter().next() {
            Some(&x) if v.len() == 1 => Ok(x),
            _ => Err(Error::NotScalar {
                op: "item",
                shape: v.shape().to_vec(),
                len: v.len(),
            }),
        })
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
}
