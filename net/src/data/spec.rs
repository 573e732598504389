//! [`DataSpec`], the command line's name for a data source, and [`load`]: both read the
//! table of [`FORMATS`](super::FORMATS).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::format::{find_format, Argument, Format, FORMATS};
use super::{DataError, Splits};

/// A data source, as named on a command line: a [`Format`] of [`FORMATS`] and its argument
/// (see [`FromStr`](#impl-FromStr-for-DataSpec)). The default is the built-in digits.
#[derive(Debug, Clone)]
pub struct DataSpec {
    /// The row of [`FORMATS`].
    format: &'static Format,
    /// What followed the colon, in canonical form; `""` when there is none (or the default).
    arg: String,
}

impl FromStr for DataSpec {
    type Err = DataError;

    /// Parses `NAME` or `NAME:ARGUMENT` for a format of [`FORMATS`]: `digits |
    /// spiral[:POINTS,CLASSES] | cifar10:DIR | mnist:DIR | csv:FILE`. The name before the colon
    /// is case-insensitive; everything after the first colon is the argument (a path, as
    /// given).
    ///
    /// ```
    /// use tapegrad_net::data::DataSpec;
    /// let mnist: DataSpec = "MNIST:/data/mnist".parse()?;
    /// assert_eq!((mnist.name(), mnist.path()), ("mnist", Some("/data/mnist".as_ref())));
    /// assert_eq!("digits".parse::<DataSpec>()?, DataSpec::default());
    /// assert!("imagenet:/x".parse::<DataSpec>().is_err());
    /// # Ok::<(), tapegrad_net::data::DataError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| DataError::Spec {
            spec: s.to_owned(),
            reason,
        };
        let (name, arg) = match s.split_once(':') {
            Some((name, arg)) => (name.trim(), Some(arg)),
            None => (s.trim(), None),
        };
        if name.is_empty() {
            return Err(bad("it is empty".to_owned()));
        }
        let format = find_format(name).ok_or_else(|| {
            bad(format!(
                "unknown data source '{}'",
                name.to_ascii_lowercase()
            ))
        })?;
        let arg = match (format.argument, arg) {
            (Argument::None, None) => String::new(),
            (Argument::None, Some(_)) => {
                return Err(bad(format!("{} takes no argument", format.name)))
            }
            (Argument::Path(_), Some(path)) if !path.trim().is_empty() => path.to_owned(),
            (Argument::Path(what), _) => {
                return Err(bad(format!(
                    "{} needs a {what}: {}",
                    format.name, format.syntax
                )))
            }
            (Argument::Optional(_), None) => String::new(),
            (Argument::Optional(check), Some(arg)) => check(arg).map_err(bad)?,
        };
        Ok(DataSpec { format, arg })
    }
}

impl Default for DataSpec {
    /// The built-in digits, the first row of [`FORMATS`].
    fn default() -> Self {
        DataSpec {
            format: &FORMATS[0],
            arg: String::new(),
        }
    }
}

impl PartialEq for DataSpec {
    /// The same format and the same argument, as written (see [`DataSpec::same_source`] for
    /// paths that name the same file).
    fn eq(&self, other: &Self) -> bool {
        self.format.name == other.format.name && self.arg == other.arg
    }
}

impl Eq for DataSpec {}

impl DataSpec {
    /// The format's row of [`FORMATS`].
    pub fn format(&self) -> &'static Format {
        self.format
    }

    /// The format's name (`"digits"`, `"mnist"`, ...).
    pub fn name(&self) -> &'static str {
        self.format.name
    }

    /// The file or directory the spec names, for formats that read files.
    pub fn path(&self) -> Option<&Path> {
        matches!(self.format.argument, Argument::Path(_)).then(|| Path::new(&self.arg))
    }

    /// The factor this source's reader multiplies the file's numbers by: `1/16` for digits
    /// (block counts 0..16 to `[0, 1]`), `1/255` for CIFAR-10 and MNIST (bytes to `[0, 1]`),
    /// 1 for spiral and CSV (numbers used as written). A model records its training data's
    /// scale as `input_scale`, so that numbers in the file's own units (a CSV of raw 0..16
    /// counts, say) are brought to the net's units the same way.
    ///
    /// ```
    /// use tapegrad_net::data::DataSpec;
    /// assert_eq!(DataSpec::default().input_scale(), 1.0 / 16.0);
    /// assert_eq!("csv:x.csv".parse::<DataSpec>()?.input_scale(), 1.0);
    /// # Ok::<(), tapegrad_net::data::DataError>(())
    /// ```
    pub fn input_scale(&self) -> f64 {
        self.format.input_scale
    }

    /// Whether [`load`]'s split depends on the seed: digits, spiral and CSV are split (and
    /// spiral generated) from it; CIFAR-10 and MNIST keep their published test sets.
    pub fn split_is_seeded(&self) -> bool {
        self.format.split_is_seeded
    }

    /// The spec with its path made absolute (against the current directory, without
    /// resolving links), so that it names the same files from any directory: what a model
    /// file records.
    pub fn absolute(&self) -> DataSpec {
        match self.path().map(std::path::absolute) {
            Some(Ok(path)) => DataSpec {
                format: self.format,
                arg: path.to_string_lossy().into_owned(),
            },
            _ => self.clone(),
        }
    }

    /// Whether two specs name the same data: the same format and argument, and paths that
    /// lead to the same file or directory (compared after resolving links when both exist,
    /// as absolute paths otherwise).
    ///
    /// ```
    /// use tapegrad_net::data::DataSpec;
    /// let a: DataSpec = "spiral".parse()?;
    /// assert!(a.same_source(&"spiral:100,3".parse()?));
    /// assert!(!a.same_source(&DataSpec::default()));
    /// # Ok::<(), tapegrad_net::data::DataError>(())
    /// ```
    pub fn same_source(&self, other: &DataSpec) -> bool {
        match (self.path(), other.path()) {
            (Some(a), Some(b)) if self.name() == other.name() => {
                match (a.canonicalize(), b.canonicalize()) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
                }
            }
            _ => self == other,
        }
    }
}

impl fmt::Display for DataSpec {
    /// Writes the spec in the syntax [`FromStr`] parses: the name, then `:` and the argument
    /// when there is one (`spiral` for the default spiral).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.format.name)?;
        if !self.arg.is_empty() {
            write!(f, ":{}", self.arg)?;
        }
        Ok(())
    }
}

/// Loads the data a spec names, split into train, validation and test sets, by its format's
/// loader.
///
/// `seed` fixes the random split of the sources without a standard one (digits, spiral, CSV:
/// 70/15/15%); CIFAR-10 and MNIST keep their standard test sets and take the last 1,000 or
/// 5,000 training examples for validation, so the seed does not matter for them.
///
/// ```
/// use tapegrad_net::data::{load, DataSpec};
/// let splits = load(&DataSpec::default(), 7)?;
/// assert_eq!(splits.train.len(), 1258);
/// # Ok::<(), tapegrad_net::data::DataError>(())
/// ```
pub fn load(spec: &DataSpec, seed: u64) -> Result<Splits, DataError> {
    (spec.format.load)(&spec.arg, seed)
}
