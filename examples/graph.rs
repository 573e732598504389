//! Records a small model on a tape and writes its graph as a Graphviz DOT file.
//!
//! ```sh
//! cargo run --release --example graph [-- FILE]   # default: tapegrad-graph.dot in the temp dir
//! dot -Tsvg FILE -o graph.svg                       # render it (Graphviz)
//! ```
//!
//! The model is the two-layer net's regularised loss on a batch of 4:
//! `L = cross_entropy(relu(X W1 + b1) W2 + b2, y) + λ (Σ W1² + Σ W2²)`, with named leaves so the
//! drawing says which box is which. Parameters are orange, constants grey, nodes that carry
//! gradients bold. The claim: the file holds every op of the formula and the edges between them.

use std::error::Error;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use tapegrad::autograd::{Result, Tape};

/// The ops the recording must contain, in the order the formula applies them.
const OPS: [&str; 10] = [
    "matmul",
    "add",
    "relu",
    "log_softmax",
    "pick",
    "mean",
    "neg",
    "square",
    "sum",
    "scale",
];

/// What was written.
struct Written {
    /// Number of nodes recorded (leaves and ops).
    nodes: usize,
    /// The DOT text.
    dot: String,
}

/// Records the model's loss on a fresh tape and returns the tape's DOT export.
fn record() -> Result<Written> {
    let (n, d, h, c) = (4, 3, 5, 2);
    let tape = Tape::<f64>::new();
    let x = tape.constant_named(
        "X",
        Array2::from_shape_fn((n, d), |(i, j)| (i + j) as f64 * 0.1),
    );
    let w1 = tape.param_named(
        "W1",
        Array2::from_shape_fn((d, h), |(i, j)| 0.1 * (i as f64 - j as f64)),
    );
    let b1 = tape.param_named("b1", Array1::zeros(h));
    let w2 = tape.param_named(
        "W2",
        Array2::from_shape_fn((h, c), |(i, j)| 0.1 * (i * c + j) as f64),
    );
    let b2 = tape.param_named("b2", Array1::zeros(c));

    let hidden = x.matmul(w1)?.add(b1)?.relu();
    let scores = hidden.matmul(w2)?.add(b2)?;
    let data_loss = scores.cross_entropy(&[0, 1, 1, 0])?;
    let reg = w1.square().sum().add(w2.square().sum())?.scale(1e-3);
    let loss = data_loss.add(reg)?;
    loss.backward()?; // the graph is the same before and after: backward records nothing
    Ok(Written {
        nodes: tape.len(),
        dot: tape.to_dot(),
    })
}

/// The ops of [`OPS`] that `dot` has no node of.
fn missing_ops(dot: &str) -> Vec<&'static str> {
    OPS.into_iter()
        .filter(|op| !dot.contains(&format!(" {op}\\n")))
        .collect()
}

/// Records the model and writes its DOT file to `path` (atomically, as tapegrad writes every
/// file).
fn write_graph(path: &Path) -> Result<Written, Box<dyn Error>> {
    let written = record()?;
    tapegrad::net::atomic_write::write_atomic(path, written.dot.as_bytes())?;
    Ok(written)
}

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("tapegrad-graph.dot"));
    let written = write_graph(&path)?;
    let edges = written.dot.matches("->").count();
    println!(
        "recorded {} nodes and {edges} edges: L = cross_entropy(relu(X W1 + b1) W2 + b2, y) + λ(ΣW1² + ΣW2²)",
        written.nodes
    );
    let missing = missing_ops(&written.dot);
    println!(
        "ops drawn: {} ({})",
        OPS.join(", "),
        if missing.is_empty() {
            "all present".to_owned()
        } else {
            format!("MISSING {missing:?}")
        }
    );
    println!(
        "wrote {} ({} bytes of DOT)",
        path.display(),
        written.dot.len()
    );
    println!("render it with: dot -Tsvg {} -o graph.svg", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dot_file_contains_the_ops_and_the_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("graph.dot");
        let written = write_graph(&path).unwrap();
        let dot = std::fs::read_to_string(&path).unwrap();
        assert_eq!(dot, written.dot);
        assert!(dot.starts_with("digraph tape {") && dot.trim_end().ends_with('}'));
        assert_eq!(missing_ops(&dot), Vec::<&str>::new());
        for leaf in ["param W1", "param b1", "param W2", "param b2", "constant X"] {
            assert!(dot.contains(leaf), "missing leaf {leaf}");
        }
        // One box per node, and the first matmul (X · W1, node #5) reads nodes #0 and #1.
        assert_eq!(dot.matches("[label=").count(), written.nodes);
        assert!(dot.contains("n0 -> n5;") && dot.contains("n1 -> n5;"));
    }
}
