//! Every derivative rule of the engine, in one place.
//!
//! `backprop` takes one recorded node and the gradient of the loss with respect to its value
//! (`g`), and adds each input's share into that input's gradient buffer. Only inputs that need
//! a gradient get one: a constant operand's share is never computed. The first contribution
//! to a buffer is written, later ones (fan-out) are added.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, IxDyn, Zip};

use crate::op::Op;
use crate::ops::broadcast::{reduce_into, stretch};
use crate::ops::elementwise::sigmoid;
use crate::ops::gemm::gemm;
use crate::ops::matmul::{as_matrix, matrix_mut};
use crate::pool::Pool;
use crate::tape::Node;
use crate::{Element, Error, Result};

/// Where gradients go: one slot per node, filled on first use.
pub(crate) struct Sinks<'a, T: Element> {
    pub nodes: &'a [Node<T>],
    pub slots: &'a mut [Option<ArrayD<T>>],
    pub pool: &'a mut Pool<T>,
}

impl<T: Element> Sinks<'_, T> {
    /// Runs `f` on input `i`'s gradient buffer if `i` needs a gradient. `f` gets the buffer,
    /// whether it is fresh (contents undefined: write, don't add) and the buffer pool.
    fn with(&mut self, i: usize, f: impl FnOnce(ArrayViewMutD<'_, T>, bool, &mut Pool<T>)) {
        if !self.nodes[i].requires_grad {
            return;
        }
        let fresh = self.slots[i].is_none();
        let pool = &mut *self.pool;
        let slot =
            self.slots[i].get_or_insert_with(|| pool.dirty(self.nodes[i].value.view().shape()));
        f(slot.view_mut(), fresh, pool);
    }

    /// Input `i` gets `f(g, a, b)` elementwise, with `a` and `b` broadcast to `g`'s shape and
    /// the result summed back down to `i`'s shape.
    fn binary(
        &mut self,
        i: usize,
        g: &ArrayViewD<'_, T>,
        (a, b): (&ArrayViewD<'_, T>, &ArrayViewD<'_, T>),
        f: impl Fn(T, T, T) -> T,
    ) {
        let shape = g.raw_dim();
        let (a, b) = (stretch(a, &shape), stretch(b, &shape));
        self.with(i, |mut dst, fresh, pool| {
            if dst.shape() == g.shape() {
                let zip = Zip::from(&mut dst).and(g).and(&a).and(&b);
                if fresh {
                    zip.for_each(|d, &g, &a, &b| *d = f(g, a, b));
                } else {
                    zip.for_each(|d, &g, &a, &b| *d += f(g, a, b));
                }
            } else {
                let mut full = pool.dirty(g.shape());
                Zip::from(&mut full)
                    .and(g)
                    .and(&a)
                    .and(&b)
                    .for_each(|d, &g, &a, &b| *d = f(g, a, b));
                reduce_into(&full.view(), dst, fresh, T::one());
                pool.give(full);
            }
        });
    }

    /// Whether input `i` can take a gradient buffer of `shape` as its own: it needs a gradient,
    /// has none yet, and has that shape.
    fn takes(&self, i: usize, shape: &[usize]) -> bool {
        let node = &self.nodes[i];
        node.requires_grad && self.slots[i].is_none() && node.value.view().shape() == shape
    }

    /// Input `i` (of `g`'s shape) gets `f(g, v)` elementwise, `v` being a saved value. When `i`
    /// has no gradient yet, `g`'s own buffer is updated in place and moved to `i` (no copy, no
    /// new buffer); otherwise `g` is added in and handed back.
    fn unary(
        &mut self,
        i: usize,
        mut g: ArrayD<T>,
        v: &ArrayViewD<'_, T>,
        f: impl Fn(T, T) -> T,
    ) -> Option<ArrayD<T>> {
        if self.takes(i, g.shape()) {
            Zip::from(&mut g).and(v).for_each(|g, &v| *g = f(*g, v));
            self.slots[i] = Some(g);
            return None;
        }
        self.with(i, |mut dst, fresh, _| {
            let zip = Zip::from(&mut dst).and(&g).and(v);
            if fresh {
                zip.for_each(|d, &g, &v| *d = f(g, v));
            } else {
                zip.for_each(|d, &g, &v| *d += f(g, v));
            }
        });
        Some(g)
    }

    /// Input `i` gets `g` as it is: moved when `i` has no gradient yet, else added.
    fn pass_owned(&mut self, i: usize, g: ArrayD<T>) -> Option<ArrayD<T>> {
        if self.takes(i, g.shape()) {
            self.slots[i] = Some(g);
            return None;
        }
        self.pass(i, &g.view());
        Some(g)
    }

    /// Input `i` gets `src` (already of its shape) as it is.
    fn pass(&mut self, i: usize, src: &ArrayViewD<'_, T>) {
        self.with(i, |dst, fresh, _| put(dst, fresh, src));
    }
}

