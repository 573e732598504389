//! [`DataSpec`], the command line's name for a data source, and [`load`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::limits::quote;

use super::digits::DIGITS_MAX;
use super::file::PIXEL_MAX;
use super::spiral::spiral_size;
use super::{
    cifar10, csv, digits_splits, mnist, spiral_splits, DataError, Splits, SPIRAL_DEFAULT_CLASSES,
    SPIRAL_DEFAULT_POINTS,
};

/// The forms a data spec can take, as error messages list them.
pub const ACCEPTED_FORMS: &str =
    "digits, spiral, spiral:POINTS,CLASSES, cifar10:DIR, mnist:DIR, csv:FILE";

/// A data source, as named on a command line (see [`FromStr`](#impl-FromStr-for-DataSpec)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSpec {
    /// `digits`: the embedded 8x8 digits ([`digits`](super::digits)).
    Digits,
    /// `spiral` or `spiral:POINTS,CLASSES`: the synthetic spiral ([`spiral`](super::spiral)),
    /// 100 points per class and 3 classes by default.
    Spiral {
        /// Points per arm.
        points_per_class: usize,
        /// Number of arms (classes).
        classes: usize,
    },
    /// `cifar10:DIR`: CIFAR-10's binary files in DIR ([`cifar10`](super::cifar10())).
    Cifar10(PathBuf),
    /// `mnist:DIR`: MNIST or Fashion-MNIST IDX files in DIR ([`mnist`](super::mnist())).
    Mnist(PathBuf),
    /// `csv:FILE`: a CSV file of `feature,...,label` rows ([`csv`](super::csv())).
    Csv(PathBuf),
}

impl FromStr for DataSpec {
    type Err = DataError;

    /// Parses `digits | spiral[:POINTS,CLASSES] | cifar10:DIR | mnist:DIR | csv:FILE`. The
    /// kind before the colon is case-insensitive; everything after the first colon is the
    /// path, as given.
    ///
    /// ```
    /// use tapegrad_net::data::DataSpec;
    /// assert_eq!("digits".parse::<DataSpec>()?, DataSpec::Digits);
    /// assert_eq!("mnist:/data/mnist".parse::<DataSpec>()?, DataSpec::Mnist("/data/mnist".into()));
    /// assert!("imagenet:/x".parse::<DataSpec>().is_err());
    /// # Ok::<(), tapegrad_net::data::DataError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| DataError::Spec {
            spec: s.to_owned(),
            reason,
        };
        let (kind, arg) = match s.split_once(':') {
            Some((kind, arg)) => (kind.trim(), Some(arg)),
            None => (s.trim(), None),
        };
        let kind = kind.to_ascii_lowercase();
        let path = |arg: Option<&str>, what: &str, placeholder: &str| match arg {
            Some(a) if !a.trim().is_empty() => Ok(PathBuf::from(a)),
            _ => Err(bad(format!("{kind} needs a {what}: {kind}:{placeholder}"))),
        };
        match kind.as_str() {
            "digits" => match arg {
                None => Ok(DataSpec::Digits),
                Some(_) => Err(bad("digits takes no argument".to_owned())),
            },
            "spiral" => match arg {
                None => Ok(DataSpec::Spiral {
                    points_per_class: SPIRAL_DEFAULT_POINTS,
                    classes: SPIRAL_DEFAULT_CLASSES,
                }),
                Some(arg) => {
                    let parsed = arg
                        .split_once(',')
                        .and_then(|(p, c)| Some((p.trim().parse().ok()?, c.trim().parse().ok()?)));
                    match parsed {
                        Some((points_per_class, classes)) => {
                            spiral_size(points_per_class, classes).map_err(|reason| {
                                bad(format!("spiral:{points_per_class},{classes} {reason}"))
                            })?;
                            Ok(DataSpec::Spiral {
                                points_per_class,
                                classes,
                            })
                        }
                        None => Err(bad(format!(
                            "spiral's argument '{}' is not POINTS,CLASSES (two positive integers)",
                            quote(arg)
                        ))),
                    }
                }
            },
            "cifar10" => Ok(DataSpec::Cifar10(path(arg, "directory", "DIR")?)),
            "mnist" => Ok(DataSpec::Mnist(path(arg, "directory", "DIR")?)),
            "csv" => Ok(DataSpec::Csv(path(arg, "file", "FILE")?)),
            "" => Err(bad("it is empty".to_owned())),
            other => Err(bad(format!("unknown data source '{other}'"))),
        }
    }
}

