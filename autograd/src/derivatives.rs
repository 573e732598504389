//! Every derivative rule of the engine, in one match.
//!
//! `backprop` takes one recorded node and `g`, the gradient of the loss with respect to the
//! node's value `y`, and gives each input its share: one arm per op, each reading as its
//! formula. How the shares land in gradient buffers (written or added, moved or copied,
//! summed over broadcast axes, only for inputs that need one) is the job of the helpers in
//! [`sinks`](crate::sinks). The unary ops' rules sit beside their `f` in
//! `ops/unary.rs`, one row each.

use ndarray::{ArrayD, Axis, Dimension, IxDyn};

use crate::exp::exp_in_place;
use crate::op::Op;
use crate::ops::binary::BinaryOp;
use crate::ops::linear::layer_name;
use crate::ops::losses::log_sum_exp;
use crate::ops::matmul::as_matrix;
use crate::ops::reduce::Reduction;
use crate::ops::unary::UnaryOp;
use crate::sinks::{Sinks, Upstream};
use crate::tape::Node;
use crate::{Element, Result};

/// The tape's arenas, where ops keep variable-length constants.
pub(crate) struct Arenas<'a> {
    /// Labels of `pick`.
    pub labels: &'a [usize],
    /// Inputs of custom ops.
    pub inputs: &'a [usize],
}

