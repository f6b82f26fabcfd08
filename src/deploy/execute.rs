//! Carrying out a [`Decision`] with any runner. The manifest names what is about to be
//! created before it is created (and is saved before anything starts), so `teardown` always
//! finds what a run made, even after one that was interrupted; a failed first setup rolls
//! back what it installed.

use super::decide::{Action, Decision};
use crate::catalog::Mode;
use crate::error::Problem;
use crate::fetch::{FetchError, Installed, Sources};
use crate::lifecycle;
use crate::plan::Plan;
use crate::probe;
use crate::render::RenderedFile;
use crate::report::Reporter;
use crate::runner::{AnyRunner, Runner, Tool};
use crate::spec::{ProbeSpec, ServiceName, ServiceSpec};
use crate::state::{self, InstalledDist, Manifest, ServiceRecord};
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Everything the actions need.
pub struct Executor<'a> {
    pub runner: &'a AnyRunner,
    /// The host's plan: where files, distributions and state are.
    pub plan: &'a Plan,
    /// The plan as the services see it (in containers: their own paths).
    pub run_plan: &'a Plan,
    /// In start order, with the command lines the runner runs.
    pub services: &'a [(&'a ServiceSpec, Vec<String>)],
    pub files: &'a [RenderedFile],
    pub sources: &'a Sources,
    pub reporter: &'a dyn Reporter,
    /// No environment existed before this run: a failed fetch leaves nothing installed.
    pub first: bool,
    /// Services this run started so far (stopped again if they never become ready, or if
    /// setup is interrupted).
    pub started: std::sync::Mutex<Vec<ServiceName>>,
}

