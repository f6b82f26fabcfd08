//! Waiting for readiness: each probe in order, polled inside one overall deadline, failing at
//! once when a service dies.

use super::{check, probe_label, secs, ProbeError, ProbeOutcome, TopicAccess};
use crate::error::{Diagnose, ExitCode};
use crate::poll::{self, Attempt, Stop};
use crate::report::Reporter;
use crate::runner::NotRunning;
use crate::spec::ProbeSpec;
use crate::vocab::NodeId;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// One poll inside `wait_ready` takes at most this, so `alive()` is asked often.
const POLL_LIMIT: Duration = Duration::from_secs(1);
/// Even at the deadline a poll gets this long, so a probe is tried at least once.
const POLL_MIN: Duration = Duration::from_millis(100);

/// A probe of a node.
pub type NodeProbe<'a> = (NodeId, &'a ProbeSpec);

/// A probe did not pass before the deadline, or a service died while we waited.
#[derive(Debug, thiserror::Error)]
#[error("{}", not_ready_message(self))]
pub struct NotReady {
    /// What was probed: "Kafka broker 1 at 127.0.0.1:9092".
    pub probe: String,
    /// The node probed.
    pub service: NodeId,
    /// From the start of `wait_ready`.
    pub waited: Duration,
    /// The last probe failure (none if a service died before the first try).
    #[source]
    pub last_error: Option<ProbeError>,
    /// The service that stopped while we waited, and how.
    pub died: Option<NotRunning>,
}

fn not_ready_message(e: &NotReady) -> String {
    match &e.died {
        Some(died) if died.service == e.service => format!(
            "gave up waiting for {} after {}: {died}",
            e.probe,
            secs(e.waited)
        ),
        // `alive()` checks every service: another one than the probed one is the culprit,
        // and the probed one is not to blame.
        Some(died) => format!("gave up waiting after {}: {died}", secs(e.waited)),
        None => format!("{} was not ready after {}", e.probe, secs(e.waited)),
    }
}

impl NotReady {
    /// The service to look at: the one that died, else the probed one.
    pub fn culprit(&self) -> NodeId {
        self.died.as_ref().map_or(self.service, |d| d.service)
    }
}

impl Diagnose for NotReady {
    fn exit_code(&self) -> ExitCode {
        ExitCode::NotReady
    }
    fn help(&self) -> Option<String> {
        let culprit = self.culprit();
        let logs = format!("`kafkup logs {culprit}` shows what the service said");
        match &self.died {
            // Stopped rather than crashed: it said nothing on its way out.
            Some(died) if died.log_tail.is_empty() => {
                Some(format!("`kafkup start {culprit}` starts it; {logs}"))
            }
            _ => Some(logs),
        }
    }
}

/// What stands between a probe and readiness.
enum Wait {
    Probe(ProbeError),
    Died(NotRunning),
}

