//! `augment.png` for a run with augmentation: the first training example of each of the first
//! few classes, beside augmented versions drawn as training draws them.

use std::path::Path;

use ndarray::Array2;
use tapegrad_net::augment::{Augment, Augmenter};
use tapegrad_net::data::{Dataset, MeanImage};

use crate::failure::{Failure, Outcome};
use crate::plot;
use crate::run_folder::AUGMENT_PICTURE;

/// Rows of the picture (classes shown) and augmented versions per row.
const EXAMPLES: usize = 6;
const VERSIONS: usize = 7;

/// Draws `augment.png` into `out` for `augment` on `train` (whose `mean` was subtracted); does
/// nothing when `augment` is none. Errors when the data have no images (naming `--augment`).
pub fn draw(
    out: &Path,
    augment: &Augment,
    train: &Dataset,
    mean: &MeanImage,
    seed: u64,
) -> Outcome {
    let offset = mean.as_array().as_slice().unwrap_or(&[]);
    let augmenter = Augmenter::new(augment, train.image(), Some(offset), 1, train.name())
        .map_err(|e| Failure::input(format!("--augment {}: {e}", augment.kind())))?;
    let Some(augmenter) = augmenter else {
        return Ok(());
    };
    let shape = augmenter.shape();
    let mut chosen: Vec<usize> = Vec::new();
    for class in 0..train.classes() {
        if let Some(i) = train.labels().iter().position(|&l| l == class) {
            chosen.push(i);
        }
        if chosen.len() == EXAMPLES {
            break;
        }
    }
    let d = shape.len();
    let raw = |mut row: ndarray::ArrayViewMut1<'_, f32>| row += mean.as_array();
    let mut originals = Array2::zeros((chosen.len(), d));
    let mut augmented = Vec::with_capacity(chosen.len());
    for (r, &i) in chosen.iter().enumerate() {
        let pixels = train.features().row(i).to_vec();
        originals.row_mut(r).assign(&train.features().row(i));
        raw(originals.row_mut(r));
        let mut versions = Array2::zeros((VERSIONS, d));
        augmenter.variants(&pixels, seed, i, versions.view_mut());
        for row in versions.rows_mut() {
            raw(row);
        }
        augmented.push(versions);
    }
    let views: Vec<_> = augmented.iter().map(|a| a.view()).collect();
    let title = format!(
        "Augmentation {}: an example, then its first {VERSIONS} epochs",
        describe(augment)
    );
    plot::augment_picture(
        &out.join(AUGMENT_PICTURE),
        shape,
        originals.view(),
        &views,
        &title,
    )
    .map_err(|e| Failure::running(e.to_string()))
}

/// `affine (rotate 12, scale 0.12, ...)`: the kind and its settings.
pub fn describe(augment: &Augment) -> String {
    let settings = match serde_json::to_value(augment) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(k, _)| k != "kind")
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    match settings.is_empty() {
        true => augment.kind().to_owned(),
        false => format!("{} ({})", augment.kind(), settings.join(", ")),
    }
}
