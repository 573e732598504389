//! `tapegrad`: train, evaluate and inspect the two-layer net from the terminal.
//!
//! This crate is the only place that parses flags, prints and draws progress bars; the work
//! itself is in `tapegrad-net` and `tapegrad-autograd`.

mod args;
mod commands;
mod failure;
mod interrupt;
mod plot;
mod progress;
mod run_folder;
mod settings;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Train(a) => commands::train::run(&a),
        Command::Eval(a) => commands::eval::eval(&a),
        Command::Predict(a) => commands::predict::predict(&a),
        Command::Gradcheck(a) => commands::gradcheck::run(&a),
        Command::Tune(a) => commands::tune::run(&a),
        Command::Graph(a) => commands::graph::run(&a),
        Command::Bench(a) => commands::bench::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.is_quiet() => ExitCode::SUCCESS,
        Err(f) if f.is_interrupted() => {
            let _ = writeln!(std::io::stderr().lock(), "{}", f.to_terminal());
            ExitCode::from(f.code)
        }
        Err(f) => {
            // The one place errors are printed; nothing to do if stderr is closed too.
            let _ = writeln!(std::io::stderr().lock(), "error: {}", f.to_terminal());
            ExitCode::from(f.code)
        }
    }
}