/// Propagates `g` = dLoss/dy, `y` being the value of `node`, to the node's inputs.
pub(crate) fn backprop<T: Element>(
    node: &Node<T>,
    g: ArrayD<T>,
    d: &mut Sinks<'_, T>,
    arenas: &Arenas<'_>,
) -> Result<()> {
    let nodes = d.nodes;
    let val = |i: usize| nodes[i].value.view();
    let y = node.value.view();
    let mut g = Upstream::new(g);
    let one = T::one();
    match &node.op {
        Op::Leaf { .. } => {}
        // dx = g f'(x): each op's row in UnaryOp::apply.
        Op::Unary { op, x } => d.chain(*x, &mut g, &val(*x), &y, *op),
        Op::Binary { op, a, b } => {
            let (a, b) = (*a, *b);
            let ab = (&val(a), &val(b));
            match op {
                // da = g, db = g.
                BinaryOp::Add => d.linear(&mut g, [(a, one), (b, one)]),
                // da = g, db = -g.
                BinaryOp::Sub => d.linear(&mut g, [(a, one), (b, -one)]),
                // da = g b, db = g a.
                BinaryOp::Mul => {
                    d.broadcast(a, &g, ab, |g, _, b| g * b);
                    d.broadcast(b, &g, ab, |g, a, _| g * a);
                }
                // da = g / b, db = -g a / b².
                BinaryOp::Div => {
                    d.broadcast(a, &g, ab, |g, _, b| g / b);
                    d.broadcast(b, &g, ab, |g, a, b| -g * a / (b * b));
                }
                // da = g where a >= b, db = g where b > a; both NaN where either is NaN.
                BinaryOp::Maximum => {
                    d.broadcast(a, &g, ab, |g, a, b| to_winner(g, a >= b, b > a, a + b));
                    d.broadcast(b, &g, ab, |g, a, b| to_winner(g, b > a, a >= b, a + b));
                }
                // da = g where a <= b, db = g where b < a; both NaN where either is NaN.
                BinaryOp::Minimum => {
                    d.broadcast(a, &g, ab, |g, a, b| to_winner(g, a <= b, b < a, a + b));
                    d.broadcast(b, &g, ab, |g, a, b| to_winner(g, b < a, a <= b, a + b));
                }
            }
        }
        Op::Reduce { op, x } => match op {
            // dx = g in every element.
            Reduction::Sum => d.fill(*x, g.scalar()),
            // dx = g / N in every element.
            Reduction::Mean => d.fill(*x, g.scalar() * T::cast(1.0 / val(*x).len() as f64)),
            // dx = 2 g x.
            Reduction::SumSquares => d.scaled(*x, g.scalar() + g.scalar()),
        },
        // dx = g, broadcast back along the summed axis.
        Op::SumAxis { x, axis, keepdims } => {
            let g = g.view();
            let kept = if *keepdims {
                g
            } else {
                g.insert_axis(Axis(*axis))
            };
            let back = kept.broadcast(val(*x).raw_dim());
            d.pass(*x, &back.expect("a reduction's gradient broadcasts back"));
        }
        // dx = g in x's shape.
        Op::Reshape { x } => {
            let g = g.view();
            let gx = g
                .to_shape(val(*x).raw_dim())
                .expect("same number of elements");
            d.pass(*x, &gx.view());
        }
        // dx = g with the axes put back: the inverse permutation.
        Op::Permute { x, axes } => {
            let mut inverse = IxDyn::zeros(axes.ndim());
            for (k, &a) in axes.slice().iter().enumerate() {
                inverse[a] = k;
            }
            d.pass(*x, &g.view().permuted_axes(inverse));
        }
        // dx = g - softmax(x) Σ g per lane, softmax(x) = exp(y) (all of it in one vectorised
        // pass first).
        Op::LogSoftmax { x, axis } => {
            let mut p = d.pool.dirty(y.shape());
            p.assign(&y);
            exp_in_place(p.as_slice_mut().expect("a pooled array is contiguous"));
            d.lanes(*x, &mut g, &p.view(), Axis(*axis), |g, p, sum_g| {
                g - p * sum_g
            });
            d.pool.give(p);
        }
        // dx[i, labels[i]] = g[i], 0 elsewhere.
        Op::Pick { x, labels } => d.scatter(*x, &g.view(), &arenas.labels[labels.clone()]),
        // dz_i = g (softmax(z_i) - (1-ε) onehot(y_i) - ε/c) / n, softmax recomputed per row.
        Op::SmoothedCrossEntropy {
            x,
            labels,
            smoothing,
        } => {
            let z = as_matrix("cross_entropy_smoothed", val(*x))?;
            let labels = &arenas.labels[labels.clone()];
            let (n, c) = z.dim();
            let gn = g.scalar() / T::cast(n as f64);
            let (eps, per_class) = (*smoothing, *smoothing / T::cast(c as f64));
            d.rows(*x, |i, mut dz| {
                let row = z.row(i);
                let lse = log_sum_exp(row);
                for (k, (d, &zk)) in dz.iter_mut().zip(row).enumerate() {
                    let target = if k == labels[i] { one - eps } else { T::zero() };
                    *d = gn * ((zk - lse).fast_exp() - target - per_class);
                }
            });
        }
        // dA = G Bᵀ, dB = Aᵀ G (the transposes are views; dB may be kept as the product).
        Op::MatMul { a, b } => {
            as_matrix("matmul", val(*a))?;
            let bv = as_matrix("matmul", val(*b))?;
            d.product(*a, as_matrix("matmul", g.view())?, bv.t());
            d.weight_product(*b, *a, &mut g);
        }
        // y = x W + b or relu(x W + b): with relu, dz = g where y > 0 (relu's rule, which reads
        // only the sign and NaN-ness of relu's input, and y has both), in g's own buffer; then
        // dW = xᵀ dz, dx = dz Wᵀ, db = Σ_rows dz.
        Op::Linear { x, w, b, relu } => {
            if *relu {
                g.chain_in_place(&y, UnaryOp::Relu);
            }
            let op = layer_name(*relu);
            as_matrix(op, val(*x))?;
            let wv = as_matrix(op, val(*w))?;
            d.product(*x, as_matrix(op, g.view())?, wv.t());
            d.linear(&mut g, [(*b, one)]);
            d.weight_product(*w, *x, &mut g);
        }
        // dx = g ⊙ m, the mask recomputed from its seed, in g's own buffer.
        Op::Dropout { x, mask } => {
            g.map_indexed_in_place(|i, g| g * mask.factor(i));
            d.linear(&mut g, [(*x, one)]);
        }
        // Yours: CustomOp::backward, into pooled buffers of the inputs' shapes.
        Op::Custom { op, inputs } => {
            d.custom(op.as_ref(), &arenas.inputs[inputs.clone()], &y, &g.view())?;
        }
    }
    d.release(g);
    Ok(())
}

/// The gradient share of one operand of `maximum` or `minimum`: `g` if it wins, 0 if the other
/// wins, NaN (`nan`, which is `a + b`) if the comparison is unordered because of a NaN.
fn to_winner<T: Element>(g: T, wins: bool, loses: bool, nan: T) -> T {
    if wins {
        g
    } else if loses {
        T::zero()
    } else {
        nan
    }
}
