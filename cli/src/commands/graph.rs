//! `tapegrad graph`: the net's tape as Graphviz DOT.

use std::io::{self, Write};

use ndarray::Array2;
use tapegrad_autograd::Tape;
use tapegrad_net::limits::MAX_CLASSES;
use tapegrad_net::memory::{about, MemoryLimit, NetShape};
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
    if args.classes > MAX_CLASSES {
        return Err(Failure::input(format!(
            "--classes {}: more than the limit of {MAX_CLASSES} classes",
            args.classes
        )));
    }
    // Recording allocates the net and one batch (no optimizer): checked before.
    let shape = NetShape {
        inputs: args.inputs,
        hidden: args.hidden,
        classes: args.classes,
        batch: args.batch_size,
    };
    let needed = shape.training_bytes(0);
    let limit = MemoryLimit::of_this_process();
    if !limit.fits(needed) {
        return Err(Failure::input(format!(
            "--inputs {}, --hidden {}, --classes {}, --batch-size {}: a net of {shape} needs {} \
             to record, more than {limit}",
            args.inputs,
            args.hidden,
            args.classes,
            args.batch_size,
            about(needed)
        )));
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
