//! Bringing services up and down through a runner, in dependency order, with one deadline
//! for readiness. Shared by setup, start, stop, restart and teardown.

use crate::paths::Paths;
use crate::probe::{self, ProbeOutcome};
use crate::report::Reporter;
use crate::runner::{ProcessRunner, Runner, RunnerKind, StopOutcome};
use crate::settings::Backend;
use crate::spec::{ProbeSpec, ServiceName, ServiceSpec};
use anyhow::{bail, Result};
use std::path::Path;
use std::time::Duration;

/// How long a service gets to shut down after SIGTERM before it is killed.
pub fn stop_grace(name: ServiceName) -> Duration {
    match name {
        // A broker flushes logs and closes segments: give it time.
        ServiceName::Kafka => Duration::from_secs(30),
        ServiceName::Zookeeper => Duration::from_secs(15),
    }
}

/// Picks the runner for `--backend`, saying why.
pub fn choose_backend(requested: Backend) -> Result<(RunnerKind, String)> {
    match requested {
        Backend::Process => Ok((
            RunnerKind::Process,
            "requested with --backend process".into(),
        )),
        Backend::Auto => Ok((
            RunnerKind::Process,
            "auto: the systemd and docker runners are not available in this build yet".into(),
        )),
        Backend::Systemd | Backend::Docker => bail!(
            "the {} runner is not implemented yet; use --backend process (or auto)",
            format!("{requested:?}").to_lowercase()
        ),
    }
}

pub fn runner_for(kind: RunnerKind, paths: &Paths) -> Result<Box<dyn Runner>> {
    match kind {
        RunnerKind::Process => Ok(Box::new(ProcessRunner::new(paths))),
        other => bail!("the {other} runner is not implemented yet"),
    }
}

/// Starts the given services in order (a running one is left alone), then waits until every
/// probe of every service passes, failing at once if a service dies.
pub async fn start_and_wait(
    runner: &dyn Runner,
    specs: &[&ServiceSpec],
    java: &Path,
    timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<Vec<ProbeOutcome>> {
    start_all(runner, specs, java, reporter)?;
    wait_ready(runner, specs, timeout, reporter).await
}

/// Installs and starts the given services in order; a running one is left alone.
pub fn start_all(
    runner: &dyn Runner,
    specs: &[&ServiceSpec],
    java: &Path,
    reporter: &dyn Reporter,
) -> Result<()> {
    for spec in specs {
        runner.install(spec, java)?;
        let state = runner.start(spec, java)?;
        reporter.step(&format!(
            "{} started ({})",
            spec.name,
            describe_state(&state)
        ));
    }
    Ok(())
}

pub async fn wait_ready(
    runner: &dyn Runner,
    specs: &[&ServiceSpec],
    timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<Vec<ProbeOutcome>> {
    wait_ready_with(runner, specs, timeout, reporter, |_| true).await
}

/// Like [`wait_ready`], with only the probes `include` accepts.
pub async fn wait_ready_with(
    runner: &dyn Runner,
    specs: &[&ServiceSpec],
    timeout: Duration,
    reporter: &dyn Reporter,
    include: impl Fn(&ProbeSpec) -> bool,
) -> Result<Vec<ProbeOutcome>> {
    let deadline = tokio::time::Instant::now() + timeout;
    let probes: Vec<_> = specs
        .iter()
        .flat_map(|s| s.probes.iter().filter(|p| include(p)).cloned())
        .collect();
    let names: Vec<ServiceName> = specs.iter().map(|s| s.name).collect();
    let alive = || -> Result<(), String> {
        for name in &names {
            runner.alive(*name)?;
        }
        Ok(())
    };
    Ok(probe::wait_ready(
        &probes,
        deadline,
        Duration::from_millis(100),
        &alive,
        reporter,
    )
    .await?)
}

/// Stops services in reverse dependency order.
pub fn stop_all(runner: &dyn Runner, names: &[ServiceName], reporter: &dyn Reporter) -> Result<()> {
    for name in names.iter().rev() {
        let outcome = runner.stop(*name, stop_grace(*name))?;
        let said = match outcome {
            StopOutcome::NotRunning => "was not running",
            StopOutcome::Terminated => "stopped",
            StopOutcome::Killed => "did not stop in time and was killed",
        };
        reporter.step(&format!("{name} {said}"));
    }
    Ok(())
}

pub fn describe_state(state: &crate::runner::ServiceState) -> String {
    use crate::runner::ServiceState::*;
    match state {
        Running {
            pid: Some(pid),
            detail,
        } if detail.is_empty() => format!("running, pid {pid}"),
        Running { detail, .. } => format!("running, {detail}"),
        Stopped => "stopped".into(),
        Failed { detail } => format!("failed: {detail}"),
    }
}

/// `status` found a service that is not running or not answering its probe.
#[derive(Debug, thiserror::Error)]
#[error("not every service is ready")]
pub struct NotAllReady;

impl crate::error::Diagnose for NotAllReady {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::NotReady
    }
    fn help(&self) -> Option<String> {
        Some(
            "`kafkup start` starts what is stopped (`kafkup setup` after a teardown); `kafkup logs SERVICE` shows why one failed"
                .into(),
        )
    }
}
