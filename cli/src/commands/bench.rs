//! `tapegrad bench`: the speed of one training step on this machine.

use std::io::{self, Write};
use std::time::Instant;

use tapegrad_benchmark::{StepBench, StepShape, SHAPES};

use tapegrad_autograd::Element;

use crate::args::{BenchArgs, Dtype};
use crate::failure::{Failure, Outcome};

/// Times the tape step and the closed-form step (f32, or f64 with `--dtype f64`) at each shape and prints median
/// milliseconds per step and GFLOP/s, as a table or as JSON lines (which also name the step's
/// FLOPs and the instruction set of the matrix kernel).
pub fn run(args: &BenchArgs) -> Outcome {
    super::set_threads(args.threads);
    if let Some(isa) = args.isa {
        tapegrad_autograd::set_isa(Some(isa.into()))
            .map_err(|e| Failure::input(format!("--isa: {e}")))?;
    }
    let shapes: Vec<StepShape> = match &args.shape {
        None => SHAPES.to_vec(),
        Some(name) => vec![*SHAPES.iter().find(|s| s.name == name).ok_or_else(|| {
            let names: Vec<_> = SHAPES.iter().map(|s| s.name).collect();
            Failure::input(format!(
                "--shape {name}: unknown shape; choose one of {}",
                names.join(", ")
            ))
        })?],
    };
    if !(args.budget.is_finite() && args.budget > 0.0) {
        return Err(Failure::input(
            "--budget must be a positive number of seconds",
        ));
    }
    let dtype = match args.dtype {
        Dtype::F32 => "f32",
        Dtype::F64 => "f64",
    };
    let mut out = io::stdout().lock();
    if !args.json {
        writeln!(
            out,
            "{:>9} {:>22} {:>10} {:>9} {:>10} {:>9} {:>7}",
            "shape", "n,d,h,c", "tape ms", "GFLOP/s", "closed ms", "GFLOP/s", "ratio"
        )?;
    }
    for shape in shapes {
        let (tape, closed) = match args.dtype {
            Dtype::F32 => time_both::<f32>(shape, args.budget)?,
            Dtype::F64 => time_both::<f64>(shape, args.budget)?,
        };
        let gflops = |secs: f64| shape.flops() / secs / 1e9;
        if args.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({
                    "shape": shape.name, "n": shape.n, "d": shape.d, "h": shape.h, "c": shape.c,
                    "dtype": dtype, "flops": shape.flops(),
                    "isa": format!("{:?}", tapegrad_autograd::isa()),
                    "tape_ms": tape * 1e3, "tape_gflops": gflops(tape),
                    "closed_form_ms": closed * 1e3, "closed_form_gflops": gflops(closed),
                })
            )?;
        } else {
            writeln!(
                out,
                "{:>9} {:>22} {:>10.4} {:>9.1} {:>10.4} {:>9.1} {:>7.3}",
                shape.name,
                format!("{},{},{},{}", shape.n, shape.d, shape.h, shape.c),
                tape * 1e3,
                gflops(tape),
                closed * 1e3,
                gflops(closed),
                tape / closed
            )?;
        }
    }
    Ok(())
}

/// Median seconds per step of the tape and of the closed form at `shape`.
fn time_both<T: Element>(shape: StepShape, budget: f64) -> Outcome<(f64, f64)> {
    let mut bench = StepBench::<T>::new(shape);
    let tape = time(budget, || bench.tape_step().map(|_| ()))?;
    let mut bench = StepBench::<T>::new(shape);
    let closed = time(budget, || bench.closed_form_step().map(|_| ()))?;
    Ok((tape, closed))
}

/// Median seconds per call of `step`: three warm-up calls and a fifth of the budget, then
/// timed calls for `budget` seconds (at least 5).
fn time(budget: f64, mut step: impl FnMut() -> tapegrad_net::Result<()>) -> Outcome<f64> {
    let warm = Instant::now();
    let mut calls = 0;
    while calls < 3 || warm.elapsed().as_secs_f64() < budget / 5.0 {
        step()?;
        calls += 1;
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || start.elapsed().as_secs_f64() < budget {
        let t = Instant::now();
        step()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}
