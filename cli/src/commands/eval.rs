//! `tapegrad eval`: a saved model's accuracy, loss, confusion matrix and per-class scores on
//! the data it was trained on (by default its held-out test split).

use std::io::{self, Write};

use tapegrad_net::confusion::{ClassScores, Confusion};
use tapegrad_net::scoring::score_blocks;
use tapegrad_net::NetError;

use super::trained_on::{self, DataChoice};
use crate::args::EvalArgs;
use crate::failure::{Failure, Outcome};

/// Confusion matrices with more classes than this are printed as a list of their non-zero
/// cells rather than as a table (a table of 65,536 classes would be 4 billion numbers).
const TABLE_CLASSES: usize = 32;

/// Prints the accuracy and the mean cross-entropy loss, then the confusion matrix (rows: true
/// class, columns: predicted) with each class's precision, recall and F1 beside its row: a
/// table of every class when the model has at most [`TABLE_CLASSES`], otherwise the
/// non-zero cells, one `true predicted count` line each, and the scores of the classes that
/// occur. Only the non-zero cells are kept, so memory grows with the examples, never with
/// classes².
pub fn eval(args: &EvalArgs) -> Outcome {
    let (path, model) = trained_on::load_model(&args.model.model)?;
    let choice = trained_on::choose_data(&path, &model.info, &args.model)?;
    let (name, mut inputs) = trained_on::load_split(&choice, args.split)?;
    let source = choice.spec.to_string();
    trained_on::preprocess(&path, &model, &mut inputs, &source)?;
    let labels = inputs.labels.unwrap_or_default();
    let classes = model.info.classes;
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
        return Err(Failure::from(NetError::Label {
            index,
            label,
            classes,
        })
        .context(format!(
            "model {} does not fit data {source}",
            path.display()
        )));
    }
    let mut confusion = Confusion::new(classes);
    let mut loss_sum = 0.0;
    score_blocks(&model.net, inputs.features.view(), |block| -> Outcome {
        for (i, (&p, logp)) in block
            .predicted
            .iter()
            .zip(block.log_probabilities.rows())
            .enumerate()
        {
            let y = labels[block.first + i];
            confusion.add(y, p);
            loss_sum -= logp[y];
        }
        Ok(())
    })?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    writeln!(out, "{}", headline(&name, &choice, &confusion, loss_sum))?;
    write_matrix(&mut out, &confusion)?;
    out.flush()?;
    Ok(())
}

/// `digits/test (269 examples, split seed 7): accuracy 97.40% (262/269), loss 0.0842`.
fn headline(name: &str, choice: &DataChoice, m: &Confusion, loss_sum: f64) -> String {
    let n = m.total();
    let seed = if choice.spec.split_is_seeded() {
        format!(", split seed {}", choice.seed)
    } else {
        String::new()
    };
    let other = if choice.models_own {
        ""
    } else {
        " [not the model's data]"
    };
    let loss = if n == 0 {
        "-".to_owned()
    } else {
        format!("{:.4}", loss_sum / n as f64)
    };
    format!(
        "{name} ({n} examples{seed}){other}: accuracy {:.2}% ({}/{n}), loss {loss} (mean cross-entropy)",
        100.0 * m.accuracy(),
        m.correct()
    )
}

/// A score with 3 decimals, or `-` where it is undefined.
fn score(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |x| format!("{x:.3}"))
}

/// The confusion matrix with the per-class scores beside it, and their macro average.
fn write_matrix(out: &mut impl Write, m: &Confusion) -> io::Result<()> {
    let classes = m.classes();
    let per_class = m.per_class();
    let width = m.total().to_string().len().max(3);
    let scores = |s: &ClassScores| {
        format!(
            "{:>9} {:>6} {:>6}",
            score(s.precision),
            score(s.recall),
            score(s.f1)
        )
    };
    if classes > TABLE_CLASSES {
        writeln!(
            out,
            "confusion matrix of {classes} classes, non-zero cells only (true class, predicted class, count)"
        )?;
        for ((y, p), n) in m.cells() {
            writeln!(out, "{y:>width$} {p:>width$} {n:>width$}")?;
        }
        writeln!(
            out,
            "per-class scores of the classes that occur (class, precision, recall, F1, support)"
        )?;
        for (k, s) in per_class.iter().enumerate() {
            if s.support > 0 || s.predicted > 0 {
                writeln!(out, "{k:>width$} {} {:>width$}", scores(s), s.support)?;
            }
        }
    } else {
        writeln!(
            out,
            "confusion matrix (rows: true class, columns: predicted class) and per-class scores"
        )?;
        write!(out, "{:>width$} |", "")?;
        for k in 0..classes {
            write!(out, " {k:>width$}")?;
        }
        writeln!(out, " | precision recall     F1")?;
        let rule = (width + 1) * (classes + 1) + 1 + 26;
        writeln!(out, "{}", "-".repeat(rule))?;
        for (y, s) in per_class.iter().enumerate() {
            write!(out, "{y:>width$} |")?;
            for p in 0..classes {
                write!(out, " {:>width$}", m.count(y, p))?;
            }
            writeln!(out, " | {}", scores(s))?;
        }
    }
    if let Some((p, r, f)) = m.macro_average() {
        writeln!(
            out,
            "macro average: precision {p:.3}, recall {r:.3}, F1 {f:.3}"
        )?;
    }
    Ok(())
}
