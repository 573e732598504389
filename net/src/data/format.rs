//! [`FORMATS`]: the data formats `--data` accepts, one row each. The spec parser, its error
//! message, [`DataSpec`](super::DataSpec)'s `Display`, [`load`](super::load) and the
//! command line's help all read this table: a new format is a reader file and a row here.

use super::digits::DIGITS_MAX;
use super::file::PIXEL_MAX;
use super::spiral::{load_spiral, spiral_argument};
use super::{cifar10, csv, digits_splits, mnist, DataError, Splits};

/// One data format: how a spec names it, what its argument is, and how it loads.
#[derive(Debug)]
pub struct Format {
    /// The name before the colon (`mnist`), matched case-insensitively.
    pub name: &'static str,
    /// The forms of a spec, as help and error messages show them (`mnist:DIR`).
    pub syntax: &'static str,
    /// One line on what the data is.
    pub about: &'static str,
    /// What may follow the colon.
    pub argument: Argument,
    /// Loads the data, split into train, validation and test sets, from the spec's argument
    /// (`""` when there is none; a path for [`Argument::Path`]) and the seed of the split.
    pub load: fn(&str, u64) -> Result<Splits, DataError>,
    /// The factor the reader multiplies the file's numbers by (see
    /// [`DataSpec::input_scale`](super::DataSpec::input_scale)).
    pub input_scale: f64,
    /// Whether the split depends on the seed (sources without a published test set).
    pub split_is_seeded: bool,
}

/// What may follow the colon of a spec.
#[derive(Debug, Clone, Copy)]
pub enum Argument {
    /// Nothing: the format takes no argument (`digits`).
    None,
    /// A path, required: what it names (`"directory"`, `"file"`), for error messages.
    Path(&'static str),
    /// An optional argument in the format's own syntax: the function checks it and returns
    /// its canonical form (`""` for the default), or says why it is wrong.
    Optional(fn(&str) -> Result<String, String>),
}

/// Every data format, in the order help and error messages list them.
pub const FORMATS: &[Format] = &[
    Format {
        name: "digits",
        syntax: "digits",
        about: "built in: 1,797 8x8 handwritten digits (UCI optdigits, CC BY 4.0)",
        argument: Argument::None,
        load: |_, seed| digits_splits(seed),
        input_scale: 1.0 / DIGITS_MAX as f64,
        split_is_seeded: true,
    },
    Format {
        name: "spiral",
        syntax: "spiral[:POINTS,CLASSES]",
        about: "generated 2-D points on CLASSES noisy arms (default 100 points, 3 arms)",
        argument: Argument::Optional(spiral_argument),
        load: load_spiral,
        input_scale: 1.0,
        split_is_seeded: true,
    },
    Format {
        name: "cifar10",
        syntax: "cifar10:DIR",
        about: "CIFAR-10's binary batches (data_batch_1.bin .. test_batch.bin) in DIR",
        argument: Argument::Path("directory"),
        load: |dir, _| cifar10(dir),
        input_scale: 1.0 / PIXEL_MAX as f64,
        split_is_seeded: false,
    },
    Format {
        name: "mnist",
        syntax: "mnist:DIR",
        about: "MNIST or Fashion-MNIST IDX files (plain or .gz) in DIR",
        argument: Argument::Path("directory"),
        load: |dir, _| mnist(dir),
        input_scale: 1.0 / PIXEL_MAX as f64,
        split_is_seeded: false,
    },
    Format {
        name: "csv",
        syntax: "csv:FILE",
        about: "rows of features then an integer label (optional header; plain or .gz)",
        argument: Argument::Path("file"),
        load: |file, seed| csv(file, seed),
        input_scale: 1.0,
        split_is_seeded: true,
    },
];

/// The accepted forms, as error messages list them: `digits, spiral[:POINTS,CLASSES], ...`.
pub fn accepted_forms() -> String {
    FORMATS
        .iter()
        .map(|f| f.syntax)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The format named `name` (case-insensitive).
pub fn find_format(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}
