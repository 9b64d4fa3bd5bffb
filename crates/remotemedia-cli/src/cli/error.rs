//! CLI failures and their exit codes.

use std::process::ExitCode;

use remotemedia::{Error, NodeError};

/// A failure with the exit code it maps to and the lines to print on stderr.
#[derive(Debug)]
pub struct CliError {
    code: u8,
    lines: Vec<String>,
    /// Printed after the error lines as is (a Python node's traceback).
    detail: Option<String>,
}

impl CliError {
    /// Exit code 2: bad usage, manifest or input data.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            lines: vec![message.into()],
            detail: None,
        }
    }

    /// Exit code 1: the pipeline failed while running, or output failed.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            lines: vec![message.into()],
            detail: None,
        }
    }

    /// Exit code 3: many files ran and at least one failed.
    pub fn files_failed(message: impl Into<String>) -> Self {
        Self {
            code: 3,
            lines: vec![message.into()],
            detail: None,
        }
    }

    /// Exit code 130: interrupted by Ctrl-C (the summary was printed already).
    pub fn interrupted() -> Self {
        Self {
            code: 130,
            lines: vec!["interrupted".into()],
            detail: None,
        }
    }

    /// Prints `error: ...` lines on stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        for line in &self.lines {
            eprintln!("error: {line}");
        }
        if let Some(detail) = &self.detail {
            eprint!("{}", detail.trim_end());
            eprintln!();
        }
        ExitCode::from(self.code)
    }
}

impl From<Error> for CliError {
    fn from(err: Error) -> Self {
        match &err {
            Error::InvalidManifest { origin, issues } => Self {
                code: 2,
                lines: issues.iter().map(|issue| format!("{origin}: {issue}")).collect(),
                detail: None,
            },
            Error::Node {
                cause: NodeError::Python(python),
                ..
            } if !python.traceback.is_empty() => Self {
                detail: Some(python.traceback.clone()),
                ..Self::runtime(err.to_string())
            },
            Error::Node { .. } | Error::SessionClosed => Self::runtime(err.to_string()),
            _ => Self::usage(err.to_string()),
        }
    }
}
