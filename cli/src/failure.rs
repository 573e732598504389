//! What a command reports when it fails: one message and an exit code.

use std::fmt;

use tapegrad_net::data::DataError;
use tapegrad_net::NetError;

/// A failed command: the message printed after `error: ` and the process's exit code
/// (1: failed while running; 2: bad usage or bad input).
#[derive(Debug)]
pub struct Failure {
    /// What went wrong, one line; context may follow on further lines.
    pub message: String,
    /// The exit code.
    pub code: u8,
}

impl Failure {
    /// A failure caused by the user's input or flags (exit code 2).
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }

    /// A failure while running (exit code 1).
    pub fn running(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
        }
    }

    /// The same failure with a line of context in front: `context: message`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
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

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::running(e.to_string())
    }
}

/// Shorthand for a command's result.
pub type Outcome<T = ()> = Result<T, Failure>;
