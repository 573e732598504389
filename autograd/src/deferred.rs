//! Deferred gradient shares, written only when something needs them.
//!
//! - A scaled share: an input's first share `s · x`, its own value scaled (the sum of squares
//!   gives `2g · x`), kept as `(input, s)` until the input's next share. When that is a matrix
//!   product, the product writes `s·x + a·b` in one pass over the gradient buffer instead of
//!   two: a weight's gradient `dW = 2λW + Xᵀ·dz` reads W and writes dW once.
//! - A product share (only in [`Var::backward_with_products`](crate::Var::backward_with_products)):
//!   a parameter's last share `Xᵀ·G` (plus a scaled share before it), kept unevaluated with `X`'s
//!   value and the buffer of `G` so that an optimizer can compute it tile by tile as it updates
//!   the parameter ([`ProductGradient`]): the gradient is then never written out.
//!
//! Any other share for the same input, or the end of the walk, writes the deferred one first.
//! The result is the same bit for bit as writing it at once.

use ndarray::{ArrayD, Zip};

use crate::kernel::gemm::gemm_scaled_plus;
use crate::ops::matmul::{as_matrix, matrix_mut};
use crate::pool::Pool;
use crate::product_gradient::ProductGradient;
use crate::tape::Node;
use crate::Element;

/// How many shares may wait at once (one per weight matrix of a net is typical); more are
/// written at once.
const CAPACITY: usize = 4;

/// A share not written yet.
pub(crate) enum Share<T: Element> {
    /// `s · x`, `x` the input's value; the input's (unwritten) buffer is in its slot already.
    Scaled(T),
    /// `s · x + aᵀ · g` (`s · x` only with a scale), `a` the value of node `a`, `g` a gradient
    /// buffer; the input has no buffer in its slot.
    Product {
        /// The node whose value, transposed, is the left factor.
        a: usize,
        /// The right factor.
        g: ArrayD<T>,
        /// The scale of a scaled share before it.
        scale: Option<T>,
    },
}

/// The inputs whose gradient share is deferred.
pub(crate) struct Deferred<T: Element> {
    entries: [Option<(usize, Share<T>)>; CAPACITY],
}

impl<T: Element> Deferred<T> {
    /// Nothing deferred.
    pub fn new() -> Self {
        Deferred {
            entries: std::array::from_fn(|_| None),
        }
    }

    /// Whether input `i` has a deferred share.
    pub fn holds(&self, i: usize) -> bool {
        self.entries.iter().flatten().any(|(j, _)| *j == i)
    }

    /// Whether another share can be deferred.
    pub fn has_room(&self) -> bool {
        self.entries.iter().any(Option::is_none)
    }

    /// Defers input `i`'s share; false when there is no room (write it now).
    pub fn defer(&mut self, i: usize, share: Share<T>) -> bool {
        match self.entries.iter_mut().find(|e| e.is_none()) {
            Some(e) => {
                *e = Some((i, share));
                true
            }
            None => false,
        }
    }

    /// The scale of input `i`'s deferred scaled share, if it has one, no longer deferred.
    pub fn take_scale(&mut self, i: usize) -> Option<T> {
        let e = self
            .entries
            .iter_mut()
            .find(|e| matches!(e, Some((j, Share::Scaled(_))) if *j == i))?;
        match e.take() {
            Some((_, Share::Scaled(s))) => Some(s),
            _ => None,
        }
    }

    /// Writes input `i`'s deferred share, if it has one, into its slot.
    pub fn settle(
        &mut self,
        i: usize,
        nodes: &[Node<T>],
        slots: &mut [Option<ArrayD<T>>],
        pool: &mut Pool<T>,
    ) {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.as_ref().is_some_and(|(j, _)| *j == i));
        if let Some((_, share)) = entry.and_then(Option::take) {
            write(i, share, nodes, slots, pool);
        }
    }

    /// Writes every share still deferred, or, with `products`, moves the product shares there
    /// (as [`ProductGradient`]s of `tape`, its id and recording generation) and writes the
    /// others.
    pub fn settle_all(
        &mut self,
        nodes: &[Node<T>],
        slots: &mut [Option<ArrayD<T>>],
        pool: &mut Pool<T>,
        mut products: Option<&mut Vec<ProductGradient<T>>>,
        tape: (usize, u64),
    ) {
        for entry in &mut self.entries {
            let Some((i, share)) = entry.take() else {
                continue;
            };
            match (share, products.as_deref_mut()) {
                (Share::Product { a, g, scale }, Some(out)) => {
                    let x = nodes[a].value.clone();
                    out.push(ProductGradient::new(tape, i, x, g, scale));
                }
                (share, _) => write(i, share, nodes, slots, pool),
            }
        }
    }
}

/// Writes input `i`'s `share` into its slot.
fn write<T: Element>(
    i: usize,
    share: Share<T>,
    nodes: &[Node<T>],
    slots: &mut [Option<ArrayD<T>>],
    pool: &mut Pool<T>,
) {
    let x = nodes[i].value.view();
    match share {
        Share::Scaled(s) => {
            let dst = slots[i]
                .as_mut()
                .expect("a deferred share has its buffer in the slot");
            Zip::from(dst).and(&x).for_each(|d, &x| *d = s * x);
        }
        Share::Product { a, g, scale } => {
            let dst = slots[i].insert(pool.dirty(x.shape()));
            let matrix = |v| as_matrix("matmul", v).expect("a deferred product's factors are 2-D");
            let (av, gv, x) = (matrix(nodes[a].value.view()), matrix(g.view()), matrix(x));
            gemm_scaled_plus(
                av.t(),
                gv,
                matrix_mut(dst.view_mut()),
                scale.map(|s| (s, x)),
            );
            pool.give(g);
        }
    }
}
