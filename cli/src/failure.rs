//! What a command reports when it fails: a message and an exit code.

use std::fmt;
use std::io;

use tapegrad_net::atomic_write::WriteError;
use tapegrad_net::checkpoint::CheckpointError;
use tapegrad_net::config::ConfigError;
use tapegrad_net::data::DataError;
use tapegrad_net::limits::escape_controls;
use tapegrad_net::tensor_file::TensorFileError;
use tapegrad_net::tune::TuneError;
use tapegrad_net::NetError;

/// The exit code of a command stopped by Ctrl-C (128 + SIGINT).
pub const INTERRUPTED: u8 = 130;

/// The exit code of `tune collect` on a study with trials missing (its files are written for
/// the trials found).
pub const INCOMPLETE: u8 = 3;

/// A failed command: the message printed after `error: ` and the process's exit code
/// (1: failed while running; 2: bad usage or bad input). A closed standard output is not a
/// failure but a normal end: [`Failure::stdout_closed`], exit code 0 and nothing printed.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong, one line.
    pub message: String,
    /// Further lines of context, printed below the message.
    pub lines: Vec<String>,
    /// The exit code.
    pub code: u8,
}

impl Failure {
    /// A failure caused by the user's input or flags (exit code 2).
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            lines: Vec::new(),
            code: 2,
        }
    }

    /// A failure while running (exit code 1).
    pub fn running(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            lines: Vec::new(),
            code: 1,
        }
    }

    /// A study merged with trials missing (exit code [`INCOMPLETE`]).
    pub fn incomplete(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            lines: Vec::new(),
            code: INCOMPLETE,
        }
    }

    /// The user interrupted the command (Ctrl-C): exit code 130, as a shell reports a
    /// process ended by SIGINT; the message is printed without `error: `.
    pub fn interrupted(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            lines: Vec::new(),
            code: INTERRUPTED,
        }
    }

    /// Whether this is an interruption ([`Failure::interrupted`]).
    pub fn is_interrupted(&self) -> bool {
        self.code == INTERRUPTED
    }

    /// The reader of standard output went away (`tapegrad predict ... | head`): the command
    /// ends quietly with exit code 0, as if it had been told to stop.
    pub fn stdout_closed() -> Self {
        Failure {
            message: String::new(),
            lines: Vec::new(),
            code: 0,
        }
    }

    /// Whether this is the quiet end of [`Failure::stdout_closed`].
    pub fn is_quiet(&self) -> bool {
        self.code == 0
    }

    /// The same failure with a line of context in front: `context: message`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The same failure with one more line below the message.
    pub fn line(mut self, line: impl Into<String>) -> Self {
        self.lines.push(line.into());
        self
    }

    /// The text printed after `error: `: the message and its lines, one per line, with every
    /// control character inside them escaped, so that text taken from a file (a CSV field, a
    /// metadata value, a file name) cannot move the cursor, recolour or clear the terminal, or
    /// forge a line of its own.
    pub fn to_terminal(&self) -> String {
        let mut out = escape_controls(&self.message);
        for line in &self.lines {
            out.push('\n');
            out.push_str(&escape_controls(line));
        }
        out
    }
}

impl From<DataError> for Failure {
    fn from(e: DataError) -> Self {
        Failure::input(e.to_string())
    }
}

impl From<NetError> for Failure {
    fn from(e: NetError) -> Self {
        match e {
            NetError::Diverged { .. } | NetError::Tape(_) => Failure::running(e.to_string()),
            _ => Failure::input(e.to_string()),
        }
    }
}

/// A model or run-state file that cannot be read is bad input (exit code 2); one that cannot
/// be written is a failure of the run (exit code 1).
impl From<CheckpointError> for Failure {
    fn from(e: CheckpointError) -> Self {
        match e {
            CheckpointError::TensorFile(TensorFileError::Write { .. }) => {
                Failure::running(e.to_string())
            }
            _ => Failure::input(e.to_string()),
        }
    }
}

/// A hyperparameter that cannot work, blamed on its flag: `--hidden 0: needs at least 1
/// hidden unit` (exit code 2).
impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        let flag = crate::args::flag(e.setting);
        Failure::input(format!("{flag} {}: {}", e.value, e.problem))
    }
}

