//! Recording user-defined ops ([`CustomOp`]) through the same path as the built-in ones, with
//! the same pooled buffers.

use std::any::Any;

use ndarray::{ArrayViewD, Dimension};

use crate::op::Op;
use crate::{CustomOp, Element, Error, Result, Tape, Var};

/// Inputs up to this many are handed to a custom op from the stack; more cost an allocation.
pub(crate) const STACK_INPUTS: usize = 4;

impl<'t, T: Element> Var<'t, T> {
    /// Records a user-defined op with `self` as the first input and `rest` after it (see
    /// [`CustomOp`]); the same as `tape.custom(op, &[self, rest...])`.
    pub fn custom(self, op: impl CustomOp<T>, rest: &[Var<'t, T>]) -> Result<Var<'t, T>> {
        let tape = self.tape;
        if rest.len() < STACK_INPUTS {
            let mut inputs = [self; STACK_INPUTS];
            inputs[1..=rest.len()].copy_from_slice(rest);
            tape.custom(op, &inputs[..=rest.len()])
        } else {
            let inputs: Vec<_> = std::iter::once(self).chain(rest.iter().copied()).collect();
            tape.custom(op, &inputs)
        }
    }
}

impl<T: Element> Tape<T> {
    /// Records a user-defined op on `inputs` (see [`CustomOp`]). Its output is a buffer of the
    /// tape's pool, and the op's box is reused from an earlier recording of the same type, so
    /// a steady training loop with custom ops of up to four inputs allocates nothing here.
    pub fn custom<'t, C: CustomOp<T>>(
        &'t self,
        op: C,
        inputs: &[Var<'t, T>],
    ) -> Result<Var<'t, T>> {
        if inputs.iter().any(|v| v.tape.id != self.id) {
            return Err(Error::ForeignVariable { op: "custom op" });
        }
        self.record(|r| {
            let start = r.inputs.len();
            r.inputs.extend(inputs.iter().map(|v| v.index));
            let indices = start..r.inputs.len();
            let nodes = r.nodes();
            let value = |i: usize| nodes[i].value.view();
            let output = with_views(&r.inputs[indices.clone()], value, |views| {
                let shape = op.output_shape(views)?;
                let mut output = r.pool.zeros(shape.slice());
                op.forward(views, output.view_mut())?;
                Ok(output)
            });
            let output = match output {
                Ok(output) => output,
                Err(e) => {
                    r.inputs.truncate(start);
                    return Err(e);
                }
            };
            let op = Op::Custom {
                op: r.spare_ops.boxed(op),
                inputs: indices,
            };
            Ok((op, output))
        })
    }
}

/// Calls `f` with the values of nodes `indices` as a slice of views, built on the stack for up
/// to [`STACK_INPUTS`] of them.
pub(crate) fn with_views<'a, T: Element, R>(
    indices: &[usize],
    value: impl Fn(usize) -> ArrayViewD<'a, T>,
    f: impl FnOnce(&[ArrayViewD<'a, T>]) -> R,
) -> R {
    match indices.len() {
        0 => f(&[]),
        n if n <= STACK_INPUTS => {
            // Entries past the last input repeat it: views are cheap, and never read.
            let views: [ArrayViewD<'a, T>; STACK_INPUTS] =
                std::array::from_fn(|k| value(indices[k.min(n - 1)]));
            f(&views[..n])
        }
        _ => f(&indices.iter().map(|&i| value(i)).collect::<Vec<_>>()),
    }
}

/// Boxes of custom ops of erased recordings. Recording a custom op moves it into a box of the
/// same type from here when there is one, so an op with fields (a Huber loss's `delta`, say)
/// costs no allocation in a steady loop.
pub(crate) struct SpareOps<T: Element> {
    boxes: Vec<Box<dyn CustomOp<T>>>,
}

impl<T: Element> Default for SpareOps<T> {
    fn default() -> Self {
        SpareOps { boxes: Vec::new() }
    }
}

impl<T: Element> SpareOps<T> {
    /// `op` in a box: a spare one of its type, else a new one.
    pub fn boxed<C: CustomOp<T>>(&mut self, op: C) -> Box<dyn CustomOp<T>> {
        let spare = self
            .boxes
            .iter()
            .position(|b| (b.as_ref() as &dyn Any).is::<C>());
        match spare {
            Some(k) => {
                let spare: Box<dyn Any> = self.boxes.swap_remove(k);
                let mut spare = spare.downcast::<C>().expect("the type was checked");
                *spare = op;
                spare
            }
            None => Box::new(op),
        }
    }

    /// Keeps a box for a later [`boxed`](SpareOps::boxed).
    pub fn give(&mut self, op: Box<dyn CustomOp<T>>) {
        self.boxes.push(op);
    }
}
