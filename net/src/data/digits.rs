//! The embedded digits data set (UCI optdigits test partition, as scikit-learn ships it).

use std::path::Path;

use super::{csv, file, DataError, Dataset, ImageShape, SplitFractions, Splits};

/// The gzipped CSV, built into the library: 1,797 rows of 64 block counts (0..16, an 8x8
/// image row by row) then the label (0..9).
///
/// E. Alpaydin and C. Kaynak (1998), *Optical Recognition of Handwritten Digits*, UCI Machine
/// Learning Repository, <https://doi.org/10.24432/C50P49>, CC BY 4.0.
pub const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Number of examples in the digits set.
pub const DIGITS_LEN: usize = 1797;

/// The largest block count (a fully inked 4x4 block): [`digits`] divides by it to scale the
/// counts to `[0, 1]`.
pub(crate) const DIGITS_MAX: f32 = 16.0;

/// The pseudo-path that error messages about the embedded file name.
const EMBEDDED: &str = "<embedded>/digits.csv.gz";

/// The whole digits set, in file order: 1,797 8x8 grey images (64 features, scaled from the
/// block counts 0..16 to `[0, 1]` by dividing by 16), 10 classes. Named `"digits"`.
///
/// ```
/// let d = tapegrad_net::data::digits()?;
/// assert_eq!((d.len(), d.dim(), d.classes()), (1797, 64, 10));
/// # Ok::<(), tapegrad_net::data::DataError>(())
/// ```
pub fn digits() -> Result<Dataset, DataError> {
    let path = Path::new(EMBEDDED);
    let mut file = file::DataFile::from_reader("digits", path, DIGITS_CSV_GZ, true);
    let mut table = csv::parse(&mut file, csv::Columns::LabelLast)?;
    let shape = ImageShape::grey(8, 8);
    if table.dim != shape.len() {
        return Err(DataError::Malformed {
            format: "digits",
            path: path.to_path_buf(),
            detail: format!("rows have {} features, expected 64", table.dim),
        });
    }
    for x in &mut table.features {
        *x /= DIGITS_MAX;
    }
    let (n, dim) = (table.labels.len(), table.dim);
    let features = ndarray::Array2::from_shape_vec((n, dim), table.features)
        .map_err(|e| DataError::Invalid(format!("digits: {e}")))?;
    Dataset::new("digits", features, table.labels, 10, Some(shape))
}

/// The digits set split at random from `seed`: 1,258 train, 270 validation and 269 test
/// examples (70/15/15%, see [`Dataset::shuffle_split`]). The same seed gives the same split.
pub fn digits_splits(seed: u64) -> Result<Splits, DataError> {
    digits()?.shuffle_split(SplitFractions::default(), seed)
}
