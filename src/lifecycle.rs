//! Bringing services up and down through a runner, in dependency order, with one deadline
//! for readiness. Shared by setup's executor and by start, stop, restart, probe and teardown.

use crate::poll::Attempt;
use crate::probe::{self, NodeProbe, ProbeOutcome, TopicAccess};
use crate::report::Reporter;
use crate::runner::{AnyRunner, NotRunning, Runner, ServiceState, StopOutcome};
use crate::spec::{ProbeSpec, ServiceSpec};
use crate::vocab::NodeId;
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
        let before = runner.state(spec.name).await?;
        let state = runner.start(spec, command).await?;
        let verb = match before {
            ServiceState::Running { .. } => "was already running",
            ServiceState::Paused { .. } => "was paused and continues",
            _ => "started",
        };
        reporter.step(&format!("{} {verb} ({})", spec.name, state.describe()));
    }
    Ok(())
}

/// A service `stop_all` stopped, and how.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stopped {
    pub service: NodeId,
    pub outcome: StopOutcome,
}

/// Stops the given services in reverse order, each within its grace period; then checks
/// that nothing serves their ports any more, so that no caller says "stopped" (or deletes
/// data) while something it cannot see still serves them. Paused ones are all continued
/// first: a broker stopping cleanly needs its ZooKeeper or controllers awake.
pub async fn stop_all(
    runner: &AnyRunner,
    specs: &[&ServiceSpec],
    reporter: &dyn Reporter,
) -> Result<Vec<Stopped>> {
    let mut stopped = Vec::with_capacity(specs.len());
    for spec in specs {
        if runner.state(spec.name).await?.is_paused() {
            runner.resume(spec.name).await?;
            reporter.step(&format!(
                "{} was paused: continued, to stop cleanly",
                spec.name
            ));
        }
    }
    for spec in specs.iter().rev() {
        let outcome = runner.stop(spec.name, spec.stop_grace()).await?;
        reporter.step(&format!("{} {}", spec.name, outcome.describe()));
        stopped.push(Stopped {
            service: spec.name,
            outcome,
        });
    }
    for spec in specs {
        ports_closed(spec).await?;
    }
    Ok(stopped)
}

/// How long a stopped service's port may take to close (a container's published port goes
/// with its proxy).
const PORT_CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Nothing accepts connections on the ports of a service that was just stopped.
async fn ports_closed(spec: &ServiceSpec) -> Result<(), StillServed> {
    for &port in &spec.ports {
        let deadline = tokio::time::Instant::now() + PORT_CLOSE_WAIT;
        let closed = || async move {
            let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
            match tokio::time::timeout(Duration::from_millis(500), connect).await {
                Ok(Ok(_)) => Attempt::NotYet(()),
                _ => Attempt::Ready(()),
            }
        };
        if crate::poll::until(deadline, PROBE_INTERVAL, closed)
            .await
            .is_err()
        {
            return Err(StillServed {
                service: spec.name,
                port,
                holder: crate::preflight::port_holder(port),
            });
        }
    }
    Ok(())
}

/// A service was stopped (or was not running), yet its port still accepts connections.
#[derive(Debug, thiserror::Error)]
#[error("{service} is stopped as far as kafkup can see, but its port {port} still accepts connections{}: a process kafkup does not know of serves it (this environment's, started by another user or with its pid file lost?)", holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
pub struct StillServed {
    pub service: NodeId,
    pub port: u16,
    /// "pid 1234 (java): …" when /proc tells.
    pub holder: Option<String>,
}

impl crate::error::Diagnose for StillServed {
    fn help(&self) -> Option<String> {
        Some(format!(
            "stop that process (`sudo ss -ltnp 'sport = :{}'` names it), then run this again; nothing else was changed",
            self.port
        ))
    }
}

