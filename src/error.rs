//! The crate's error type.
//!
//! `Err` is for configuration and I/O only. Hostile or malformed *message content* never produces
//! an error: it becomes findings (anomalies, bad headers, unchecked objects), so no caller can
//! mistake "the parser gave up" for "clean".

use std::path::PathBuf;

/// An error building an engine or reading its configuration.
///
/// The type is opaque; [`Error::kind`] says what went wrong and [`std::fmt::Display`] says it in
/// words, naming the file and line where there is one.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// What kind of error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file or directory could not be read.
    Io,
    /// The TOML configuration is malformed or has an unknown key.
    Config,
    /// A limit or policy value is out of range.
    InvalidSetting,
    /// A signature database could not be loaded at all.
    Signatures,
    /// A rule file could not be loaded at all.
    Rules,
    /// The Bayes token store could not be opened or written.
    Bayes,
}

impl Error {
    /// Creates an error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Creates an I/O error that names the path involved.
    pub fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        let path = path.into();
        Error {
            kind: ErrorKind::Io,
            message: format!("{}: {err}", path.display()),
            source: Some(Box::new(err)),
        }
    }

    /// Attaches an underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
