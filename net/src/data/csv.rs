//! The CSV reader: rows of `feature,...,feature,label`.

use std::path::Path;

use ndarray::Array2;

use super::file::DataFile;
use super::{DataError, Dataset, SplitFractions, Splits};
use crate::limits::{quote, MAX_CLASSES, MAX_CSV_LINE_BYTES, MAX_DATA_FILE_BYTES};

/// Labels must be below this, so that a stray huge label cannot make `classes` absurd: the
/// crate's one class limit, [`MAX_CLASSES`].
pub const MAX_CSV_CLASSES: usize = MAX_CLASSES;

/// The UTF-8 byte-order mark that spreadsheet programs put at the start of "CSV UTF-8".
const BOM: &str = "\u{feff}";

/// What a label field must be, for error messages.
const LABEL_EXPECTED: &str = "a class label (a non-negative integer below 65536)";

/// Parsed CSV content: row-major features, labels (if the rows have them), the feature
/// count and the row count.
pub(crate) struct Table {
    pub features: Vec<f32>,
    pub labels: Vec<usize>,
    pub dim: usize,
    pub rows: usize,
    pub labelled: bool,
}

/// How a CSV row's fields divide into features and a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Columns {
    /// Features, then a label (training data).
    LabelLast,
    /// Exactly this many features, then a label if the rows have one more field (data to
    /// score).
    Features(usize),
}

/// Parses one label field: a non-negative integer (`3`, or `3.0` as some tools write it).
fn parse_label(text: &str) -> Option<usize> {
    let label = match text.parse::<usize>() {
        Ok(label) => label,
        Err(_) => {
            let x = text.parse::<f64>().ok()?;
            if !(x >= 0.0 && x.fract() == 0.0 && x < MAX_CSV_CLASSES as f64) {
                return None;
            }
            x as usize
        }
    };
    (label < MAX_CSV_CLASSES).then_some(label)
}

/// Parses one feature field: a finite number. The error is what the field should have been.
fn parse_feature(text: &str) -> Result<f32, &'static str> {
    match text.parse::<f32>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err("a finite number"),
        Err(_) => Err("a number"),
    }
}

/// Trims a field of spaces and of one pair of surrounding double quotes.
fn clean(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .unwrap_or(f)
        .trim()
}

/// Parses CSV text line by line from `file`. A UTF-8 byte-order mark at the start is
/// skipped; blank lines are skipped; the first non-blank line is skipped as a header if any
/// of its fields is not a number. Fields are trimmed of spaces and of one pair of surrounding
/// double quotes. A line longer than [`MAX_CSV_LINE_BYTES`] or a file longer than
/// [`MAX_DATA_FILE_BYTES`] is refused as soon as that much has been read. `columns` says
/// whether the last field is a label.
pub(crate) fn parse(file: &mut DataFile, columns: Columns) -> Result<Table, DataError> {
    let path = file.path().to_path_buf();
    let mut table = Table {
        features: Vec::new(),
        labels: Vec::new(),
        dim: 0,
        rows: 0,
        labelled: true,
    };
    let mut fields_per_row = None;
    let mut first = true;
    let mut bytes = Vec::new();
    let mut line = 0;
    loop {
        line += 1;
        let start = file.offset();
        if start > MAX_DATA_FILE_BYTES {
            return Err(file.malformed(format!(
                "it holds more than {MAX_DATA_FILE_BYTES} bytes, the most a data file may hold"
            )));
        }
        if !file.read_line(line, MAX_CSV_LINE_BYTES, &mut bytes)? {
            break;
        }
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let at = start + e.valid_up_to() as u64;
            file.malformed(format!("line {line}: invalid UTF-8 at byte offset {at}"))
        })?;
        let text = if line == 1 {
            text.strip_prefix(BOM).unwrap_or(text)
        } else {
            text
        };
        let raw = text.strip_suffix('\n').unwrap_or(text);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        let row: Vec<&str> = raw.split(',').collect();
        if std::mem::take(&mut first) && row.iter().any(|f| clean(f).parse::<f64>().is_err()) {
            continue; // a header line
        }
        let expected = *fields_per_row.get_or_insert(row.len());
        if row.len() != expected {
            return Err(DataError::RaggedRow {
                path,
                line,
                fields: row.len(),
                expected,
            });
        }
        match columns {
            Columns::LabelLast if expected < 2 => {
                return Err(file.malformed(format!(
                    "line {line}: {expected} field, but a row needs at least 2 (features, then a label)"
                )));
            }
            Columns::LabelLast => {}
            Columns::Features(d) if expected == d => table.labelled = false,
            Columns::Features(d) if expected == d + 1 => {}
            Columns::Features(d) => {
                return Err(file.malformed(format!(
                    "line {line}: {expected} fields, but the model takes {d} features: a row \
                     needs {d} fields (no label) or {} (the last a label)",
                    d + 1
                )));
            }
        }
        let bad = |field: usize, text: &str, expected| DataError::BadField {
            path: path.clone(),
            line,
            field,
            text: quote(text),
            expected,
        };
        let (label_text, feature_texts) = match (table.labelled, row.split_last()) {
            (true, Some((label, features))) => (Some(*label), features),
            _ => (None, &row[..]),
        };
        for (i, field) in feature_texts.iter().enumerate() {
            let field = clean(field);
            let x = parse_feature(field).map_err(|expected| bad(i + 1, field, expected))?;
            table.features.push(x);
        }
        if let Some(label_text) = label_text {
            let label_text = clean(label_text);
            let label = parse_label(label_text)
                .ok_or_else(|| bad(row.len(), label_text, LABEL_EXPECTED))?;
            table.labels.push(label);
        }
        table.dim = feature_texts.len();
        table.rows += 1;
    }
    if table.rows == 0 {
        return Err(file.malformed("no data rows".to_owned()));
    }
    Ok(table)
}

