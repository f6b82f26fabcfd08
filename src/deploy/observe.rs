//! What is there now, for [`super::decide`]: files on disk, services, distributions, data.
//! Looks only; changes nothing (so `--dry-run` can use it too).

use super::decide::Observed;
use crate::datacheck::{holds_kafka_data, holds_zookeeper_data};
use crate::deployment::Deployment;
use crate::runner::{AnyRunner, Runner, RunnerError};
use crate::vocab::{NodeId, Role, RunnerKind};

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
    Ok(seen)
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

/// Every node's data directory, as its service sees it.
pub fn data_dirs(want: &Deployment) -> Vec<(NodeId, std::path::PathBuf)> {
    let dirs = want
        .launches
        .iter()
        .map(|l| (l.id, l.view.data_dir.clone()));
    dirs.collect()
}