impl DataSpec {
    /// The factor this source's reader multiplies the file's numbers by: `1/16` for digits
    /// (block counts 0..16 to `[0, 1]`), `1/255` for CIFAR-10 and MNIST (bytes to `[0, 1]`),
    /// 1 for spiral and CSV (numbers used as written). A model records its training data's
    /// scale as `input_scale`, so that numbers in the file's own units (a CSV of raw 0..16
    /// counts, say) are brought to the net's units the same way.
    ///
    /// ```
    /// use tapegrad_net::data::DataSpec;
    /// assert_eq!(DataSpec::Digits.input_scale(), 1.0 / 16.0);
    /// assert_eq!(DataSpec::Csv("x.csv".into()).input_scale(), 1.0);
    /// ```
    pub fn input_scale(&self) -> f64 {
        match self {
            DataSpec::Digits => 1.0 / f64::from(DIGITS_MAX),
            DataSpec::Cifar10(_) | DataSpec::Mnist(_) => 1.0 / f64::from(PIXEL_MAX),
            DataSpec::Spiral { .. } | DataSpec::Csv(_) => 1.0,
        }
    }

    /// Whether [`load`]'s split depends on the seed: digits, spiral and CSV are split (and
    /// spiral generated) from it; CIFAR-10 and MNIST keep their published test sets.
    pub fn split_is_seeded(&self) -> bool {
        match self {
            DataSpec::Digits | DataSpec::Spiral { .. } | DataSpec::Csv(_) => true,
            DataSpec::Cifar10(_) | DataSpec::Mnist(_) => false,
        }
    }

    /// The spec with its path made absolute (against the current directory, without
    /// resolving links), so that it names the same files from any directory: what a model
    /// file records.
    pub fn absolute(&self) -> DataSpec {
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        match self {
            DataSpec::Cifar10(dir) => DataSpec::Cifar10(abs(dir)),
            DataSpec::Mnist(dir) => DataSpec::Mnist(abs(dir)),
            DataSpec::Csv(file) => DataSpec::Csv(abs(file)),
            other => other.clone(),
        }
    }

    /// Whether two specs name the same data: the same kind and size, and paths that lead to
    /// the same file or directory (compared after resolving links when both exist, as
    /// absolute paths otherwise).
    ///
    /// ```
    /// use tapegrad_net::data::DataSpec;
    /// let a: DataSpec = "spiral".parse()?;
    /// assert!(a.same_source(&"spiral:100,3".parse()?));
    /// assert!(!a.same_source(&DataSpec::Digits));
    /// # Ok::<(), tapegrad_net::data::DataError>(())
    /// ```
    pub fn same_source(&self, other: &DataSpec) -> bool {
        let same_path = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
        };
        match (self, other) {
            (DataSpec::Cifar10(a), DataSpec::Cifar10(b))
            | (DataSpec::Mnist(a), DataSpec::Mnist(b))
            | (DataSpec::Csv(a), DataSpec::Csv(b)) => same_path(a, b),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for DataSpec {
    /// Writes the spec in the syntax [`FromStr`] parses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSpec::Digits => f.write_str("digits"),
            DataSpec::Spiral {
                points_per_class,
                classes,
            } if (*points_per_class, *classes)
                == (SPIRAL_DEFAULT_POINTS, SPIRAL_DEFAULT_CLASSES) =>
            {
                f.write_str("spiral")
            }
            DataSpec::Spiral {
                points_per_class,
                classes,
            } => {
                write!(f, "spiral:{points_per_class},{classes}")
            }
            DataSpec::Cifar10(dir) => write!(f, "cifar10:{}", dir.display()),
            DataSpec::Mnist(dir) => write!(f, "mnist:{}", dir.display()),
            DataSpec::Csv(file) => write!(f, "csv:{}", file.display()),
        }
    }
}

/// Loads the data a spec names, split into train, validation and test sets.
///
/// `seed` fixes the random split of the sources without a standard one (digits, spiral, CSV:
/// 70/15/15%); CIFAR-10 and MNIST keep their standard test sets and take the last 1,000 or
/// 5,000 training examples for validation, so the seed does not matter for them.
///
/// ```
/// use tapegrad_net::data::{load, DataSpec};
/// let splits = load(&DataSpec::Digits, 7)?;
/// assert_eq!(splits.train.len(), 1258);
/// # Ok::<(), tapegrad_net::data::DataError>(())
/// ```
pub fn load(spec: &DataSpec, seed: u64) -> Result<Splits, DataError> {
    match spec {
        DataSpec::Digits => digits_splits(seed),
        DataSpec::Spiral {
            points_per_class,
            classes,
        } => spiral_splits(*points_per_class, *classes, seed),
        DataSpec::Cifar10(dir) => cifar10(dir),
        DataSpec::Mnist(dir) => mnist(dir),
        DataSpec::Csv(file) => csv(file, seed),
    }
}
