//! An environment `setup` made: its manifest, and the runner its services run under. What
//! every command after `setup` starts from.

use crate::error::Problem;
use crate::paths::Paths;
use crate::runner::{AnyRunner, Runner, RunnerContext};
use crate::state::{self, Manifest, ServiceRecord};
use crate::vocab::NodeId;
use anyhow::Result;

pub struct Environment {
    pub manifest: Manifest,
    /// None after `teardown`: no services are installed.
    pub runner: Option<AnyRunner>,
}

impl Environment {
    /// The environment under `paths`; an error saying to run `setup` when there is none.
    pub async fn open(paths: &Paths) -> Result<Environment> {
        let manifest = state::require(paths)?;
        crate::security::connect_as(
            &crate::security::inputs_of(&manifest),
            crate::security::ADMIN,
        );
        let runner = match &manifest.runner {
            Some(record) => {
                let nodes = manifest.services.iter().map(|s| s.spec.name).collect();
                let mut ctx = RunnerContext::new(&manifest.paths, nodes, None);
                if !manifest.class_archive {
                    ctx.class_archives = None;
                }
                Some(AnyRunner::open(record.kind(), &ctx, Some(record)).await?)
            }
            None => None,
        };
        Ok(Environment { manifest, runner })
    }

    /// The runner, or an error saying the services were torn down.
    pub fn runner(&self) -> Result<&AnyRunner> {
        match (&self.runner, self.manifest.services.is_empty()) {
            (Some(runner), false) => Ok(runner),
            _ => Err(torn_down(&self.manifest).into()),
        }
    }

    /// Is the data still what was set up? (`start` refuses, `status` reports.) Nothing to
    /// check without services or a runner.
    pub async fn check_data(&self) -> Result<(), crate::datacheck::DataProblem> {
        let Ok(runner) = self.runner() else {
            return Ok(());
        };
        let Some(dirs) = self.data_dirs() else {
            return Ok(());
        };
        let Ok(seen) = runner.data_seen(&dirs).await else {
            return Ok(());
        };
        let recorded = self.manifest.cluster_id.as_deref();
        let known: Vec<NodeId> = self.manifest.services.iter().map(|s| s.spec.name).collect();
        // Mid-migration, nodes of both modes hold data.
        let migrating = self.manifest.settings.as_ref().and_then(|s| s.migration);
        let mode = migrating.is_none().then_some(self.manifest.mode);
        crate::datacheck::check(recorded, mode, &seen, &known)
    }

    /// Every node's data directory, as its service sees it; none without services.
    pub fn data_dirs(&self) -> Option<Vec<(NodeId, std::path::PathBuf)>> {
        let dirs: Vec<_> = self
            .manifest
            .services
            .iter()
            .filter_map(|s| Some((s.spec.name, s.spec.data_dirs.first()?.clone())))
            .collect();
        (!dirs.is_empty()).then_some(dirs)
    }

    /// The services a command acts on: all (in start order) or the one named.
    pub fn select(&self, service: Option<&str>) -> Result<Vec<&ServiceRecord>> {
        let all: Vec<&ServiceRecord> = self.manifest.services.iter().collect();
        if all.is_empty() {
            return Err(torn_down(&self.manifest).into());
        }
        let Some(name) = service else {
            return Ok(all);
        };
        match all.iter().find(|s| s.spec.name.answers_to(name)) {
            Some(record) => Ok(vec![*record]),
            None => Err(Problem::usage(
                format!("no service {name:?} in this environment"),
                format!(
                    "it has: {}",
                    all.iter()
                        .map(|s| s.spec.name.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .into()),
        }
    }
}

fn torn_down(manifest: &Manifest) -> Problem {
    Problem::new(
        format!(
            "the environment under {} has no services (it was torn down)",
            manifest.paths.state.display()
        ),
        "run `kafkup setup` to bring them back (the data was kept)",
    )
}
