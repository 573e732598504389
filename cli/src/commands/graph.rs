//! `tapegrad graph`: the net's tape as Graphviz DOT.

use std::io::{self, Write};

use ndarray::Array2;
use tapegrad_autograd::Tape;
use tapegrad_net::TwoLayerNet;

use crate::args::GraphArgs;
use crate::failure::{Failure, Outcome};

/// Records one loss evaluation of a fresh net and prints the tape's DOT.
pub fn run(args: &GraphArgs) -> Outcome {
    if args.inputs == 0 || args.hidden == 0 || args.classes == 0 || args.batch_size == 0 {
        return Err(Failure::input(
            "--inputs, --hidden, --classes and --batch-size must be at least 1",
        ));
    }
    let net = TwoLayerNet::<f32>::new(args.inputs, args.hidden, args.classes, 1e-4, 0);
    let x = Array2::<f32>::zeros((args.batch_size, args.inputs));
    let y: Vec<usize> = (0..args.batch_size).map(|i| i % args.classes).collect();
    let tape = Tape::new();
    net.record(&tape, x, &y, 1e-4)?;
    let mut out = io::stdout().lock();
    out.write_all(tape.to_dot().as_bytes())?;
    out.flush()?;
    Ok(())
}