/// Polls each probe in order every `interval` until it passes, all inside one `deadline`.
/// Before every poll `alive()` is asked, so a service that died fails at once with its
/// reason instead of waiting out the deadline.
pub async fn wait_ready<F, A>(
    probes: &[NodeProbe<'_>],
    access: TopicAccess,
    deadline: Instant,
    interval: Duration,
    alive: F,
    reporter: &dyn Reporter,
) -> Result<Vec<ProbeOutcome>, NotReady>
where
    F: Fn() -> A,
    A: Future<Output = Result<(), NotRunning>>,
{
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(probes.len());
    let alive = &alive;
    for &(node, spec) in probes {
        let label = probe_label(spec);
        reporter.step(&format!("waiting for {label}"));
        let attempt = || async move {
            if let Err(died) = alive().await {
                return Attempt::Failed(Wait::Died(died));
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            match check(spec, access, remaining.clamp(POLL_MIN, POLL_LIMIT)).await {
                Ok(outcome) => Attempt::Ready(outcome),
                Err(err) => Attempt::NotYet(Wait::Probe(err)),
            }
        };
        let (last, died) = match poll::until(deadline, interval, attempt).await {
            Ok(outcome) => {
                tracing::debug!("{label} ready after {:?}", start.elapsed());
                reporter.step(&outcome.description);
                outcomes.push(outcome);
                continue;
            }
            Err(Stop::Failed { failure, last }) => (last, Some(failure)),
            Err(Stop::TimedOut(last)) => (last, None),
        };
        let probe_error = |w: Option<Wait>| match w {
            Some(Wait::Probe(e)) => Some(e),
            _ => None,
        };
        let died = match died {
            Some(Wait::Died(d)) => Some(d),
            _ => None,
        };
        return Err(NotReady {
            probe: label,
            service: node,
            waited: start.elapsed(),
            last_error: probe_error(last),
            died,
        });
    }
    Ok(outcomes)
}

/// Runs each probe once, in order, each within `limit`; stops at the first that fails.
pub async fn check_all(
    probes: &[ProbeSpec],
    access: TopicAccess,
    limit: Duration,
) -> Result<Vec<ProbeOutcome>, ProbeError> {
    let mut outcomes = Vec::with_capacity(probes.len());
    for spec in probes {
        outcomes.push(check(spec, access, limit).await?);
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::super::zookeeper::testing::*;
    use super::*;
    use crate::report::Silent;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const ZK: NodeId = NodeId::solo(crate::vocab::Role::Zookeeper);
    const KAFKA: NodeId = NodeId::solo(crate::vocab::Role::Kafka);

    fn zk(port: u16) -> ProbeSpec {
        ProbeSpec::ZookeeperServing {
            host: "127.0.0.1".into(),
            port,
        }
    }

    async fn always_alive() -> Result<(), NotRunning> {
        Ok(())
    }

    fn died(service: NodeId, said: &str) -> NotRunning {
        NotRunning {
            service,
            how: "exited with status 1".into(),
            log_tail: vec![said.into()],
            log_name: "its log".into(),
        }
    }

    #[tokio::test]
    async fn waits_until_serving() {
        let (port, count) = fake_zookeeper(3).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let outcomes = wait_ready(
            &[(ZK, &zk(port))],
            TopicAccess::CreateIfMissing,
            deadline,
            Duration::from_millis(20),
            always_alive,
            &Silent,
        )
        .await
        .unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(
            outcomes[0].description,
            "ZooKeeper 3.8.4 standalone, 5 nodes"
        );
        assert_eq!(count.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn deadline_keeps_last_error() {
        let port = closed_port().await;
        let started = Instant::now();
        let err = wait_ready(
            &[(ZK, &zk(port))],
            TopicAccess::CreateIfMissing,
            started + Duration::from_millis(500),
            Duration::from_millis(50),
            always_alive,
            &Silent,
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(err.died.is_none());
        assert!(matches!(err.last_error, Some(ProbeError::Refused { .. })));
        assert_eq!(err.service, ZK);
        assert_eq!(err.exit_code(), ExitCode::NotReady);
        assert!(err.help().unwrap().contains("kafkup logs zookeeper"));
    }

    #[tokio::test]
    async fn dead_service_fails_at_once() {
        let port = closed_port().await;
        let started = Instant::now();
        let polls = AtomicUsize::new(0);
        let alive = || {
            let n = polls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Ok(())
                } else {
                    Err(died(ZK, "boom"))
                }
            }
        };
        let err = wait_ready(
            &[(ZK, &zk(port))],
            TopicAccess::CreateIfMissing,
            started + Duration::from_secs(60),
            Duration::from_millis(10),
            alive,
            &Silent,
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.died.as_ref().unwrap().to_string().contains("boom"));
        assert!(
            err.to_string()
                .starts_with("gave up waiting for ZooKeeper at"),
            "{err}"
        );
        assert!(err.help().unwrap().contains("kafkup logs zookeeper"));
        assert!(matches!(err.last_error, Some(ProbeError::Refused { .. })));
    }

    #[test]
    fn help_names_the_service_that_died() {
        let err = NotReady {
            probe: "ZooKeeper at 127.0.0.1:2181".into(),
            service: ZK,
            waited: Duration::from_secs(3),
            last_error: None,
            died: Some(died(KAFKA, "…")),
        };
        assert_eq!(err.culprit(), KAFKA);
        assert_eq!(
            err.to_string(),
            "gave up waiting after 3.0 s: kafka exited with status 1; last log lines:\n  …",
            "ZooKeeper, which was probed, is not blamed for kafka"
        );
    }

    #[tokio::test]
    async fn probes_run_in_order() {
        // The second probe never passes: the first one's outcome is not enough.
        let (port, _) = fake_zookeeper(0).await;
        let closed = closed_port().await;
        let err = wait_ready(
            &[(ZK, &zk(port)), (ZK, &zk(closed))],
            TopicAccess::CreateIfMissing,
            Instant::now() + Duration::from_millis(300),
            Duration::from_millis(50),
            always_alive,
            &Silent,
        )
        .await
        .unwrap_err();
        assert_eq!(err.probe, format!("ZooKeeper at 127.0.0.1:{closed}"));
    }
}
