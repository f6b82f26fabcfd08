//! Exit codes and "help:" hints. Error types that a user can act on implement [`Diagnose`];
//! `main` looks for the first such error in an anyhow chain.

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

/// The exit code and hint of the first error in the chain that knows them.
pub fn diagnose(err: &anyhow::Error) -> (ExitCode, Option<String>) {
    for cause in err.chain() {
        macro_rules! try_type {
            ($($ty:ty),* $(,)?) => {
                $(if let Some(e) = cause.downcast_ref::<$ty>() {
                    return (e.exit_code(), e.help());
                })*
            };
        }
        try_type!(
            crate::catalog::CatalogError,
            crate::settings::SettingsError,
            crate::fetch::FetchError,
            crate::state::StateError,
            crate::java::JavaError,
            crate::render::RenderError,
            crate::runner::RunnerError,
            crate::preflight::PreflightError,
            crate::probe::NotReady,
            crate::lifecycle::NotAllReady,
            crate::lock::LockError,
            crate::probe::ProbeError,
            crate::selftest::SelftestError,
            crate::messaging::admin::AdminError,
        );
    }
    (ExitCode::Error, None)
}

impl Diagnose for crate::catalog::CatalogError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Usage
    }
    fn help(&self) -> Option<String> {
        crate::catalog::CatalogError::help(self)
    }
}
