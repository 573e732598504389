//! Walking the tape backwards.

use ndarray::Dimension;

use crate::deferred::Deferred;
use crate::derivatives::{backprop, Arenas};
use crate::gradients::Gradients;
use crate::op::Op;
use crate::sinks::Sinks;
use crate::tape::Inner;
use crate::{Element, Error, Result, Var};

impl<'t, T: Element> Var<'t, T> {
    /// Computes the gradient of this one-element value (a loss) with respect to every parameter
    /// it depends on.
    ///
    /// The walk is a loop over the recorded nodes in reverse order (recording order is a
    /// topological order), so its depth does not grow the stack. Each node's gradient is
    /// complete when the walk reaches it, is pushed into its inputs by the rule in
    /// [`derivatives`](crate::derivatives), and is then freed; only parameters' gradients are
    /// kept. Nodes that do not depend on a parameter are skipped.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![2.0]);
    /// let y = x.mul(x)?.add(x)?.sum(); // y = x² + x: fan-out accumulates
    /// assert_eq!(y.backward()?[x], array![5.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn backward(self) -> Result<Gradients<T>> {
        self.walk(None)
    }

    /// [`backward`](Var::backward), except that a parameter whose gradient ends in a matrix
    /// product (a weight `W` of `X·W`, whose gradient is `Xᵀ·G`, plus `2λW` from an L2 term)
    /// gets no gradient in the result: the product is left unevaluated and pushed onto
    /// `products` as a [`ProductGradient`](crate::ProductGradient), for an optimizer to compute
    /// piece by piece as it updates `W` (so that the gradient is never written to memory).
    /// Products too deep for the kernel to finish in one pass (more than 256 rows of `X` in
    /// f32, 128 in f64) are written out as usual.
    pub fn backward_with_products(
        self,
        products: &mut Vec<crate::ProductGradient<T>>,
    ) -> Result<Gradients<T>> {
        self.walk(Some(products))
    }

    /// The walk, keeping products in `products` when there is one.
    fn walk(self, products: Option<&mut Vec<crate::ProductGradient<T>>>) -> Result<Gradients<T>> {
        let mut inner = self.tape.inner.borrow_mut();
        let Inner {
            nodes,
            pool,
            labels,
            inputs,
            spare_slots,
            ..
        } = &mut *inner;
        let root = &nodes[self.index];
        let shape = root.value.view().raw_dim();
        let len = shape.size();
        if len != 1 {
            let shape = shape.slice().to_vec();
            return Err(Error::NotScalar {
                op: "backward",
                shape,
                len,
            });
        }
        let mut slots = std::mem::take(spare_slots);
        slots.clear();
        slots.resize_with(self.index + 1, || None);
        if root.requires_grad {
            let mut seed = pool.dirty(shape.slice());
            seed.fill(T::one());
            slots[self.index] = Some(seed);
        }
        let arenas = Arenas { labels, inputs };
        let mut deferred = Deferred::new();
        for i in (0..=self.index).rev() {
            let node = &nodes[i];
            if matches!(node.op, Op::Leaf { .. }) {
                continue;
            }
            deferred.settle(i, nodes, &mut slots, pool);
            let (before, rest) = slots.split_at_mut(i);
            let Some(g) = rest[0].take() else { continue };
            let mut sinks = Sinks {
                nodes,
                slots: before,
                pool,
                deferred: &mut deferred,
                keep_products: products.is_some(),
            };
            backprop(node, g, &mut sinks, &arenas)?;
        }
        let tape = (self.tape.id, self.tape.generation.get());
        deferred.settle_all(nodes, &mut slots, pool, products, tape);
        Ok(Gradients::new(self.tape, slots))
    }
}