impl Executor<'_> {
    pub fn started(&self) -> Vec<ServiceName> {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

pub async fn execute(
    ex: &Executor<'_>,
    decision: &Decision,
    manifest: &mut Manifest,
) -> Result<()> {
    let started = Instant::now();
    let mut run = Run {
        ex,
        manifest,
        selftest_follows: decision.actions.contains(&Action::SelfTest),
        warm_up: None,
    };
    run.fetch(&decision.actions).await?;
    run.write_files(&decision.actions)?;
    for action in &decision.actions {
        run.act(action, started).await?;
    }
    run.finish()
}

struct Run<'a, 'm> {
    ex: &'a Executor<'a>,
    manifest: &'m mut Manifest,
    selftest_follows: bool,
    warm_up: Option<crate::selftest::WarmUp>,
}

impl Run<'_, '_> {
    fn save(&self) -> Result<()> {
        Ok(state::save(&self.ex.plan.paths, self.manifest)?)
    }

    async fn act(&mut self, action: &Action, started: Instant) -> Result<()> {
        let runner = self.ex.runner;
        match action {
            Action::Fetch { .. } | Action::WriteFile { .. } => {}
            Action::PrepareData { dirs } => self.prepare_data(dirs)?,
            Action::FormatStorage { cluster_id } => self.format_storage(cluster_id.clone()).await?,
            Action::Stop { service, .. } => {
                let outcome = runner
                    .stop(*service, self.spec(*service).stop_grace())
                    .await?;
                self.ex
                    .reporter
                    .step(&format!("{service} {}", outcome.describe()));
            }
            Action::Install { service, .. } => {
                let (spec, command) = self.launch(*service);
                runner.install(spec, command).await?;
            }
            Action::Start { service, .. } => self.start(*service).await?,
            Action::WaitReady { timeout_secs } => self.wait(*timeout_secs, started).await?,
            Action::RemoveDist { dir } => self.remove_dist(dir)?,
            Action::SelfTest => self.selftest().await?,
        }
        Ok(())
    }

    fn launches(&self) -> Vec<lifecycle::Launch<'_>> {
        self.ex
            .services
            .iter()
            .map(|(s, c)| (*s, c.as_slice()))
            .collect()
    }

    fn spec(&self, name: ServiceName) -> &ServiceSpec {
        self.launch(name).0
    }

    fn launch(&self, name: ServiceName) -> (&ServiceSpec, &[String]) {
        let (spec, command) = self
            .ex
            .services
            .iter()
            .find(|(s, _)| s.name == name)
            .expect("decide acts only on desired services");
        (spec, command)
    }

    /// Both distributions at once. Those that were installed are recorded; if one failed on
    /// a first setup, the others go back into the cache, so nothing stays installed.
    async fn fetch(&mut self, actions: &[Action]) -> Result<()> {
        let wanted: Vec<(&crate::catalog::Artifact, bool)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Fetch {
                    artifact,
                    installed,
                    ..
                } => Some((artifact, *installed)),
                _ => None,
            })
            .collect();
        let artifacts: Vec<_> = wanted.iter().map(|(a, _)| *a).collect();
        let paths = &self.ex.plan.paths;
        let results =
            crate::fetch::fetch_all(&artifacts, self.ex.sources, paths, self.ex.reporter).await;
        let failed = results.iter().any(Result::is_err);
        let mut first_error: Option<FetchError> = None;
        for (result, (_, was_installed)) in results.into_iter().zip(&wanted) {
            match result {
                Ok(done) if failed && self.ex.first && !was_installed => {
                    self.give_back(&done)?;
                }
                Ok(done) => self.remember_dist(&done),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(()),
            Some(e) if self.ex.first => Err(anyhow::Error::new(e).context(
                "setup stopped before installing anything (verified downloads stay in the cache)",
            )),
            Some(e) => {
                self.save()?;
                Err(e.into())
            }
        }
    }

    /// Undoes one install of a failed first setup: the tree goes back to the cache.
    fn give_back(&self, done: &Installed) -> Result<()> {
        let paths = &self.ex.plan.paths;
        crate::fetch::keep_in_cache(paths, &done.artifact, &done.sha512, &done.dir)?;
        crate::files::remove_dir_if_empty(&paths.install);
        Ok(())
    }

    fn remember_dist(&mut self, done: &Installed) {
        let dists = &mut self.manifest.dists;
        dists.retain(|d| d.dir != done.dir);
        dists.push(InstalledDist {
            artifact: done.artifact.clone(),
            dir: done.dir.clone(),
            sha512: done.sha512.clone(),
            source: done.source.clone(),
        });
    }

    /// Names every file and the services in the manifest first, saves it, then writes.
    fn write_files(&mut self, actions: &[Action]) -> Result<()> {
        let changed: Vec<&PathBuf> = actions
            .iter()
            .filter_map(|a| match a {
                Action::WriteFile { path, .. } => Some(path),
                _ => None,
            })
            .collect();
        for file in self.ex.files {
            let dir = file.target.parent().expect("rendered files have a parent");
            self.create_dirs(dir)?;
            self.manifest.remember_file(&file.target);
        }
        self.record_services();
        self.save()?;
        for file in self
            .ex
            .files
            .iter()
            .filter(|f| changed.contains(&&f.target))
        {
            crate::files::write_atomic(&file.target, file.contents.as_bytes(), file.mode)
                .with_context(|| format!("cannot write {}", file.target.display()))?;
            self.ex
                .reporter
                .step(&format!("wrote {}", file.target.display()));
        }
        Ok(())
    }

    /// What runs now, as the runner runs it, so that a later command finds it.
    fn record_services(&mut self) {
        let plan = self.ex.plan;
        let m = &mut *self.manifest;
        m.services = self
            .ex
            .services
            .iter()
            .map(|(spec, command)| ServiceRecord {
                spec: (*spec).clone(),
                command: command.clone(),
            })
            .collect();
        m.runner = Some(self.ex.runner.record());
        m.mode = plan.mode;
        m.host = plan.host.clone();
        m.kafka_port = plan.kafka.port;
        m.ready_timeout_secs = plan.ready_timeout_secs;
        m.kafkup_version = env!("CARGO_PKG_VERSION").into();
    }

    fn create_dirs(&mut self, dir: &Path) -> Result<()> {
        for made in crate::files::create_private_dirs(dir)? {
            self.manifest.remember_dir(&made);
        }
        Ok(())
    }

    fn prepare_data(&mut self, dirs: &[PathBuf]) -> Result<()> {
        for dir in dirs.iter().chain([&self.ex.plan.paths.logs()]) {
            self.create_dirs(dir)?;
        }
        self.manifest.selftest_passed_at = None;
        self.save()
    }

    /// KRaft storage, formatted once by the runner (as the service user, or in a container).
    async fn format_storage(&mut self, known: Option<String>) -> Result<()> {
        let cluster_id = known.unwrap_or_else(state::new_cluster_id);
        self.ex.reporter.step(&format!(
            "formatting KRaft storage in {} (cluster id {cluster_id})",
            self.ex.run_plan.kafka.data_dir.display()
        ));
        let java = self.launch(ServiceName::Kafka).1[0].clone();
        let tool = Tool {
            what: "KRaft storage format".into(),
            command: crate::spec::kraft_format_command(
                self.ex.run_plan,
                Path::new(&java),
                &cluster_id,
            ),
            writes: vec![self.ex.run_plan.kafka.data_dir.clone()],
            class_archive: Some(ServiceName::Kafka.as_str().into()),
        };
        let out = self.ex.runner.run_tool(&tool).await?;
        if !out.success {
            return Err(Problem::new(
                format!(
                    "formatting KRaft storage failed ({}):\n{}",
                    out.status, out.output
                ),
                "the output above says why; `kafkup teardown --purge` starts over",
            )
            .into());
        }
        self.manifest.cluster_id = Some(cluster_id);
        self.save()
    }

    async fn start(&mut self, name: ServiceName) -> Result<()> {
        let (spec, command) = self.launch(name);
        lifecycle::start_all(self.ex.runner, &[(spec, command)], self.ex.reporter).await?;
        self.ex
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name);
        if self.selftest_follows && self.warm_up.is_none() && name == ServiceName::Kafka {
            // While the probes wait, get the broker to create its group coordinator.
            let timeout = Duration::from_secs(self.ex.plan.ready_timeout_secs);
            self.warm_up = Some(crate::selftest::WarmUp::start(
                self.ex.plan.bootstrap_server(),
                timeout,
            ));
        }
        Ok(())
    }

    /// Every probe; the health topic's waits for the self-test, which runs beside it.
    async fn wait(&mut self, timeout_secs: u64, started: Instant) -> Result<()> {
        let launches = self.launches();
        let skip_topic = self.selftest_follows;
        let include =
            |p: &ProbeSpec| !(skip_topic && matches!(p, ProbeSpec::KafkaTopicReady { .. }));
        let timeout = Duration::from_secs(timeout_secs);
        let ready = lifecycle::wait_ready(
            self.ex.runner,
            &launches,
            timeout,
            self.ex.reporter,
            include,
        )
        .await;
        if let Err(err) = ready {
            if let Some(warm_up) = self.warm_up.take() {
                warm_up.finish().await;
            }
            return Err(self.not_ready(err).await);
        }
        self.ex.reporter.step(&format!(
            "ready after {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        if self.ex.plan.mode == Mode::Zookeeper {
            let run = self.ex.run_plan;
            let zk = run.zookeeper.as_ref().map(|z| z.data_dir.as_path());
            let seen = self.ex.runner.data_seen(&run.kafka.data_dir, zk).await?;
            self.manifest.cluster_id = seen.kafka_cluster_id.or(self.manifest.cluster_id.take());
        }
        self.save()
    }

    /// Leave nothing half-running: stop what this run started; files and data stay for
    /// `kafkup logs` and a later setup, and `teardown` removes them.
    async fn not_ready(&mut self, err: probe::NotReady) -> anyhow::Error {
        let names = self.ex.started();
        let started: Vec<&ServiceSpec> = names.iter().map(|n| self.spec(*n)).collect();
        let _ = lifecycle::stop_all(self.ex.runner, &started, self.ex.reporter).await;
        let logs = if self.ex.plan.zookeeper.is_some() {
            "`kafkup logs kafka` and `kafkup logs zookeeper`"
        } else {
            "`kafkup logs kafka`"
        };
        anyhow::Error::new(err).context(format!(
            "the services did not become ready; those started by this run were stopped (see {logs})"
        ))
    }

    fn remove_dist(&mut self, dir: &Path) -> Result<()> {
        if dir.starts_with(&self.ex.plan.paths.install) && dir.is_dir() {
            fs_err::remove_dir_all(dir)?;
            self.ex.reporter.step(&format!(
                "removed the replaced distribution {}",
                dir.display()
            ));
        }
        self.manifest.dists.retain(|d| d.dir != dir);
        self.save()
    }

    /// The self-test, and beside it the health-topic probe that the readiness wait skipped.
    async fn selftest(&mut self) -> Result<()> {
        let plan = self.ex.plan;
        let timeout = Duration::from_secs(plan.ready_timeout_secs);
        let launches = self.launches();
        let topic_only = |p: &ProbeSpec| matches!(p, ProbeSpec::KafkaTopicReady { .. });
        let bootstrap = plan.bootstrap_server();
        let reporter = self.ex.reporter;
        let messages = crate::defaults::SELFTEST_MESSAGES;
        let selftest = async {
            match &self.warm_up {
                Some(warm_up) => {
                    crate::selftest::run_after_warm_up(
                        &bootstrap, messages, timeout, reporter, warm_up,
                    )
                    .await
                }
                None => crate::selftest::run(&bootstrap, messages, timeout, reporter).await,
            }
        };
        let (report, health) = tokio::join!(
            selftest,
            lifecycle::wait_ready(self.ex.runner, &launches, timeout, reporter, topic_only),
        );
        if let Some(warm_up) = self.warm_up.take() {
            warm_up.finish().await;
        }
        let report = report?;
        health?;
        reporter.step(&format!("self-test passed: {}", report.summary()));
        self.manifest.selftest_passed_at = Some(unix_now());
        self.save()
    }

    fn finish(mut self) -> Result<()> {
        self.record_services();
        self.save()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