/// Writes (when `fresh`) or adds `src` into `dst`.
fn put<T: Element>(mut dst: ArrayViewMutD<'_, T>, fresh: bool, src: &ArrayViewD<'_, T>) {
    if fresh {
        dst.assign(src);
    } else {
        dst += src;
    }
}

/// Propagates `g` = dLoss/d(value of `node`) to the node's inputs. `labels` is the tape's label
/// arena (for `pick`). `g`'s buffer ends up as an input's gradient (elementwise rules work in
/// place when they can) or back in the pool.
pub(crate) fn backprop<T: Element>(
    node: &Node<T>,
    g: ArrayD<T>,
    sinks: &mut Sinks<'_, T>,
    labels: &[usize],
) -> Result<()> {
    let nodes = sinks.nodes;
    let val = |i: usize| nodes[i].value.view();
    let out = node.value.view();
    let one = T::one();
    let leftover = match &node.op {
        // d(-x) = -1; d(cx) = c; d(x + c) = 1.
        Op::Neg(x) => sinks.unary(*x, g, &out, |g, _| -g),
        Op::Scale(x, c) => sinks.unary(*x, g, &out, |g, _| *c * g),
        Op::AddScalar(x) => sinks.pass_owned(*x, g),
        // d relu(x) = 1 if x > 0 else 0 (0 at x = 0).
        Op::Relu(x) => sinks.unary(
            *x,
            g,
            &val(*x),
            |g, x| if x > T::zero() { g } else { T::zero() },
        ),
        // d |x| = sign(x), 0 at 0.
        Op::Abs(x) => sinks.unary(*x, g, &val(*x), |g, x| {
            if x > T::zero() {
                g
            } else if x < T::zero() {
                -g
            } else {
                T::zero()
            }
        }),
        // d clamp(x, lo, hi) = 1 inside [lo, hi], 0 outside.
        Op::Clamp { input, lo, hi } => sinks.unary(*input, g, &val(*input), |g, x| {
            if x >= *lo && x <= *hi {
                g
            } else {
                T::zero()
            }
        }),
        // d exp(x) = exp(x) = y.
        Op::Exp(x) => sinks.unary(*x, g, &out, |g, y| g * y),
        // d ln(x) = 1/x.
        Op::Log(x) => sinks.unary(*x, g, &val(*x), |g, x| g / x),
        // d tanh(x) = 1 - y².
        Op::Tanh(x) => sinks.unary(*x, g, &out, |g, y| g * (one - y * y)),
        // d σ(x) = σ(1 - σ), recomputed from x for accuracy where σ rounds to 1.
        Op::Sigmoid(x) => sinks.unary(*x, g, &val(*x), |g, x| {
            let s = sigmoid(x);
            g * s * (one - s)
        }),
        // d x² = 2x.
        Op::Square(x) => sinks.unary(*x, g, &val(*x), |g, x| g * (x + x)),
        // d √x = 1/(2y).
        Op::Sqrt(x) => sinks.unary(*x, g, &out, |g, y| g / (y + y)),
        // d(a ± b) = 1, ±1: summed over broadcast axes. A same-shaped operand without a
        // gradient yet takes `g`'s buffer itself.
        Op::Add(a, b) | Op::Sub(a, b) => {
            let sign = if matches!(node.op, Op::Sub(..)) {
                -one
            } else {
                one
            };
            if a != b && sinks.takes(*a, g.shape()) {
                sinks.with(*b, |d, fresh, _| reduce_into(&g.view(), d, fresh, sign));
                sinks.pass_owned(*a, g)
            } else if a != b && sign == one && sinks.takes(*b, g.shape()) {
                sinks.with(*a, |d, fresh, _| reduce_into(&g.view(), d, fresh, one));
                sinks.pass_owned(*b, g)
            } else {
                sinks.with(*a, |d, fresh, _| reduce_into(&g.view(), d, fresh, one));
                sinks.with(*b, |d, fresh, _| reduce_into(&g.view(), d, fresh, sign));
                Some(g)
            }
        }
        // d log_softmax(x) = g - softmax(x) Σ g, per lane; softmax(x) = exp(y).
        Op::LogSoftmax { input, axis } => {
            let ax = Axis(*axis);
            let rule = |g: T, y: T, s: T| g - y.exp() * s;
            if sinks.takes(*input, g.shape()) {
                let mut g = g;
                Zip::from(g.lanes_mut(ax))
                    .and(out.lanes(ax))
                    .for_each(|mut g, y| {
                        let s = g.sum();
                        Zip::from(&mut g)
                            .and(&y)
                            .for_each(|g, &y| *g = rule(*g, y, s));
                    });
                sinks.slots[*input] = Some(g);
                None
            } else {
                sinks.with(*input, |mut d, fresh, _| {
                    Zip::from(d.lanes_mut(ax))
                        .and(g.lanes(ax))
                        .and(out.lanes(ax))
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
                Some(g)
            }
        }
        op => {
            backprop_view(op, &g.view(), &out, sinks, labels)?;
            Some(g)
        }
    };
    if let Some(g) = leftover {
        sinks.pool.give(g);
    }
    Ok(())
}

/// The rules that read `g` without consuming its buffer.
fn backprop_view<T: Element>(
    op: &Op<T>,
    g: &ArrayViewD<'_, T>,
    out: &ArrayViewD<'_, T>,
    sinks: &mut Sinks<'_, T>,
    labels: &[usize],
) -> Result<()> {
    let nodes = sinks.nodes;
    let val = |i: usize| nodes[i].value.view();
    let one = T::one();
    match op {
        Op::Leaf { .. } => {}
        // `backprop` applies these itself, with `g`'s buffer.
        Op::Add(..)
        | Op::Sub(..)
        | Op::Neg(_)
        | Op::Scale(..)
        | Op::AddScalar(_)
        | Op::Relu(_)
        | Op::Abs(_)
        | Op::Clamp { .. }
        | Op::Exp(_)
        | Op::Log(_)
        | Op::Tanh(_)
        | Op::Sigmoid(_)
        | Op::Square(_)
        | Op::Sqrt(_)
        | Op::LogSoftmax { .. } => unreachable!("backprop handles {} in place", op.name()),
        // d(AB)/dA = G Bᵀ, d(AB)/dB = Aᵀ G, transposes as views.
        Op::MatMul(a, b) => {
            let (av, bv) = (as_matrix("matmul", val(*a))?, as_matrix("matmul", val(*b))?);
            let g2 = as_matrix("matmul", g.view())?;
            sinks.with(*a, |d, fresh, _| gemm(g2, bv.t(), matrix_mut(d), !fresh));
            sinks.with(*b, |d, fresh, _| gemm(av.t(), g2, matrix_mut(d), !fresh));
        }
        // d(ab)/da = b, d(ab)/db = a.
        Op::Mul(a, b) => {
            let (av, bv) = (val(*a), val(*b));
            sinks.binary(*a, g, (&av, &bv), |g, _, b| g * b);
            sinks.binary(*b, g, (&av, &bv), |g, a, _| g * a);
        }
        // d(a/b)/da = 1/b, d(a/b)/db = -a/b².
        Op::Div(a, b) => {
            let (av, bv) = (val(*a), val(*b));
            sinks.binary(*a, g, (&av, &bv), |g, _, b| g / b);
            sinks.binary(*b, g, (&av, &bv), |g, a, b| -g * a / (b * b));
        }
        // d max(a, b) = 1 for the larger (a on ties); d min(a, b) = 1 for the smaller.
        Op::Maximum(a, b) | Op::Minimum(a, b) => {
            let max = matches!(op, Op::Maximum(..));
            let a_wins = move |a: T, b: T| if max { a >= b } else { a <= b };
            let (av, bv) = (val(*a), val(*b));
            let zero = T::zero();
            sinks.binary(
                *a,
                g,
                (&av, &bv),
                |g, a, b| if a_wins(a, b) { g } else { zero },
            );
            sinks.binary(
                *b,
                g,
                (&av, &bv),
                |g, a, b| if a_wins(a, b) { zero } else { g },
            );
        }
        // d Σx = 1; d mean(x) = 1/N.
        Op::Sum(x) | Op::Mean(x) => {
            let n = val(*x).len();
            let scale = if matches!(op, Op::Mean(_)) {
                T::cast(1.0 / n as f64)
            } else {
                one
            };
            let gs = scalar(g) * scale;
            sinks.with(*x, |mut d, fresh, _| {
                if fresh {
                    d.fill(gs);
                } else {
                    d.mapv_inplace(|v| v + gs);
                }
            });
        }
        // d Σx² = 2x.
        Op::SumSquares(x) => {
            let two_g = scalar(g) + scalar(g);
            let xv = val(*x);
            sinks.with(*x, |mut d, fresh, _| {
                let zip = Zip::from(&mut d).and(&xv);
                if fresh {
                    zip.for_each(|d, &x| *d = two_g * x);
                } else {
                    zip.for_each(|d, &x| *d += two_g * x);
                }
            });
        }
        // d Σ_axis x = 1, broadcast back along the axis.
        Op::SumAxis {
            input,
            axis,
            keepdims,
        } => {
            let kept = if *keepdims {
                g.view()
            } else {
                g.view().insert_axis(Axis(*axis))
            };
            let back = kept.broadcast(val(*input).raw_dim());
            sinks.pass(
                *input,
                &back.expect("a reduction's gradient broadcasts back"),
            );
        }
        // d x[i, y_i] = g_i at (i, y_i), 0 elsewhere.
        Op::Pick {
            input,
            labels: range,
        } => {
            let labels = &labels[range.clone()];
            sinks.with(*input, |mut d, fresh, _| {
                if fresh {
                    d.fill(T::zero());
                }
                for (i, (&label, &gi)) in labels.iter().zip(g.iter()).enumerate() {
                    d[[i, label].as_slice()] += gi;
                }
            });
        }
        // Shape ops move the gradient back into the input's layout.
        Op::Reshape(x) => {
            let shape = IxDyn(val(*x).shape());
            let gx = g.to_shape(shape).expect("same number of elements");
            sinks.pass(*x, &gx.view());
        }
        Op::Permute { input, axes } => {
            let mut inverse = vec![0; axes.len()];
            for (k, &a) in axes.iter().enumerate() {
                inverse[a] = k;
            }
            sinks.pass(*input, &g.view().permuted_axes(IxDyn(&inverse)));
        }
        Op::Custom { op: custom, inputs } => {
            let views: Vec<_> = inputs.iter().map(|&i| val(i)).collect();
            let needs: Vec<bool> = inputs.iter().map(|&i| nodes[i].requires_grad).collect();
            let grads = custom.backward_needed(&views, out, g, &needs)?;
            let broken = |message: String| Error::CustomOp {
                op: custom.name().to_owned(),
                message,
            };
            if grads.len() != inputs.len() {
                return Err(broken(format!(
                    "backward returned {} {} for {} {}",
                    grads.len(),
                    if grads.len() == 1 {
                        "gradient"
                    } else {
                        "gradients"
                    },
                    inputs.len(),
                    if inputs.len() == 1 { "input" } else { "inputs" },
                )));
            }
            for (k, (&i, gi)) in inputs.iter().zip(&grads).enumerate() {
                match gi {
                    None if needs[k] => {
                        return Err(broken(format!(
                            "backward returned no gradient for input {k}, which needs one"
                        )))
                    }
                    None => {}
                    Some(gi) if gi.shape() != views[k].shape() => {
                        return Err(broken(format!(
                        "backward returned a gradient of shape {:?} for input {k} of shape {:?}",
                        gi.shape(),
                        views[k].shape()
                    )))
                    }
                    Some(gi) => sinks.pass(i, &gi.view()),
                }
            }
        }
    }
    Ok(())
}

/// The single element of a one-element gradient.
fn scalar<T: Element>(g: &ArrayViewD<'_, T>) -> T {
    g.iter().next().copied().unwrap_or_else(T::zero)
}
