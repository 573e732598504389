//! Where backward puts each input's share of a gradient: the buffer handling the derivative
//! rules share, so that each rule in [`derivatives`](crate::derivatives) reads as its formula.
//!
//! Only inputs that need a gradient get one; a constant operand's share is never computed. An
//! input's first contribution is written into a pooled buffer, later ones (fan-out) are added.
//! When an input has no gradient yet and its share is the upstream gradient itself, or a
//! function of it elementwise, the upstream buffer is handed on (updated in place) instead of
//! copied.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMut1, ArrayViewMutD, Axis, Ix1, Ix2, Zip};

mod unary;

use unary::{ChainRule, InPlace};

use crate::deferred::{Deferred, Share};
use crate::kernel::gemm::{gemm, gemm_scaled_plus};
use crate::ops::broadcast::{reduce_into, stretch};
use crate::ops::custom::{with_views, STACK_INPUTS};
use crate::ops::matmul::{as_matrix, matrix_mut};
use crate::ops::unary::UnaryOp;
use crate::pool::Pool;
use crate::tape::Node;
use crate::{CustomOp, Element, Result};

/// The gradient reaching a node: its buffer, which one rule may hand on to an input.
pub(crate) struct Upstream<T> {
    buf: Option<ArrayD<T>>,
}

impl<T: Element> Upstream<T> {
    /// Wraps the gradient of a node's value.
    pub fn new(g: ArrayD<T>) -> Self {
        Upstream { buf: Some(g) }
    }

    /// The gradient. A rule that hands the buffer on does so as its last use of it.
    pub fn view(&self) -> ArrayViewD<'_, T> {
        self.buf
            .as_ref()
            .expect("a rule hands the upstream gradient on only after its last read")
            .view()
    }

    /// `g = rule(g, v)` elementwise in the gradient's own buffer, `rule` being the chain rule of
    /// the unary `op` and `v` the value it reads.
    pub fn chain_in_place(&mut self, v: &ArrayViewD<'_, T>, op: UnaryOp<T>) {
        let buf = self
            .buf
            .as_mut()
            .expect("the upstream gradient is changed before it is handed on");
        op.apply(InPlace { g: buf, v });
    }

    /// `g[i] = f(i, g[i])` for every element, `i` counted row-major, in the gradient's own
    /// buffer.
    pub fn map_indexed_in_place(&mut self, f: impl Fn(usize, T) -> T) {
        let buf = self
            .buf
            .as_mut()
            .expect("the upstream gradient is changed before it is handed on");
        for (i, g) in buf.iter_mut().enumerate() {
            *g = f(i, *g);
        }
    }

    /// Its single element (the gradient of a full reduction).
    pub fn scalar(&self) -> T {
        self.view().iter().next().copied().unwrap_or_else(T::zero)
    }
}

/// The gradient buffers of the inputs of the node being differentiated: one slot per node,
/// filled on first use.
pub(crate) struct Sinks<'a, T: Element> {
    pub nodes: &'a [Node<T>],
    pub slots: &'a mut [Option<ArrayD<T>>],
    pub pool: &'a mut Pool<T>,
    /// Shares `s · x` not written yet, for a product to add them as it stores.
    pub deferred: &'a mut Deferred<T>,
    /// Whether a parameter's last share, when it is a product `Xᵀ·G`, is deferred and handed
    /// out unevaluated ([`Var::backward_with_products`](crate::Var::backward_with_products)).
    pub keep_products: bool,
}

