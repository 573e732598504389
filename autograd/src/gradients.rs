//! The gradients a backward pass returns, looked up by variable.

use std::fmt;
use std::ops::Index;

use ndarray::{Array, ArrayD, Dimension};

use crate::op::Op;
use crate::{Element, Error, Result, Tape, Var};

/// The gradients of one backward pass, looked up by the parameter they belong to.
///
/// `grads[w]` panics (with the [`Error`] message) where `w` has no gradient;
/// [`get`](Gradients::get) returns an `Option` and [`wrt`](Gradients::wrt) a [`Result`].
/// Give the value back with [`Tape::recycle`](crate::Tape::recycle) in a training loop to
/// reuse its buffers.
pub struct Gradients<T: Element> {
    tape_id: usize,
    /// The tape's generation when backward ran: a later `clear` makes these gradients stale.
    generation: u64,
    slots: Vec<Option<ArrayD<T>>>,
}

impl<T: Element> Gradients<T> {
    /// The gradient of `var`, if it has one: it is a parameter of this tape and the output
    /// depends on it.
    pub fn get(&self, var: Var<'_, T>) -> Option<&ArrayD<T>> {
        if !self.belongs(var) {
            return None;
        }
        self.slots.get(var.index).and_then(Option::as_ref)
    }

    /// The gradient of `var`, or an error that says why it has none.
    pub fn wrt(&self, var: Var<'_, T>) -> Result<&ArrayD<T>> {
        if var.tape.id != self.tape_id {
            return Err(Error::ForeignVariable {
                op: "gradient lookup",
            });
        }
        if var.tape.generation.get() != self.generation {
            return Err(Error::StaleGradients);
        }
        self.get(var).ok_or_else(|| no_gradient(var))
    }

    /// Moves the gradient of `var` out (for example into an optimizer's buffer).
    pub fn take(&mut self, var: Var<'_, T>) -> Option<ArrayD<T>> {
        if !self.belongs(var) {
            return None;
        }
        self.slots.get_mut(var.index).and_then(Option::take)
    }

    /// Moves the gradient of `var` out with the dimensionality `D` of its parameter (`Ix2` for
    /// a matrix, say), or an error that says why there is none or what shape it has.
    ///
    /// ```
    /// # use ndarray::{array, Array2, Ix2};
    /// # use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param(array![[1.0, 2.0]]);
    /// let mut grads = w.square().sum().backward()?;
    /// let dw: Array2<f64> = grads.take_as::<Ix2>(w)?;
    /// assert_eq!(dw, array![[2.0, 4.0]]);
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn take_as<D: Dimension>(&mut self, var: Var<'_, T>) -> Result<Array<T, D>> {
        let ndim = self.wrt(var)?.ndim();
        if D::NDIM.is_some_and(|n| n != ndim) {
            return Err(Error::WrongRank {
                op: "gradient lookup",
                expected: D::NDIM.unwrap_or(ndim),
                shape: self.wrt(var)?.shape().to_vec(),
            });
        }
        let g = self.take(var).expect("wrt found it");
        Ok(g.into_dimensionality::<D>().expect("the rank was checked"))
    }

    /// Whether `var` is of the recording these gradients were computed on.
    fn belongs(&self, var: Var<'_, T>) -> bool {
        var.tape.id == self.tape_id && var.tape.generation.get() == self.generation
    }

    /// The gradients in `slots` (by node index), of `tape`'s current recording.
    pub(crate) fn new(tape: &Tape<T>, slots: Vec<Option<ArrayD<T>>>) -> Self {
        Gradients {
            tape_id: tape.id,
            generation: tape.generation.get(),
            slots,
        }
    }

    pub(crate) fn into_slots(self) -> Vec<Option<ArrayD<T>>> {
        self.slots
    }
}

impl<T: Element> fmt::Debug for Gradients<T> {
    /// The variables that have a gradient, by index, with the gradient's shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (i, g) in self.slots.iter().enumerate() {
            if let Some(g) = g {
                map.entry(&format_args!("#{i}"), &g.shape());
            }
        }
        map.finish()
    }
}

impl<T: Element> Index<Var<'_, T>> for Gradients<T> {
    type Output = ArrayD<T>;

    fn index(&self, var: Var<'_, T>) -> &ArrayD<T> {
        match self.wrt(var) {
            Ok(g) => g,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Why `var` has no gradient.
fn no_gradient<T: Element>(var: Var<'_, T>) -> Error {
    let inner = var.tape.borrow();
    let node = &inner.nodes[var.index];
    let reason = match node.op {
        Op::Leaf { param: false, .. } => "record it with Tape::param to get one",
        Op::Leaf { param: true, .. } => "the output of backward does not depend on it",
        _ => "it is an intermediate value, and backward keeps the gradients of parameters only",
    };
    let what = match &node.op {
        Op::Leaf {
            name: Some(name), ..
        } => format!("{} \"{name}\"", node.op.name()),
        op => op.name().to_owned(),
    };
    Error::NoGradient {
        index: var.index,
        what,
        reason,
    }
}
