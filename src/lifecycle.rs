//! Bringing services up and down through a runner, in dependency order, with one deadline
//! for readiness. Shared by setup's executor and by start, stop, restart, probe and teardown.

use crate::probe::{self, ProbeOutcome, TopicAccess};
use crate::report::Reporter;
use crate::runner::{AnyRunner, Runner};
use crate::spec::{ProbeSpec, ServiceName, ServiceSpec};
use anyhow::Result;
use std::time::Duration;

/// How often the probes are polled while waiting.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// A service with the command line its runner runs.
pub type Launch<'a> = (&'a ServiceSpec, &'a [String]);

/// Starts the given services in order; a running one is left alone and said to be.
pub async fn start_all(
    runner: &AnyRunner,
    services: &[Launch<'_>],
    reporter: &dyn Reporter,
) -> Result<()> {
    for (spec, command) in services {
        let was_running = runner.state(spec.name).await?.is_running();
        let state = runner.start(spec, command).await?;
        let verb = if was_running {
            "was already running"
        } else {
            "started"
        };
        reporter.step(&format!("{} {verb} ({})", spec.name, state.describe()));
    }
    Ok(())
}

/// Stops the given services in reverse order, each within its grace period.
pub async fn stop_all(
    runner: &AnyRunner,
    specs: &[&ServiceSpec],
    reporter: &dyn Reporter,
) -> Result<()> {
    for spec in specs.iter().rev() {
        let outcome = runner.stop(spec.name, spec.stop_grace()).await?;
        reporter.step(&format!("{} {}", spec.name, outcome.describe()));
    }
    Ok(())
}

/// Waits until every probe `include` accepts passes, in order, within `timeout`; fails at
/// once if one of the services dies meanwhile.
pub async fn wait_ready(
    runner: &AnyRunner,
    specs: &[&ServiceSpec],
    timeout: Duration,
    reporter: &dyn Reporter,
    include: impl Fn(&ProbeSpec) -> bool,
) -> Result<Vec<ProbeOutcome>, probe::NotReady> {
    let deadline = tokio::time::Instant::now() + timeout;
    let probes: Vec<ProbeSpec> = specs
        .iter()
        .flat_map(|s| s.probes.iter().filter(|p| include(p)).cloned())
        .collect();
    let names: Vec<ServiceName> = specs.iter().map(|s| s.name).collect();
    let alive = || all_alive(runner, &names);
    probe::wait_ready(
        &probes,
        TopicAccess::CreateIfMissing,
        deadline,
        PROBE_INTERVAL,
        alive,
        reporter,
    )
    .await
}

async fn all_alive(runner: &AnyRunner, names: &[ServiceName]) -> Result<(), String> {
    for name in names {
        runner.alive(*name).await.map_err(|e| e.to_string())?;
    }
    Ok(())
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