impl<T: Element> Sinks<'_, T> {
    /// Runs `f` on input `i`'s gradient buffer if `i` needs a gradient. `f` gets the buffer,
    /// whether it is fresh (contents undefined: write, don't add) and the buffer pool.
    fn with(&mut self, i: usize, f: impl FnOnce(ArrayViewMutD<'_, T>, bool, &mut Pool<T>)) {
        if !self.nodes[i].requires_grad {
            return;
        }
        self.deferred.settle(i, self.nodes, self.slots, self.pool);
        let fresh = self.slots[i].is_none();
        let pool = &mut *self.pool;
        let slot =
            self.slots[i].get_or_insert_with(|| pool.dirty(self.nodes[i].value.view().shape()));
        f(slot.view_mut(), fresh, pool);
    }

    /// Whether input `i` can take a gradient buffer of `shape` as its own: it needs a gradient,
    /// has none yet, and has that shape.
    fn takes(&self, i: usize, shape: &[usize]) -> bool {
        let node = &self.nodes[i];
        node.requires_grad
            && self.slots[i].is_none()
            && !self.deferred.holds(i)
            && node.value.view().shape() == shape
    }

    /// Input `i` gets `buf` (of its shape): moved in when it has no gradient yet, else added.
    fn put(&mut self, i: usize, buf: ArrayD<T>) {
        if self.takes(i, buf.shape()) {
            self.slots[i] = Some(buf);
        } else {
            self.pass(i, &buf.view());
            self.pool.give(buf);
        }
    }

    /// Gives the upstream buffer back to the pool, unless an input took it.
    pub fn release(&mut self, g: Upstream<T>) {
        if let Some(buf) = g.buf {
            self.pool.give(buf);
        }
    }

    /// Input `i` gets `src` (already of its shape) as it is.
    pub fn pass(&mut self, i: usize, src: &ArrayViewD<'_, T>) {
        self.with(i, |mut dst, fresh, _| {
            if fresh {
                dst.assign(src);
            } else {
                dst += src;
            }
        });
    }

    /// Input `x` of the unary `op` gets `dx(g, x, y)` elementwise, the op's chain rule; in `g`'s
    /// own buffer when `x` can take it.
    pub fn chain(
        &mut self,
        x: usize,
        g: &mut Upstream<T>,
        xv: &ArrayViewD<'_, T>,
        yv: &ArrayViewD<'_, T>,
        op: UnaryOp<T>,
    ) {
        op.apply(ChainRule {
            sinks: self,
            x,
            g,
            xv,
            yv,
        });
    }

    /// Each input `i` of `terms` gets `s · g`, summed over the axes it was broadcast along;
    /// `g`'s buffer goes to an input that takes it as it is (`s = 1`, same shape, no gradient
    /// yet, and not listed twice).
    pub fn linear<const N: usize>(&mut self, g: &mut Upstream<T>, terms: [(usize, T); N]) {
        let taker = terms.iter().position(|&(i, s)| {
            s == T::one()
                && terms.iter().filter(|t| t.0 == i).count() == 1
                && g.buf.as_ref().is_some_and(|b| self.takes(i, b.shape()))
        });
        for (k, &(i, s)) in terms.iter().enumerate() {
            if Some(k) != taker {
                self.with(i, |dst, fresh, _| reduce_into(&g.view(), dst, fresh, s));
            }
        }
        if let Some(k) = taker {
            self.slots[terms[k].0] = g.buf.take();
        }
    }

    /// Input `i` gets `f(g, a, b)` elementwise, with `a` and `b` broadcast to `g`'s shape and
    /// the result summed back down to `i`'s shape.
    pub fn broadcast(
        &mut self,
        i: usize,
        g: &Upstream<T>,
        (a, b): (&ArrayViewD<'_, T>, &ArrayViewD<'_, T>),
        f: impl Fn(T, T, T) -> T,
    ) {
        let g = g.view();
        let shape = g.raw_dim();
        let (a, b) = (stretch(a, &shape), stretch(b, &shape));
        self.with(i, |mut dst, fresh, pool| {
            if dst.shape() == g.shape() {
                let zip = Zip::from(&mut dst).and(&g).and(&a).and(&b);
                if fresh {
                    zip.for_each(|d, &g, &a, &b| *d = f(g, a, b));
                } else {
                    zip.for_each(|d, &g, &a, &b| *d += f(g, a, b));
                }
            } else {
                let mut full = pool.dirty(g.shape());
                Zip::from(&mut full)
                    .and(&g)
                    .and(&a)
                    .and(&b)
                    .for_each(|d, &g, &a, &b| *d = f(g, a, b));
                reduce_into(&full.view(), dst, fresh, T::one());
                pool.give(full);
            }
        });
    }

    /// Input `i` gets `v` in every element.
    pub fn fill(&mut self, i: usize, v: T) {
        self.with(i, |mut dst, fresh, _| {
            if fresh {
                dst.fill(v);
            } else {
                dst.mapv_inplace(|d| d + v);
            }
        });
    }

    /// Input `i` gets `s · x`, `x` being its value. As its first share this is deferred (see
    /// [`Deferred`]), for a product that comes next to add in its store.
    pub fn scaled(&mut self, i: usize, s: T) {
        let node = &self.nodes[i];
        if node.requires_grad
            && self.slots[i].is_none()
            && !self.deferred.holds(i)
            && self.deferred.defer(i, Share::Scaled(s))
        {
            self.slots[i] = Some(self.pool.dirty(node.value.view().shape()));
            return;
        }
        let x = node.value.view();
        self.with(i, |mut dst, fresh, _| {
            let zip = Zip::from(&mut dst).and(&x);
            if fresh {
                zip.for_each(|d, &x| *d = s * x);
            } else {
                zip.for_each(|d, &x| *d += s * x);
            }
        });
    }

    /// Input `i` gets, along each lane of `axis`, `rule(g, y, Σ_lane g)` elementwise; in `g`'s
    /// own buffer when `i` can take it.
    pub fn lanes(
        &mut self,
        i: usize,
        g: &mut Upstream<T>,
        y: &ArrayViewD<'_, T>,
        axis: Axis,
        rule: impl Fn(T, T, T) -> T,
    ) {
        let mut buf = match g.buf.take() {
            Some(buf) if self.takes(i, buf.shape()) => buf,
            other => {
                g.buf = other;
                let g = g.view();
                self.with(i, |mut d, fresh, _| {
                    Zip::from(d.lanes_mut(axis))
                        .and(g.lanes(axis))
                        .and(y.lanes(axis))
                        .for_each(|mut d, g, y| {
                            let s = g.sum();
                            let lane = Zip::from(&mut d).and(&g).and(&y);
                            if fresh {
                                lane.for_each(|d, &g, &y| *d = rule(g, y, s));
                            } else {
                                lane.for_each(|d, &g, &y| *d += rule(g, y, s));
                            }
                        });
                });
                return;
            }
        };
        Zip::from(buf.lanes_mut(axis))
            .and(y.lanes(axis))
            .for_each(|mut g, y| {
                let s = g.sum();
                Zip::from(&mut g)
                    .and(&y)
                    .for_each(|g, &y| *g = rule(*g, y, s));
            });
        self.slots[i] = Some(buf);
    }

    /// Input `i`, a matrix, gets row by row what `share(r, out)` writes into `out` for row `r`
    /// (all of `out`: its contents on entry are undefined).
    pub fn rows(&mut self, i: usize, share: impl Fn(usize, ArrayViewMut1<'_, T>)) {
        self.with(i, |mut dst, fresh, pool| {
            let mut dst = (dst.view_mut().into_dimensionality::<Ix2>())
                .expect("a row-wise share goes to a matrix, as its rule checked");
            if fresh {
                for (r, row) in dst.rows_mut().into_iter().enumerate() {
                    share(r, row);
                }
            } else {
                let mut tmp = pool.dirty(&[dst.ncols()]);
                for (r, mut row) in dst.rows_mut().into_iter().enumerate() {
                    let mut t = tmp.view_mut().into_dimensionality::<Ix1>().expect("1-D");
                    share(r, t.view_mut());
                    row += &t;
                }
                pool.give(tmp);
            }
        });
    }

    /// Input `i`, a matrix, gets `g_k` at `[k, labels[k]]` and zero elsewhere.
    pub fn scatter(&mut self, i: usize, g: &ArrayViewD<'_, T>, labels: &[usize]) {
        self.with(i, |mut dst, fresh, _| {
            if fresh {
                dst.fill(T::zero());
            }
            for (k, (&label, &gk)) in labels.iter().zip(g.iter()).enumerate() {
                dst[[k, label].as_slice()] += gk;
            }
        });
    }

    /// Input `i`, a matrix, gets the product `a · b`.
    pub fn product(
        &mut self,
        i: usize,
        a: ndarray::ArrayView2<'_, T>,
        b: ndarray::ArrayView2<'_, T>,
    ) {
        let node = &self.nodes[i];
        if node.requires_grad {
            if let Some(s) = self.deferred.take_scale(i) {
                let x = as_matrix("matmul", node.value.view()).expect("a matmul input is 2-D");
                let dst = self.slots[i]
                    .as_mut()
                    .expect("a deferred share has its buffer");
                gemm_scaled_plus(a, b, matrix_mut(dst.view_mut()), Some((s, x)));
                return;
            }
        }
        self.with(i, |dst, fresh, _| gemm(a, b, matrix_mut(dst), !fresh));
    }

    /// Input `i`, a matrix, gets `aᵀ · g`, `a` being the value of input `a` and `g` the
    /// upstream gradient (a weight's share `Xᵀ·G`). When products are kept, `i` is a parameter
    /// with no share yet but a scaled one, and the kernel computes the product in one pass,
    /// the share is deferred with `g`'s buffer, which it takes: this must be `g`'s last use.
    pub fn weight_product(&mut self, i: usize, a: usize, g: &mut Upstream<T>) {
        let node = &self.nodes[i];
        let eligible = self.keep_products
            && node.requires_grad
            && matches!(node.op, crate::op::Op::Leaf { .. })
            && self.nodes[a].value.view().ndim() == 2
            && g.buf.as_ref().is_some_and(|g| g.ndim() == 2)
            && crate::kernel::single_pass::<T>(crate::isa(), g.view().shape()[0]);
        // A scaled share before it joins the product (whose buffer goes back: the product will
        // not be stored); with none, the parameter must have no share yet.
        let scale = if eligible {
            self.deferred.take_scale(i)
        } else {
            None
        };
        if let Some(buf) = scale.and_then(|_| self.slots[i].take()) {
            self.pool.give(buf);
        }
        let keep = scale.is_some()
            || (eligible
                && self.slots[i].is_none()
                && !self.deferred.holds(i)
                && self.deferred.has_room());
        if keep {
            let g = g.buf.take().expect("the upstream gradient is here");
            let deferred = self.deferred.defer(i, Share::Product { a, g, scale });
            debug_assert!(deferred, "there was room");
            return;
        }
        let av = as_matrix("matmul", self.nodes[a].value.view()).expect("a matmul input is 2-D");
        let gv = g.view();
        self.product(
            i,
            av.t(),
            as_matrix("matmul", gv).expect("a matmul gradient is 2-D"),
        );
    }

    /// The inputs of the custom `op` get what its backward writes into zeroed buffers of their
    /// shapes (for those that need a gradient); the buffers come from the pool and are moved,
    /// not copied, into inputs without a gradient yet.
    pub fn custom(
        &mut self,
        op: &dyn CustomOp<T>,
        inputs: &[usize],
        y: &ArrayViewD<'_, T>,
        g: &ArrayViewD<'_, T>,
    ) -> Result<()> {
        let nodes = self.nodes;
        let n = inputs.len();
        let mut stack: [Option<ArrayD<T>>; STACK_INPUTS] = Default::default();
        let mut heap = Vec::new();
        let bufs: &mut [Option<ArrayD<T>>] = if n <= STACK_INPUTS {
            &mut stack[..n]
        } else {
            heap.resize_with(n, || None);
            &mut heap
        };
        for (buf, &i) in bufs.iter_mut().zip(inputs) {
            if nodes[i].requires_grad {
                *buf = Some(self.pool.zeros(nodes[i].value.view().shape()));
            }
        }
        with_views(
            inputs,
            |i| nodes[i].value.view(),
            |views| {
                let mut stack: [Option<ArrayViewMutD<'_, T>>; STACK_INPUTS] = Default::default();
                let mut heap = Vec::new();
                let grads: &mut [Option<ArrayViewMutD<'_, T>>] = if n <= STACK_INPUTS {
                    &mut stack[..n]
                } else {
                    heap.resize_with(n, || None);
                    &mut heap
                };
                for (view, buf) in grads.iter_mut().zip(bufs.iter_mut()) {
                    *view = buf.as_mut().map(|b| b.view_mut());
                }
                op.backward(views, y, g, grads)
            },
        )?;
        for (buf, &i) in bufs.iter_mut().zip(inputs) {
            if let Some(buf) = buf.take() {
                self.put(i, buf);
            }
        }
        Ok(())
    }
}
