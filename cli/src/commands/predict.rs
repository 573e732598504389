//! `tapegrad predict`: every row of the given files (or a split of the model's data) scored
//! by a saved model, as CSV on standard output.
//!
//! Columns: `row` (the row's 0-based position among its file's data rows, header and blank
//! lines not counted; the image's position in an IDX file; 0 for a picture), `predicted`
//! (the class), `probability` (the model's probability of that class), `label` (when the
//! input has labels), and with `--probabilities` `p0`, `p1`, ... (every class's). With more
//! than one file a first column, `file`, names the file each row comes from.

use std::io::{self, Write};
use std::path::Path;

use ndarray::Array2;
use tapegrad_net::checkpoint::SavedModel;
use tapegrad_net::data::{read_inputs, Inputs};
use tapegrad_net::scoring::score_blocks;

use super::picture;
use super::trained_on;
use crate::args::PredictArgs;
use crate::failure::{Failure, Outcome};

/// One input's rows to score, preprocessed, and what to call it in the `file` column.
struct Source {
    name: String,
    inputs: Inputs,
}

/// Scores every row of every input (in order) and prints them as CSV.
pub fn predict(args: &PredictArgs) -> Outcome {
    let (path, model) = trained_on::load_model(&args.model.model)?;
    let mut sources = Vec::new();
    if args.inputs.is_empty() {
        let choice = trained_on::choose_data(&path, &model.info, &args.model)?;
        let (name, mut inputs) = trained_on::load_split(&choice, args.split)?;
        trained_on::preprocess(&path, &model, &mut inputs, &choice.spec.to_string())?;
        sources.push(Source { name, inputs });
    }
    for file in &args.inputs {
        let mut inputs = read_file(file, &model, args)?;
        trained_on::preprocess(&path, &model, &mut inputs, &file.display().to_string())?;
        let name = file.display().to_string();
        sources.push(Source { name, inputs });
    }
    let with_file = sources.len() > 1;
    let with_label = sources.iter().any(|s| s.inputs.labels.is_some());
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut header = Vec::new();
    if with_file {
        header.push("file".to_owned());
    }
    header.extend(["row", "predicted", "probability"].map(String::from));
    if with_label {
        header.push("label".to_owned());
    }
    if args.probabilities {
        header.extend((0..model.info.classes).map(|k| format!("p{k}")));
    }
    writeln!(out, "{}", header.join(","))?;
    for source in &sources {
        let file = csv_field(&source.name);
        let labels = source.inputs.labels.as_deref();
        score_blocks(
            &model.net,
            source.inputs.features.view(),
            |block| -> Outcome {
                for (i, (&p, logp)) in block
                    .predicted
                    .iter()
                    .zip(block.log_probabilities.rows())
                    .enumerate()
                {
                    let row = block.first + i;
                    if with_file {
                        write!(out, "{file},")?;
                    }
                    write!(out, "{row},{p},{:.6}", logp[p].exp())?;
                    if with_label {
                        match labels {
                            Some(labels) => write!(out, ",{}", labels[row])?,
                            None => write!(out, ",")?,
                        }
                    }
                    if args.probabilities {
                        for l in logp {
                            write!(out, ",{:.6}", l.exp())?;
                        }
                    }
                    writeln!(out)?;
                }
                Ok(())
            },
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Reads one input file: a picture (PNG or JPEG, by its first bytes) as one row, anything
/// else as CSV or IDX images ([`read_inputs`]).
fn read_file(file: &Path, model: &SavedModel, args: &PredictArgs) -> Outcome<Inputs> {
    if !picture::is_picture(file) {
        let d = model.net.inputs();
        return Ok(read_inputs(file, d)?);
    }
    let picture = picture::read_picture(file, model, args.invert)?;
    if picture.inverted && args.invert == crate::args::Invert::Auto {
        // A note, not an error: the prediction goes on; stderr keeps it out of the CSV.
        let _ = writeln!(
            io::stderr(),
            "note: {}: inverted its brightness to match the model's training images \
             (--invert no keeps it as it is)",
            file.display()
        );
    }
    let width = picture.row.len();
    let features = Array2::from_shape_vec((1, width), picture.row)
        .map_err(|e| Failure::running(format!("picture {}: {e}", file.display())))?;
    Ok(Inputs {
        features,
        labels: None,
        // Already in the training images' units after input_scale.
        units: model.info.input_scale,
        image: model.info.image,
    })
}

/// `text` as one CSV field: quoted (with `"` doubled) if it holds a comma, quote or line
/// break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
