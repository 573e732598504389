//! `tapegrad eval` and `tapegrad predict`: a saved model applied to a data set.

use std::collections::BTreeMap;
use std::io::{self, Write};

use tapegrad_net::checkpoint::{self, SavedModel};
use tapegrad_net::data::{self, Dataset};
use tapegrad_net::{train, NetError};

use crate::args::{EvalArgs, Split};
use crate::failure::{Failure, Outcome};

/// Confusion matrices with more classes than this are printed as a list of their non-zero
/// cells rather than as a table (a table of 65,536 classes would be 4 billion numbers).
const TABLE_CLASSES: usize = 32;

/// Prints the accuracy and the confusion matrix (rows: true class, columns: predicted): a
/// table of every class when the model has at most [`TABLE_CLASSES`], otherwise the
/// non-zero cells, one `true predicted count` line each. Only the non-zero cells are kept,
/// so memory grows with the examples, never with classes².
pub fn eval(args: &EvalArgs) -> Outcome {
    let (model, data) = prepare(args)?;
    let predicted = train::predict(&model.net, data.features())?;
    let classes = model.info.classes.max(data.classes());
    let mut cells: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (&p, &y) in predicted.iter().zip(data.labels()) {
        *cells.entry((y, p)).or_default() += 1;
    }
    let right: usize = predicted
        .iter()
        .zip(data.labels())
        .filter(|(p, y)| p == y)
        .count();
    let accuracy = right as f64 / data.len().max(1) as f64;
    let mut out = io::BufWriter::new(io::stdout().lock());
    writeln!(
        out,
        "{} ({} examples): accuracy {:.2}% ({right}/{})",
        data.name(),
        data.len(),
        100.0 * accuracy,
        data.len()
    )?;
    let width = data.len().to_string().len().max(3);
    if classes > TABLE_CLASSES {
        writeln!(
            out,
            "confusion matrix of {classes} classes, non-zero cells only (true class, predicted class, count)"
        )?;
        for ((y, p), n) in &cells {
            writeln!(out, "{y:>width$} {p:>width$} {n:>width$}")?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "confusion matrix (rows: true class, columns: predicted class)"
    )?;
    write!(out, "{:>width$} |", "")?;
    for k in 0..classes {
        write!(out, " {k:>width$}")?;
    }
    writeln!(out)?;
    writeln!(out, "{}", "-".repeat((width + 1) * (classes + 1) + 1))?;
    for y in 0..classes {
        write!(out, "{y:>width$} |")?;
        for p in 0..classes {
            let n = cells.get(&(y, p)).copied().unwrap_or(0);
            write!(out, " {n:>width$}")?;
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

/// Prints `index,predicted,label` for every example, as CSV.
pub fn predict(args: &EvalArgs) -> Outcome {
    let (model, data) = prepare(args)?;
    let predicted = train::predict(&model.net, data.features())?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    writeln!(out, "index,predicted,label")?;
    for (i, (p, y)) in predicted.iter().zip(data.labels()).enumerate() {
        writeln!(out, "{i},{p},{y}")?;
    }
    out.flush()?;
    Ok(())
}

/// Loads the model and the chosen split, checks they fit, and applies the model's
/// preprocessing (its training set's mean image) to the data.
fn prepare(args: &EvalArgs) -> Outcome<(SavedModel, Dataset)> {
    // Refuses non-finite weights and metadata that does not match them (see load_model).
    let model = checkpoint::load_model(&args.model)?;
    let splits = data::load(&args.data.data, args.seed)?;
    let mut data = match args.split {
        Split::Train => splits.train,
        Split::Val => splits.val,
        Split::Test => splits.test.ok_or_else(|| {
            Failure::input(format!(
                "data {} has no test split; use --split val",
                args.data.data
            ))
        })?,
    };
    let (d, c) = (model.net.inputs(), model.net.classes());
    if data.dim() != d {
        return Err(Failure::from(NetError::InputSize {
            expected: d,
            found: data.dim(),
        })
        .context(format!(
            "model {} does not fit data {}",
            args.model.display(),
            args.data.data
        )));
    }
    if let Some((index, &label)) = data.labels().iter().enumerate().find(|(_, &l)| l >= c) {
        return Err(Failure::from(NetError::Label {
            index,
            label,
            classes: c,
        })
        .context(format!(
            "model {} does not fit data {}",
            args.model.display(),
            args.data.data
        )));
    }
    model.mean.apply(&mut data)?;
    Ok((model, data))
}
