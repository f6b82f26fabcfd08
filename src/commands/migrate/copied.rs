//! Whether the controllers have copied the metadata from ZooKeeper: read in what the active
//! controller logs when it is done, never guessed. A log keeps earlier runs' lines (a
//! migration rolled back and begun again), so the lines are counted: only one more than
//! before the brokers' phase says that this copy is done.

use crate::error::Problem;
use crate::paths::Paths;
use crate::runner::{LogTail, Runner};
use crate::vocab::{NodeId, Role};
use anyhow::Result;
use futures_util::StreamExt;
use std::time::Duration;

/// What the active controller logs once the metadata is in KRaft (lower case: the releases
/// spell ZooKeeper differently).
const COPIED: &str = "completed migration of metadata from zookeeper to kraft";

/// How much of each controller's log is read.
const LOG_LINES: usize = 1_000_000;

/// The "completed migration" lines in every controller's log.
pub async fn count(paths: &Paths) -> Result<usize> {
    let env = crate::environment::Environment::open(paths).await?;
    let runner = env.runner()?;
    let mut total = 0;
    for node in controllers(&env) {
        total += count_in(runner, node).await;
    }
    Ok(total)
}

/// Waits until a controller logs one more finished copy than `before`.
pub async fn wait(paths: &Paths, before: usize, timeout: Duration) -> Result<()> {
    use crate::poll::Attempt;
    let deadline = tokio::time::Instant::now() + timeout.max(Duration::from_secs(60));
    let copied = || async {
        match count(paths).await {
            Ok(now) if now > before => Attempt::Ready(()),
            Ok(_) => Attempt::NotYet(()),
            Err(_) => Attempt::NotYet(()),
        }
    };
    crate::poll::until(deadline, Duration::from_millis(500), copied)
        .await
        .map_err(|_| {
            Problem::new(
                format!(
                    "the controllers did not log the end of the metadata's copy from ZooKeeper within {} s",
                    timeout.as_secs().max(60)
                ),
                "`kafkup logs controller` says why; `kafkup migrate --to kraft` again resumes, `kafkup migrate --rollback` goes back",
            )
            .into()
        })
}

fn controllers(env: &crate::environment::Environment) -> Vec<NodeId> {
    let services = env.manifest.services.iter().map(|s| s.spec.name);
    services.filter(|n| n.role() == Role::Controller).collect()
}

async fn count_in(runner: &impl Runner, node: NodeId) -> usize {
    let tail = LogTail {
        lines: LOG_LINES,
        follow: false,
    };
    let Ok(mut stream) = runner.logs(node, tail).await else {
        return 0;
    };
    let mut text = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        text.extend_from_slice(&chunk);
    }
    String::from_utf8_lossy(&text)
        .to_lowercase()
        .matches(COPIED)
        .count()
}
