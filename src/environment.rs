//! An environment `setup` made: its manifest, and the runner its services run under. What
//! every command after `setup` starts from.

use crate::error::Problem;
use crate::paths::Paths;
use crate::runner::{AnyRunner, Runner, RunnerContext};
use crate::spec::ServiceName;
use crate::state::{self, Manifest, ServiceRecord};
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
        let runner = match &manifest.runner {
            Some(record) => {
                let mut ctx = RunnerContext::new(&manifest.paths, None);
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
        let dir = |name| {
            self.manifest
                .service(name)
                .and_then(|r| r.spec.data_dirs.first().cloned())
        };
        let Some(kafka) = dir(ServiceName::Kafka) else {
            return Ok(());
        };
        let zookeeper = dir(ServiceName::Zookeeper);
        let Ok(seen) = runner.data_seen(&kafka, zookeeper.as_deref()).await else {
            return Ok(());
        };
        crate::datacheck::check(Some(&self.manifest), self.manifest.mode, &seen)
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
        let wanted = ServiceName::parse(name);
        match all.iter().find(|s| Some(s.spec.name) == wanted) {
            Some(record) => Ok(vec![*record]),
            None => Err(Problem::usage(
                format!("no service {name:?} in this environment"),
                format!(
                    "it has: {}",
                    all.iter()
                        .map(|s| s.spec.name.as_str())
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
