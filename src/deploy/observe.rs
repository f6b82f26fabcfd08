//! What is there now, for [`super::decide`]: files on disk, services, distributions, data.
//! Looks only; changes nothing (so `--dry-run` can use it too).

use super::decide::Observed;
use crate::plan::Plan;
use crate::render::RenderedFile;
use crate::runner::{AnyRunner, Runner, RunnerError};
use crate::spec::ServiceSpec;

/// `host` says where distributions are; `run` where the services keep their data.
pub async fn observe(
    runner: &AnyRunner,
    (host, run): (&Plan, &Plan),
    specs: &[ServiceSpec],
    files: &[RenderedFile],
    verify_signature: bool,
) -> Result<Observed, RunnerError> {
    let mut seen = Observed {
        files: files
            .iter()
            .map(|f| (f.target.clone(), std::fs::read_to_string(&f.target).ok()))
            .collect(),
        data: runner
            .data_seen(
                &run.kafka.data_dir,
                run.zookeeper.as_ref().map(|z| z.data_dir.as_path()),
            )
            .await?,
        ..Observed::default()
    };
    for spec in specs {
        seen.services
            .insert(spec.name, runner.state(spec.name).await?);
    }
    let dists = host
        .zookeeper
        .iter()
        .map(|z| (&z.artifact, &z.dist_dir))
        .chain([(&host.kafka.artifact, &host.kafka.dist_dir)]);
    for (artifact, dir) in dists {
        if crate::fetch::is_installed(dir, artifact, verify_signature) {
            seen.installed_dists.insert(dir.clone());
        }
    }
    Ok(seen)
}