/// The tape refusing an operation is a failure of the run (exit code 1): the CLI's own
/// recordings are well-formed, so this is a bug, not bad input.
impl From<tapegrad_autograd::Error> for Failure {
    fn from(e: tapegrad_autograd::Error) -> Self {
        Failure::running(e.to_string())
    }
}

/// A search-space setting is blamed on its flag (`--lr 0.1 0.01: ...`); unreadable or
/// mismatched results are bad input (exit code 2); what cannot be written or trained is a
/// failure of the run.
impl From<TuneError> for Failure {
    fn from(e: TuneError) -> Self {
        match e {
            TuneError::Space { setting, problem } => {
                Failure::input(format!("--{} {problem}", setting.replace('_', "-")))
            }
            TuneError::Write(e) => e.into(),
            TuneError::Checkpoint(e) => e.into(),
            TuneError::Net(e) => e.into(),
            e => Failure::input(e.to_string()),
        }
    }
}

impl From<WriteError> for Failure {
    fn from(e: WriteError) -> Self {
        Failure::running(e.to_string())
    }
}

/// The commands' own I/O is printing to standard output (files are written through
/// [`tapegrad_net::atomic_write`], read by the library's readers): a broken pipe there means
/// the reader went away, which ends the command quietly.
impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::stdout_closed()
        } else {
            Failure::running(format!("cannot write to standard output: {e}"))
        }
    }
}

/// Shorthand for a command's result.
pub type Outcome<T = ()> = Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_text_kept() {
        assert_eq!(
            escape_controls("a\u{1b}[31mred\u{7}\tb\r\nc\u{0}"),
            "a\\u{1b}[31mred\\u{7}\\tb\\r\\nc\\u{0}"
        );
        assert_eq!(escape_controls("évé 数字 ok"), "évé 数字 ok");
        assert_eq!(escape_controls("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
    }

    #[test]
    fn only_the_lines_between_message_and_context_break() {
        let f = Failure::input("bad field 'a\nb'").line("second\u{1b} line");
        assert_eq!(f.to_terminal(), "bad field 'a\\nb'\nsecond\\u{1b} line");
    }

    #[test]
    fn a_model_file_that_cannot_be_read_is_bad_input_and_one_that_cannot_be_written_a_run_failure()
    {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.safetensors");
        let read = Failure::from(tapegrad_net::checkpoint::load_model(&missing).unwrap_err());
        assert_eq!(read.code, 2, "{}", read.message);
        let init = tapegrad_net::Init { std: 0.1, seed: 0 };
        let net = tapegrad_net::Mlp::<f32>::new(&[2, 3, 2], init).unwrap();
        let model = tapegrad_net::checkpoint::SavedModel {
            mean: tapegrad_net::data::MeanImage::from_array(ndarray::Array1::zeros(2)),
            net,
            info: tapegrad_net::checkpoint::ModelInfo {
                dataset: "x".into(),
                classes: 2,
                image: None,
                input_scale: 1.0,
                extra: Default::default(),
            },
        };
        let unwritable = dir.path().join("no-such-folder").join("model.safetensors");
        let e = tapegrad_net::checkpoint::save_model(&unwritable, &model).unwrap_err();
        let write = Failure::from(e);
        assert_eq!(write.code, 1, "{}", write.message);
    }

    #[test]
    fn a_bad_hyperparameter_is_bad_input_naming_its_flag() {
        let config = tapegrad_net::train::TrainConfig {
            batch_size: 0,
            ..Default::default()
        };
        let f = Failure::from(config.validate().unwrap_err());
        assert_eq!(f.code, 2);
        assert!(f.message.starts_with("--batch-size 0: "), "{}", f.message);
    }

    #[test]
    fn a_broken_pipe_is_a_quiet_end() {
        let f = Failure::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(f.is_quiet());
        assert_eq!(f.code, 0);
        let f = Failure::from(io::Error::other("disk on fire"));
        assert!(!f.is_quiet());
        assert!(f.message.contains("standard output"));
    }
}
