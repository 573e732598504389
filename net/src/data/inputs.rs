//! [`Inputs`]: examples to score, in a file's order, with labels when the file has them; and
//! [`read_inputs`], which reads them from a CSV or IDX file.

use std::path::Path;

use ndarray::Array2;

use super::file::{DataFile, PIXEL_MAX};
use super::{csv, mnist, DataError, Dataset, ImageShape, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC};

/// Rows of features to score, in order, labelled or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// One example per row, in the units of [`Inputs::units`].
    pub features: Array2<f32>,
    /// One label per row, if the source has labels.
    pub labels: Option<Vec<usize>>,
    /// The factor the reader multiplied the file's numbers by (1 for CSV, 1/255 for IDX
    /// pixels): what `SavedModel::preprocess` takes as `units`.
    pub units: f64,
    /// The images' shape, for IDX images.
    pub image: Option<ImageShape>,
}

impl Inputs {
    /// The examples of a labelled data set, whose reader applied `units`
    /// ([`DataSpec::input_scale`](super::DataSpec::input_scale)).
    pub fn from_dataset(data: Dataset, units: f64) -> Self {
        let (_, features, labels, _, image) = data.into_parts();
        Self {
            features,
            labels: Some(labels),
            units,
            image,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.features.nrows()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads every example of `path`, in order, for a model of `features` inputs:
///
/// - an IDX images file (recognised by its magic number `0x00000803`, plain or gzipped):
///   every image, scaled to `[0, 1]` as the MNIST reader does, no labels;
/// - anything else as CSV: rows of exactly `features` numbers (no labels), or of
///   `features + 1` fields, the last a label (the first row decides; a header line is
///   skipped), read with the CSV reader's rules and limits.
///
/// An IDX *labels* file is refused with a message saying so.
pub fn read_inputs(path: &Path, features: usize) -> Result<Inputs, DataError> {
    // A peek at the first 4 (gunzipped) bytes; a file that cannot be read is left to the
    // reader below to report.
    let mut magic = Vec::with_capacity(4);
    if let Ok(mut file) = DataFile::open("idx", path) {
        let _ = file.read_up_to(4, &mut magic);
    }
    let magic = <[u8; 4]>::try_from(magic.as_slice())
        .ok()
        .map(u32::from_be_bytes);
    if magic == Some(IDX_IMAGES_MAGIC) {
        let (pixels, count, shape) = mnist::read_images(path)?;
        let features = Array2::from_shape_vec((count, shape.len()), pixels)
            .map_err(|e| DataError::Invalid(format!("IDX images {}: {e}", path.display())))?;
        return Ok(Inputs {
            features,
            labels: None,
            units: 1.0 / f64::from(PIXEL_MAX),
            image: Some(shape),
        });
    }
    if magic == Some(IDX_LABELS_MAGIC) {
        return Err(DataError::Malformed {
            format: "idx",
            path: path.to_path_buf(),
            detail: "it holds IDX labels, not images: give the images file".to_owned(),
        });
    }
    let table = csv::read_rows(path, features)?;
    let rows = table.rows;
    let features = Array2::from_shape_vec((rows, table.dim), table.features)
        .map_err(|e| DataError::Invalid(format!("csv file {}: {e}", path.display())))?;
    Ok(Inputs {
        features,
        labels: table.labelled.then_some(table.labels),
        units: 1.0,
        image: None,
    })
}
