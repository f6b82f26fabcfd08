//! What is there now, for [`super::decide`]: files on disk, services, distributions, data.
//! Looks only; changes nothing (so `--dry-run` can use it too).

use super::decide::Observed;
use crate::datacheck::{holds_kafka_data, holds_zookeeper_data};
use crate::deployment::Deployment;
use crate::messaging::admin::Admin;
use crate::runner::{AnyRunner, Runner, RunnerError};
use crate::state::Manifest;
use crate::vocab::{NodeId, Role, RunnerKind};
use std::collections::BTreeMap;

pub async fn observe(
    runner: &AnyRunner,
    want: &Deployment,
    previous: Option<&Manifest>,
) -> Result<Observed, RunnerError> {
    let mut dirs = data_dirs(want);
    let renames = super::renames::renames(previous, want);
    // A node about to be renamed has its data under the old name until it moves.
    for rename in &renames {
        let found = dirs.iter_mut().find(|(node, _)| *node == rename.to);
        if let (Some((_, dir)), false) = (found, runner.kind() == RunnerKind::Docker) {
            *dir = super::renames::data_now(rename).to_path_buf();
        }
    }
    let mut seen = Observed {
        files: want
            .files
            .iter()
            .map(|f| (f.target.clone(), std::fs::read_to_string(&f.target).ok()))
            .collect(),
        data: runner.data_seen(&dirs).await?,
        ..Observed::default()
    };
    if runner.kind() != RunnerKind::Docker {
        // Nodes the environment ran or retired: their data is its own, kept on purpose.
        let mut its_own: Vec<NodeId> = previous.map_or(vec![], |p| p.retired.clone());
        its_own.extend(
            previous
                .iter()
                .flat_map(|p| p.services.iter().map(|s| s.spec.name)),
        );
        seen.data.orphans = orphaned_data(want, &its_own);
    }
    for launch in &want.launches {
        seen.services
            .insert(launch.id, runner.state(launch.id).await?);
    }
    let mut known: Vec<u32> = seen.services.values().filter_map(|s| s.pid()).collect();
    // The old name of a renamed node is the environment's own until the rename stops it.
    for rename in &renames {
        known.extend(runner.state(rename.from).await?.pid());
    }
    // So are the nodes this setup retires until it stops them.
    let leaving = previous
        .iter()
        .flat_map(|p| p.services.iter().map(|s| s.spec.name));
    for node in leaving.filter(|n| want.launch(*n).is_none()) {
        known.extend(runner.state(node).await?.pid());
    }
    seen.strays = crate::runner::strays::under(&want.paths.config, &known);
    for dist in want.dists() {
        let verify = want.sources.verify_signature;
        if crate::fetch::is_installed(&dist.dir, &dist.artifact, verify) {
            seen.installed_dists.insert(dist.dir.clone());
        }
    }
    seen.topics = topics_seen(want, &seen).await;
    let now = time::OffsetDateTime::now_utc();
    seen.security = crate::security::store::plan(&want.security_inputs(), now)?;
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

/// Node data directories on the host that hold data of a node the deployment does not have
/// (nor had: `its_own` are the nodes it ran or retired with their data kept).
fn orphaned_data(want: &Deployment, its_own: &[NodeId]) -> Vec<(NodeId, std::path::PathBuf)> {
    let Ok(entries) = std::fs::read_dir(&want.paths.data) else {
        return vec![];
    };
    let mut orphans: Vec<_> = entries
        .flatten()
        .filter_map(|e| Some((NodeId::parse(e.file_name().to_str()?)?, e.path())))
        .filter(|(id, _)| !want.launches.iter().any(|l| l.id.answers_to(&id.name())))
        .filter(|(id, _)| !its_own.contains(id))
        .filter(|(id, dir)| match id.role() {
            Role::Zookeeper => holds_zookeeper_data(dir),
            Role::Controller | Role::Kafka => holds_kafka_data(dir),
        })
        .collect();
    orphans.sort();
    orphans
}

/// Every node's data directory, as its service sees it.
pub fn data_dirs(want: &Deployment) -> Vec<(NodeId, std::path::PathBuf)> {
    let dirs = want
        .launches
        .iter()
        .map(|l| (l.id, l.view.data_dir.clone()));
    dirs.collect()
}