/// Builds a [`Dataset`] from a parsed table, with `classes = max label + 1`.
pub(crate) fn to_dataset(name: &str, table: Table) -> Result<Dataset, DataError> {
    let classes = table.labels.iter().max().map_or(0, |&m| m + 1);
    let n = table.labels.len();
    let features = Array2::from_shape_vec((n, table.dim), table.features)
        .map_err(|e| DataError::Invalid(format!("data set {name}: {e}")))?;
    Dataset::new(name, features, table.labels, classes, None)
}

/// Reads a whole CSV file as one [`Dataset`], named after the file's stem.
///
/// Format: one example per line, `feature,...,feature,label`, comma separated; features are
/// numbers used as they are (no scaling), the label a non-negative integer (`3` or `3.0`)
/// below [`MAX_CSV_CLASSES`]; `classes` is the largest label + 1. A first line with a field
/// that is not a number is a header and skipped (a UTF-8 byte-order mark before it is
/// ignored); blank lines are skipped. The file is gunzipped if its name ends with `.gz` (or
/// it starts with the gzip magic number), and read a line at a time: lines longer than
/// [`MAX_CSV_LINE_BYTES`] and files longer than [`MAX_DATA_FILE_BYTES`] are refused.
pub fn read_csv(path: impl AsRef<Path>) -> Result<Dataset, DataError> {
    let path = path.as_ref();
    let table = parse(&mut open(path)?, Columns::LabelLast)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .map(|n| {
            n.trim_end_matches(".gz")
                .trim_end_matches(".csv")
                .to_owned()
        })
        .unwrap_or_else(|| "csv".to_owned());
    to_dataset(&name, table)
}

/// Reads every row of a CSV file to score, for a model of `features` inputs: `features`
/// fields a row, or one more for a label (the first row decides, the others must follow).
/// Otherwise as [`read_csv`].
pub(crate) fn read_rows(path: &Path, features: usize) -> Result<Table, DataError> {
    parse(&mut open(path)?, Columns::Features(features))
}

/// Opens a CSV file; a missing one is [`DataError::MissingFile`].
fn open(path: &Path) -> Result<DataFile, DataError> {
    DataFile::open("csv", path).map_err(|e| match e {
        DataError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            DataError::MissingFile {
                format: "csv",
                dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                expected: "a CSV file of feature,...,feature,label rows, plain or gzipped (.gz)"
                    .to_owned(),
            }
        }
        other => other,
    })
}

/// Reads a CSV file (see [`read_csv`]) and splits it at random from `seed` into 70% train,
/// 15% validation and 15% test (see [`Dataset::shuffle_split`]).
pub fn csv(path: impl AsRef<Path>, seed: u64) -> Result<Splits, DataError> {
    read_csv(path)?.shuffle_split(SplitFractions::default(), seed)
}
