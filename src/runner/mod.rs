//! Runners decide *how* a [`ServiceSpec`] runs: as a detached process, a systemd unit or a
//! container. The command line is the spec's; a runner only starts, stops and observes it.
//!
//! The trait is synchronous on purpose: every operation is a few short system calls (or one short
//! `systemctl`/Engine API call), and the only wait, in `stop`, is bounded by `grace`.

pub mod process;

use crate::error::Diagnose;
use crate::spec::{ServiceName, ServiceSpec};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use process::ProcessRunner;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunnerKind {
    Process,
    Systemd,
    Docker,
}

impl RunnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunnerKind::Process => "process",
            RunnerKind::Systemd => "systemd",
            RunnerKind::Docker => "docker",
        }
    }
}

impl std::fmt::Display for RunnerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ServiceState {
    /// `pid` is None where the runner cannot tell (e.g. a container seen from outside).
    Running { pid: Option<u32>, detail: String },
    /// Not started, or stopped through kafkup.
    Stopped,
    /// Started by kafkup and not stopped through it, yet not running (crash, kill, reboot).
    Failed { detail: String },
}

impl ServiceState {
    pub fn is_running(&self) -> bool {
        matches!(self, ServiceState::Running { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopOutcome {
    /// Nothing was running (a stale pid file, if any, was removed).
    NotRunning,
    /// Exited after SIGTERM within the grace period.
    Terminated,
    /// Still running after the grace period, so it got SIGKILL.
    Killed,
}

/// Where a service's output can be read; `kafkup logs` turns this into a tail or a follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LogSource {
    File {
        path: PathBuf,
    },
    /// `journalctl -u <unit>`
    Journal {
        unit: String,
    },
    /// Container logs through the Engine API.
    Container {
        name: String,
    },
}

pub trait Runner: Send + Sync {
    fn kind(&self) -> RunnerKind;

    /// Prepares what `start` needs (unit file, container, user). Idempotent.
    fn install(&self, spec: &ServiceSpec, java: &Path) -> Result<(), RunnerError>;

    /// Starts the service unless it already runs; a running service is left alone (same pid).
    fn start(&self, spec: &ServiceSpec, java: &Path) -> Result<ServiceState, RunnerError>;

    /// SIGTERM, wait up to `grace`, then SIGKILL.
    fn stop(&self, name: ServiceName, grace: Duration) -> Result<StopOutcome, RunnerError>;

    fn state(&self, name: ServiceName) -> ServiceState;

    /// `Err` says why the service is not running, for readiness waits to fail early:
    /// "kafka exited with status 1; last log lines: …".
    fn alive(&self, name: ServiceName) -> Result<(), String>;

    fn log_source(&self, name: ServiceName) -> LogSource;

    /// Removes what `install` and `start` created; logs only with `purge`. The service must be
    /// stopped first.
    fn uninstall(&self, name: ServiceName, purge: bool) -> Result<(), RunnerError>;
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("could not start {name} ({program})")]
    Spawn {
        name: ServiceName,
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not send {signal} to {name} (pid {pid})")]
    Signal {
        name: ServiceName,
        pid: u32,
        signal: &'static str,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("{name} (pid {pid}) did not exit even after SIGKILL")]
    Unkillable { name: ServiceName, pid: u32 },
    #[error("{name} is still running (pid {pid})")]
    StillRunning { name: ServiceName, pid: u32 },
    /// File errors come from fs-err and name their path.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Diagnose for RunnerError {
    fn help(&self) -> Option<String> {
        match self {
            RunnerError::Spawn { .. } => {
                Some("check that Java is installed and that the path above exists".into())
            }
            RunnerError::Signal { .. } => Some(
                "it runs as another user: stop it as that user or as root (e.g. `sudo kafkup stop`)"
                    .into(),
            ),
            RunnerError::Unkillable { .. } => {
                Some("the process is stuck in the kernel (D state); check `ps -o stat,wchan -p PID`".into())
            }
            RunnerError::StillRunning { .. } => Some("run `kafkup stop` first".into()),
            RunnerError::Io(_) => None,
        }
    }
}
