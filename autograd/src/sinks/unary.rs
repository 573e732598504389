//! The two ways a unary op's chain rule `dx = rule(g, v)` meets the gradient buffers: in the
//! upstream gradient's own buffer ([`InPlace`]), or into the input's sink ([`ChainRule`]),
//! handing the upstream buffer on when the input has no gradient yet.

use ndarray::{ArrayD, ArrayViewD, Zip};

use super::{Sinks, Upstream};
use crate::ops::unary::{Reads, UnaryKernel};
use crate::Element;

/// A unary op's chain rule applied to a gradient in its own buffer.
pub(super) struct InPlace<'g, 'v, T> {
    pub(super) g: &'g mut ArrayD<T>,
    pub(super) v: &'v ArrayViewD<'v, T>,
}

impl<T: Element> UnaryKernel<T> for InPlace<'_, '_, T> {
    type Output = ();
    fn run<F, D>(self, _: &'static str, _: F, _: Reads, rule: D)
    where
        D: Fn(T, T) -> T + Sync,
    {
        crate::halves::zip1(self.g.view_mut(), self.v.view(), &|g, v| *g = rule(*g, v));
    }
}

/// The backward kernel of a unary op: input `x` gets `dx` of `g` and the value it reads.
pub(super) struct ChainRule<'s, 'a, 'v, T: Element> {
    pub(super) sinks: &'s mut Sinks<'a, T>,
    pub(super) x: usize,
    pub(super) g: &'s mut Upstream<T>,
    pub(super) xv: &'v ArrayViewD<'v, T>,
    pub(super) yv: &'v ArrayViewD<'v, T>,
}

impl<T: Element> UnaryKernel<T> for ChainRule<'_, '_, '_, T> {
    type Output = ();
    fn run<F, D>(self, _: &'static str, _: F, reads: Reads, rule: D)
    where
        D: Fn(T, T) -> T + Sync,
    {
        let ChainRule {
            sinks,
            x,
            g,
            xv,
            yv,
        } = self;
        let v = match reads {
            Reads::X => xv,
            Reads::Y => yv,
        };
        match g.buf.take() {
            Some(mut buf) if sinks.takes(x, buf.shape()) => {
                crate::halves::zip1(buf.view_mut(), v.view(), &|g, v| *g = rule(*g, v));
                sinks.slots[x] = Some(buf);
            }
            other => {
                g.buf = other;
                let g = g.view();
                sinks.with(x, |mut dst, fresh, _| {
                    let zip = Zip::from(&mut dst).and(&g).and(v);
                    if fresh {
                        zip.for_each(|d, &g, &v| *d = rule(g, v));
                    } else {
                        zip.for_each(|d, &g, &v| *d += rule(g, v));
                    }
                });
            }
        }
    }
}
