//! What is there now, for [`super::decide`]: files on disk, services, distributions, data.
//! Looks only; changes nothing (so `--dry-run` can use it too).

use super::decide::Observed;
use crate::datacheck::DataSeen;
use crate::plan::Plan;
use crate::render::RenderedFile;
use crate::runner::{AnyRunner, Runner, RunnerError};
use crate::spec::ServiceSpec;

pub async fn observe(
    runner: &AnyRunner,
    plan: &Plan,
    specs: &[ServiceSpec],
    files: &[RenderedFile],
    verify_signature: bool,
) -> Result<Observed, RunnerError> {
    let mut seen = Observed {
        files: files
            .iter()
            .map(|f| (f.target.clone(), std::fs::read_to_string(&f.target).ok()))
            .collect(),
        data: DataSeen::observe(
            &plan.kafka.data_dir,
            plan.zookeeper.as_ref().map(|z| z.data_dir.as_path()),
        ),
        ..Observed::default()
    };
    for spec in specs {
        seen.services
            .insert(spec.name, runner.state(spec.name).await?);
    }
    let dists = plan
        .zookeeper
        .iter()
        .map(|z| (&z.artifact, &z.dist_dir))
        .chain([(&plan.kafka.artifact, &plan.kafka.dist_dir)]);
    for (artifact, dir) in dists {
        if crate::fetch::is_installed(dir, artifact, verify_signature) {
            seen.installed_dists.insert(dir.clone());
        }
    }
    Ok(seen)
}
