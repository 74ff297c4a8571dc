//! What can be wrong with a config, each as one line naming where.

use std::fmt;
use std::path::PathBuf;

/// A config that cannot be used, with where the problem is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {cause}")]
    Read {
        path: Location,
        cause: std::io::Error,
    },
    #[error("{path}: the file sets nothing; start from configs/default.toml")]
    Empty { path: Location },
    #[error("{path}: TOML syntax error: {message}")]
    Syntax { path: Location, message: String },
    #[error("{path}: unknown key `{key}`{hint}")]
    UnknownKey {
        path: Location,
        key: String,
        hint: Hint,
    },
    #[error("{path}: `{key}`: {message}")]
    WrongType {
        path: Location,
        key: String,
        message: String,
    },
    #[error("{path}: `{key}` {reason}")]
    Invalid {
        path: Location,
        key: String,
        reason: String,
    },
    #[error("--set {assignment}: {reason}")]
    BadOverride { assignment: String, reason: String },
}

/// A file, with the line of the problem when known: `configs/x.toml:12`.
#[derive(Debug, Clone)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        match self.line {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}

/// "did you mean" for a mistyped key; empty when nothing is close.
#[derive(Debug, Clone, Default)]
pub struct Hint(pub(super) Option<String>);

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(key) => write!(f, " (did you mean `{key}`?)"),
            None => Ok(()),
        }
    }
}
