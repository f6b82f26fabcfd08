//! What is there now, for [`super::decide`]: files on disk, services, distributions, data.
//! Looks only; changes nothing (so `--dry-run` can use it too).

use super::decide::Observed;
use crate::deployment::Deployment;
use crate::runner::{AnyRunner, DataDirs, Runner, RunnerError};
use crate::vocab::Role;

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
    for launch in &want.launches {
        seen.services
            .insert(launch.id, runner.state(launch.id).await?);
    }
    for dist in want.dists() {
        let verify = want.sources.verify_signature;
        if crate::fetch::is_installed(&dist.dir, &dist.artifact, verify) {
            seen.installed_dists.insert(dist.dir.clone());
        }
    }
    Ok(seen)
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
