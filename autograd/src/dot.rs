//! Graphviz DOT export of a recording.

use std::fmt::Write;

use crate::op::Op;
use crate::{Element, Tape};

impl<T: Element> Tape<T> {
    /// The recorded graph in Graphviz DOT: one box per node with its op, name (if any) and
    /// shape; parameters are filled orange, constants grey, and ops that carry gradients have
    /// a bold outline. Edges run from inputs to the ops that use them.
    ///
    /// Render it with `dot -Tsvg graph.dot -o graph.svg`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant_named("X", array![[1.0, 2.0]]);
    /// let w = tape.param_named("W", array![[1.0], [2.0]]);
    /// x.matmul(w)?.relu().sum();
    /// let dot = tape.to_dot();
    /// assert!(dot.starts_with("digraph tape {"));
    /// assert!(dot.contains("n2 [label=\"#2 matmul\\n[1, 1]\""));
    /// assert!(dot.contains("n0 -> n2"));
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn to_dot(&self) -> String {
        let inner = self.inner.borrow();
        let mut dot = String::from(
            "digraph tape {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        );
        for (i, node) in inner.nodes.iter().enumerate() {
            let shape = node.value.view().shape().to_vec();
            let (label, style) = match &node.op {
                Op::Leaf { param, name } => {
                    let title = match name {
                        Some(n) => format!("{} {}", node.op.name(), escape(n)),
                        None => node.op.name().to_owned(),
                    };
                    let fill = if *param { "orange" } else { "lightgrey" };
                    (title, format!(", style=filled, fillcolor={fill}"))
                }
                op => {
                    let bold = if node.requires_grad {
                        ", style=bold"
                    } else {
                        ""
                    };
                    (escape(op.name()), bold.to_owned())
                }
            };
            let _ = writeln!(dot, "  n{i} [label=\"#{i} {label}\\n{shape:?}\"{style}];");
            node.op.for_each_input(&inner.inputs, |j| {
                let _ = writeln!(dot, "  n{j} -> n{i};");
            });
        }
        dot.push_str("}\n");
        dot
    }
}

/// `s` with DOT's special characters escaped for a quoted label.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