/// Waits until every probe `include` accepts passes, in order, within `timeout`. A service
/// that dies meanwhile fails the wait at once — unless it died of a start failure that passes
/// by itself (see [`passing_failure`]): then it is started again, within the same deadline.
pub async fn wait_ready(
    runner: &AnyRunner,
    services: &[Launch<'_>],
    timeout: Duration,
    reporter: &dyn Reporter,
    include: impl Fn(&ProbeSpec) -> bool,
) -> Result<Vec<ProbeOutcome>, probe::NotReady> {
    let deadline = tokio::time::Instant::now() + timeout;
    let probes: Vec<NodeProbe> = services
        .iter()
        .flat_map(|(s, _)| s.probes.iter().filter(|p| include(p)).map(|p| (s.name, p)))
        .collect();
    let names: Vec<NodeId> = services.iter().map(|(s, _)| s.name).collect();
    loop {
        let alive = || all_alive(runner, &names);
        let access = TopicAccess::CreateIfMissing;
        let waited =
            probe::wait_ready(&probes, access, deadline, PROBE_INTERVAL, alive, reporter).await;
        let err = match waited {
            Ok(outcomes) => return Ok(outcomes),
            Err(err) => err,
        };
        let retry = err.died.as_ref().and_then(passing_failure);
        let launch = err
            .died
            .as_ref()
            .and_then(|d| services.iter().find(|(s, _)| s.name == d.service));
        let room = tokio::time::Instant::now() + RETRY_PAUSE < deadline;
        let (Some(what), Some((spec, command)), true) = (retry, launch, room) else {
            return Err(err);
        };
        reporter.step(&format!(
            "{} stopped while starting: waiting for {what}, then starting it again",
            spec.name
        ));
        tokio::time::sleep(RETRY_PAUSE).await;
        if runner.start(spec, command).await.is_err() {
            return Err(err);
        }
    }
}

/// How long to wait before starting a service again after a passing start failure.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// A start failure that passes by itself, and what it waits for. After a broker is killed,
/// its ZooKeeper session (and with it the ephemeral `/brokers/ids/<id>`) lives on until the
/// session times out; a new broker with the same id fails to register until then.
pub fn passing_failure(died: &NotRunning) -> Option<&'static str> {
    let said = |what: &str| died.log_tail.iter().any(|l| l.contains(what));
    (said("NodeExistsException") && said("/brokers/ids/")).then_some(
        "the dead broker's ZooKeeper session (which still holds its registration) to expire",
    )
}

/// Every one of `names` runs; else why the first that does not.
async fn all_alive(runner: &AnyRunner, names: &[NodeId]) -> Result<(), NotRunning> {
    for name in names {
        runner.alive(*name).await?;
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
            "`kafkup start` starts what is stopped and continues what is paused (`kafkup setup` after a teardown); `kafkup logs SERVICE` shows why one failed"
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn died(lines: &[&str]) -> NotRunning {
        NotRunning {
            service: NodeId::solo(crate::vocab::Role::Kafka),
            how: "exited with status 1".into(),
            log_tail: lines.iter().map(|l| l.to_string()).collect(),
            log_name: "kafka.log".into(),
        }
    }

    #[test]
    fn a_stale_broker_registration_is_a_passing_failure() {
        let mut lines = vec![
            "[2026-12-01] ERROR Error while creating ephemeral at /brokers/ids/1, node already \
             exists and owner '72' does not match current session '73'",
            "org.apache.zookeeper.KeeperException$NodeExistsException: KeeperErrorCode = NodeExists",
        ];
        // Far more shutdown lines follow than a death notice shows.
        lines.extend(["INFO shutting down"; 30]);
        let stale = died(&lines);
        assert!(
            !stale.to_string().contains("NodeExists"),
            "shown: the last lines only"
        );
        assert!(passing_failure(&stale)
            .unwrap()
            .contains("ZooKeeper session"));
        assert_eq!(passing_failure(&died(&["boom"])), None);
    }
}
