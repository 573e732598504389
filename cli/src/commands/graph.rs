//! `tapegrad graph`: the net's tape as Graphviz DOT.

use std::io::{self, Write};

use ndarray::Array2;
use tapegrad_autograd::Tape;
use tapegrad_net::limits::MAX_CLASSES;
use tapegrad_net::memory::{about, MemoryLimit, NetShape};
use tapegrad_net::{Init, Mlp};

use crate::args::GraphArgs;
use crate::failure::{Failure, Outcome};

/// Records one loss evaluation of a fresh net and prints the tape's DOT.
pub fn run(args: &GraphArgs) -> Outcome {
    if args.inputs == 0 || args.hidden.contains(&0) || args.classes == 0 || args.batch_size == 0 {
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
        hidden: args.hidden.clone(),
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
            shape
                .hidden
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
            args.classes,
            args.batch_size,
            about(needed)
        )));
    }
    let mut sizes = vec![args.inputs];
    sizes.extend(&args.hidden);
    sizes.push(args.classes);
    let net = Mlp::<f32>::new(&sizes, Init::default())?;
    let x = Array2::<f32>::zeros((args.batch_size, args.inputs));
    let y: Vec<usize> = (0..args.batch_size).map(|i| i % args.classes).collect();
    let tape = Tape::new();
    net.record(&tape, x, &y, 1e-4)?;
    let mut out = io::stdout().lock();
    out.write_all(tape.to_dot().as_bytes())?;
    out.flush()?;
    Ok(())
}
