//! What is there now, for [`super::decide`]: files on disk, services, distributions, data.
//! Looks only; changes nothing (so `--dry-run` can use it too).

use super::decide::Observed;
use crate::datacheck::{holds_kafka_data, holds_zookeeper_data};
use crate::deployment::Deployment;
use crate::messaging::admin::Admin;
use crate::runner::{AnyRunner, DataDirs, Runner, RunnerError};
use crate::vocab::{NodeId, Role, RunnerKind};
use std::collections::BTreeMap;

pub async fn observe(runner: &AnyRunner, want: &Deployment) -> Result<Observed, RunnerError> {
    let mut seen = Observed {
        files: want
            .files
            .iter()
            .map(|f| (f.target.clone(), std::fs::read_to_string(&f.target).ok()))
            .collect(),
        data: runner.data_seen(&data_dirs(want)).await?,
        ..Observed::default()
    };
    if runner.kind() != RunnerKind::Docker {
        seen.data.orphans = orphaned_data(want);
    }
    for launch in &want.launches {
        seen.services
            .insert(launch.id, runner.state(launch.id).await?);
    }
    let known: Vec<u32> = seen.services.values().filter_map(|s| s.pid()).collect();
    seen.strays = crate::runner::strays::under(&want.paths.config, &known);
    for dist in want.dists() {
        let verify = want.sources.verify_signature;
        if crate::fetch::is_installed(&dist.dir, &dist.artifact, verify) {
            seen.installed_dists.insert(dist.dir.clone());
        }
    }
    seen.topics = topics_seen(want, &seen).await;
    Ok(seen)
}

/// How long a running broker has to describe the declared topics before they are looked at
/// after readiness instead.
const TOPICS_LOOK: std::time::Duration = std::time::Duration::from_secs(5);

/// The declared topics that exist, as a running broker describes them; None when there are
/// none to look at, no broker runs, or none answers in time.
async fn topics_seen(
    want: &Deployment,
    seen: &Observed,
) -> Option<BTreeMap<String, crate::topics::TopicSeen>> {
    let up = want
        .of_role(Role::Kafka)
        .any(|l| seen.services.get(&l.id).is_some_and(|s| s.is_running()));
    if want.topics.is_empty() || !up {
        return None;
    }
    let admin = Admin::new(&want.bootstrap_server(), TOPICS_LOOK).ok()?;
    let names: Vec<&str> = want.topics.iter().map(|t| t.name.as_str()).collect();
    let described = admin.topics_seen(&names).await;
    admin.close().await;
    described
        .inspect_err(|e| tracing::debug!("the declared topics could not be looked at yet: {e}"))
        .ok()
}

/// Node data directories on the host that hold data of a node the deployment does not have.
fn orphaned_data(want: &Deployment) -> Vec<(NodeId, std::path::PathBuf)> {
    let Ok(entries) = std::fs::read_dir(&want.paths.data) else {
        return vec![];
    };
    let mut orphans: Vec<_> = entries
        .flatten()
        .filter_map(|e| Some((NodeId::parse(e.file_name().to_str()?)?, e.path())))
        .filter(|(id, _)| !want.launches.iter().any(|l| l.id.answers_to(&id.name())))
        .filter(|(id, dir)| match id.role() {
            Role::Zookeeper => holds_zookeeper_data(dir),
            Role::Controller | Role::Kafka => holds_kafka_data(dir),
        })
        .collect();
    orphans.sort();
    orphans
}

/// The first broker's and (ZooKeeper mode) the first ZooKeeper's data directory, as their
/// services see them.
pub fn data_dirs(want: &Deployment) -> DataDirs {
    let first = |role| {
        want.of_role(role)
            .next()
            .map(|l| (l.id, l.view.data_dir.clone()))
    };
    DataDirs {
        kafka: first(Role::Kafka).expect("a deployment has a broker"),
        zookeeper: first(Role::Zookeeper),
    }
}
