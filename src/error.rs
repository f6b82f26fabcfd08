//! Exit codes and `help:` hints: the one way an error tells the user what happened and what to
//! do. A leaf module: error types everywhere implement [`Diagnose`], and the binary's edge
//! (`main.rs`) finds the first one in an error chain.

/// The documented exit codes (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    Success = 0,
    Error = 1,
    Usage = 2,
    VerificationFailed = 3,
    NotReady = 4,
    SelftestFailed = 5,
    /// Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
    Interrupted = 130,
}

pub trait Diagnose {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Error
    }
    /// What the user can do about it, shown as a `help:` line.
    fn help(&self) -> Option<String> {
        None
    }
}

/// A one-off failure whose message, exit code and hint are all known where it happens, for
/// conditions that do not deserve an error enum of their own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    pub message: String,
    pub code: ExitCode,
    pub help: Option<String>,
}

impl Problem {
    /// Exit code 1 with a hint.
    pub fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            code: ExitCode::Error,
            help: Some(help.into()),
        }
    }

    /// Exit code 2: the command line or configuration asks for something that cannot be.
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Self {
        Problem {
            code: ExitCode::Usage,
            ..Problem::new(message, help)
        }
    }

    pub fn with_code(mut self, code: ExitCode) -> Self {
        self.code = code;
        self
    }
}

impl Diagnose for Problem {
    fn exit_code(&self) -> ExitCode {
        self.code
    }
    fn help(&self) -> Option<String> {
        self.help.clone()
    }
}

/// Whether a write failed because the file system is full (or the user's quota is).
pub fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.kind() == std::io::ErrorKind::QuotaExceeded
}

/// What to do about a write into `dir` that failed: room to make when the disk is full, else
/// `otherwise`.
pub fn write_help(dir: &std::path::Path, e: &std::io::Error, otherwise: String) -> String {
    match is_disk_full(e) {
        true => format!(
            "the file system holding {0} is full: free some space there (`df -h {0}` shows it) or choose another --root, then run again",
            dir.display()
        ),
        false => otherwise,
    }
}
