//! Carrying out a [`Decision`] with any runner. The manifest names what is about to be
//! created before it is created (and is saved before anything starts), so `teardown` always
//! finds what a run made, even after one that was interrupted; a failed first setup rolls
//! back what it installed.

use super::decide::{Action, Decision};
use crate::deployment::Deployment;
use crate::error::Problem;
use crate::fetch::{FetchError, Installed};
use crate::lifecycle;
use crate::messaging::admin::Admin;
use crate::probe;
use crate::report::Reporter;
use crate::runner::{AnyRunner, Runner, Tool};
use crate::spec::{ProbeSpec, ServiceSpec};
use crate::state::{self, InstalledDist, Manifest, ServiceRecord};
use crate::topics::{TopicChange, TopicDecl};
use crate::vocab::{Mode, NodeId, Role};
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Everything the actions need.
pub struct Executor<'a> {
    pub runner: &'a AnyRunner,
    pub want: &'a Deployment,
    pub reporter: &'a dyn Reporter,
    /// No environment existed before this run: a failed fetch leaves nothing installed.
    pub first: bool,
    /// Services this run started so far (stopped again if they never become ready, or if
    /// setup is interrupted).
    pub started: std::sync::Mutex<Vec<NodeId>>,
}

impl Executor<'_> {
    pub fn started(&self) -> Vec<NodeId> {
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
        Ok(state::save(&self.ex.want.paths, self.manifest)?)
    }

    async fn act(&mut self, action: &Action, started: Instant) -> Result<()> {
        let runner = self.ex.runner;
        match action {
            Action::Setting(_) | Action::Fetch { .. } | Action::WriteFile { .. } => {}
            Action::PrepareData { dirs } => self.prepare_data(dirs)?,
            Action::FormatStorage { cluster_id, nodes } => {
                self.format_storage(cluster_id.clone(), nodes).await?
            }
            Action::Stop { service, .. } => {
                let outcome = runner
                    .stop(*service, self.spec(*service).stop_grace())
                    .await?;
                self.ex
                    .reporter
                    .step(&format!("{service} {}", outcome.describe()));
            }
            Action::Rename(rename) => self.rename(rename).await?,
            Action::Install { service, .. } => {
                let (spec, command) = self.launch(*service);
                runner.install(spec, command).await?;
            }
            Action::Start { service, .. } => self.start(*service).await?,
            Action::WaitReady { timeout_secs } => self.wait(*timeout_secs, started).await?,
            Action::WaitNode {
                service,
                timeout_secs,
            } => self.wait_node(*service, *timeout_secs).await?,
            Action::InSync { timeout_secs } => self.in_sync(*timeout_secs).await?,
            Action::Topic(change) => self.topic(change).await?,
            Action::RemoveDist { dir } => self.remove_dist(dir)?,
            Action::Retire { service } => self.retire(*service).await?,
            Action::ReleaseController => {
                super::migration::release_controller(runner, self.ex.want).await?;
                self.ex
                    .reporter
                    .step("deleted ZooKeeper's /migration and /controller");
            }
            Action::SelfTest => self.selftest().await?,
            Action::Secure(plan) => self.secure(plan)?,
            Action::ScramUsers => {
                self.ex
                    .reporter
                    .step("writing the SCRAM users into ZooKeeper");
                super::secure::scram_users(runner, self.ex.want).await?
            }
            Action::GrantAcls => {
                super::secure::grant_acls(self.ex.want).await?;
                self.ex.reporter.step("granted the developer user its ACLs");
            }
        }
        Ok(())
    }

    /// The security files: their directories and files recorded first, like rendered files.
    fn secure(&mut self, plan: &crate::security::store::Plan) -> Result<()> {
        for (file, _) in &plan.files {
            self.create_dirs(file.parent().expect("security files have a directory"))?;
            self.manifest.remember_file(file);
        }
        self.save()?;
        super::secure::make_files(self.ex.want)?;
        self.ex
            .reporter
            .step(&format!("secured: {}", plan.describe()));
        Ok(())
    }

    /// A service of a role the environment no longer has stops for good; its data stays.
    async fn retire(&mut self, service: NodeId) -> Result<()> {
        let runner = self.ex.runner;
        let grace = crate::defaults::stop_grace(service.role());
        let outcome = runner.stop(service, grace).await?;
        runner.retire(service).await?;
        if !self.manifest.retired.contains(&service) {
            self.manifest.retired.push(service);
        }
        self.save()?;
        let data = self.ex.want.paths.node_data(service);
        self.ex.reporter.step(&format!(
            "{service} {} and removed from the environment; its data stays in {} until `kafkup teardown --purge`",
            outcome.describe(),
            data.display()
        ));
        Ok(())
    }

    /// The node under its old name stops for good; its data moves to the new name.
    async fn rename(&mut self, rename: &super::renames::Rename) -> Result<()> {
        let runner = self.ex.runner;
        let grace = self.spec(rename.to).stop_grace();
        let outcome = runner.stop(rename.from, grace).await?;
        let reporter = self.ex.reporter;
        reporter.step(&format!("{} {}", rename.from, outcome.describe()));
        runner.retire(rename.from).await?;
        let (from, to) = &rename.data;
        if super::renames::move_data(rename)
            .with_context(|| format!("moving {} to {}", from.display(), to.display()))?
        {
            reporter.step(&format!("moved {} to {}", from.display(), to.display()));
        }
        // Its configuration is rendered anew under the new name.
        let old_config = self.ex.want.paths.node_config(rename.from);
        crate::files::remove_dir_all_if_exists(&old_config)?;
        if rename.from.role() == Role::Kafka {
            reporter.step(&format!(
                "the partitions of {} stay on {}: kafka-reassign-partitions.sh spreads them over the new brokers",
                rename.from, rename.to
            ));
        }
        Ok(())
    }

    fn launches(&self) -> Vec<lifecycle::Launch<'_>> {
        let all = self.ex.want.launches.iter();
        all.map(|l| (&l.spec, l.command.as_slice())).collect()
    }

    fn spec(&self, name: NodeId) -> &ServiceSpec {
        self.launch(name).0
    }

    fn launch(&self, name: NodeId) -> (&ServiceSpec, &[String]) {
        let launch = self
            .ex
            .want
            .launch(name)
            .expect("decide acts only on desired services");
        (&launch.spec, &launch.command)
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
        let want = self.ex.want;
        let results =
            crate::fetch::fetch_all(&artifacts, &want.sources, &want.paths, self.ex.reporter).await;
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
        let paths = &self.ex.want.paths;
        crate::fetch::keep_in_cache(paths, &done.artifact, &done.sha512, &done.dir)?;
        crate::files::remove_dir_if_empty(&paths.install);
        // It was said to be installed: say that it no longer is.
        self.ex.reporter.step(&format!(
            "{}: taken out of {} again and kept in the cache, as the other fetch failed",
            done.artifact.top_dir,
            paths.install.display()
        ));
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
        for file in &self.ex.want.files {
            let dir = file.target.parent().expect("rendered files have a parent");
            self.create_dirs(dir)?;
            self.manifest.remember_file(&file.target);
        }
        self.record_services();
        // Saved before anything is written or stopped: an interrupted run's successor
        // restarts them (see `Manifest::restarts_due`).
        for action in actions {
            if let Action::Stop { service, .. } = action {
                if !self.manifest.restarts_due.contains(service) {
                    self.manifest.restarts_due.push(*service);
                }
            }
        }
        self.save()?;
        for file in self
            .ex
            .want
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
        let want = self.ex.want;
        let m = &mut *self.manifest;
        // A role the environment no longer has stays recorded until it is retired, so that
        // an interrupted run's successor still retires it.
        let leaving: Vec<ServiceRecord> = m
            .services
            .iter()
            .filter(|s| want.topology.of_role(s.spec.name.role()).next().is_none())
            .filter(|s| !m.retired.contains(&s.spec.name))
            .cloned()
            .collect();
        m.services = want.launches.iter().map(ServiceRecord::from).collect();
        m.services.extend(leaving);
        // A node that runs again is no longer retired.
        m.retired.retain(|id| want.launch(*id).is_none());
        m.runner = Some(self.ex.runner.record());
        m.mode = want.mode;
        m.host = want.topology.host.clone();
        m.kafka_port = first_broker_port(want);
        m.ready_timeout_secs = want.ready_timeout_secs;
        m.settings = Some(want.kept.clone());
        m.kafkup_version = env!("CARGO_PKG_VERSION").into();
    }

    fn create_dirs(&mut self, dir: &Path) -> Result<()> {
        for made in crate::files::create_private_dirs(dir)? {
            self.manifest.remember_dir(&made);
        }
        Ok(())
    }

    fn prepare_data(&mut self, dirs: &[PathBuf]) -> Result<()> {
        for dir in dirs.iter().chain([&self.ex.want.paths.logs()]) {
            self.create_dirs(dir)?;
        }
        self.manifest.selftest_passed_at = None;
        self.save()
    }

    /// KRaft storage of every node, formatted once by the runner (as the service user, or in
    /// a container) with one cluster id.
    async fn format_storage(&mut self, known: Option<String>, nodes: &[NodeId]) -> Result<()> {
        let cluster_id = known.unwrap_or_else(state::new_cluster_id);
        // Recorded first: a format cut off half-way is finished with the same id next time.
        self.manifest.formatting = Some(cluster_id.clone());
        self.save()?;
        for node in nodes {
            self.format_node(*node, &cluster_id).await?;
        }
        self.manifest.cluster_id = Some(cluster_id);
        self.manifest.formatting = None;
        // Nodes added later join storage that already carries a metadata.version.
        let release = self.ex.want.kafka_version();
        self.manifest.metadata_release.get_or_insert(release);
        self.save()
    }

    async fn format_node(&self, node: NodeId, cluster_id: &str) -> Result<()> {
        let (spec, command) = self.launch(node);
        let data_dir = spec.data_dirs[0].clone();
        self.ex.reporter.step(&format!(
            "formatting KRaft storage in {} (cluster id {cluster_id})",
            data_dir.display()
        ));
        let tool = Tool {
            what: "KRaft storage format".into(),
            command: crate::spec::kraft_format_command(
                spec,
                Path::new(&command[0]),
                cluster_id,
                &super::secure::format_scram_args(self.ex.want)?,
            ),
            writes: vec![(node, data_dir)],
            class_archive: Some(node),
            network: false,
        };
        let out = self.ex.runner.run_tool(&tool).await?;
        if !out.success {
            return Err(Problem::new(
                format!(
                    "formatting KRaft storage failed ({}):\n{}",
                    out.status,
                    crate::logtail::the_error(&out.output)
                ),
                "the lines above say why (`setup -vv` shows the tool's whole output)",
            )
            .into());
        }
        tracing::debug!("the KRaft storage format said:\n{}", out.output);
        Ok(())
    }

    async fn start(&mut self, name: NodeId) -> Result<()> {
        self.write_myid(name).await?;
        let (spec, command) = self.launch(name);
        lifecycle::start_all(self.ex.runner, &[(spec, command)], self.ex.reporter).await?;
        self.manifest.restarts_due.retain(|n| *n != name);
        self.save()?;
        self.ex
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name);
        if self.selftest_follows && self.warm_up.is_none() && name.role() == Role::Kafka {
            // While the probes wait, get the broker to create its group coordinator.
            let timeout = Duration::from_secs(self.ex.want.ready_timeout_secs);
            self.warm_up = Some(crate::selftest::WarmUp::start(
                self.ex.want.bootstrap_server(),
                timeout,
            ));
        }
        Ok(())
    }

    /// A server of a ZooKeeper ensemble finds its number in `myid` in its data directory: it
    /// is written (the same each time) where the server will see it, as the runner runs tools.
    async fn write_myid(&self, name: NodeId) -> Result<()> {
        let launch = self.ex.want.launch(name).expect("a desired node");
        let Some(zk) = launch
            .config
            .zookeeper
            .as_ref()
            .filter(|z| !z.servers.is_empty())
        else {
            return Ok(());
        };
        let dir = &launch.view.data_dir;
        let script = format!("printf '%s' {} > '{}/myid'", zk.myid, dir.display());
        let tool = Tool {
            what: format!("the myid of {name}"),
            command: vec!["sh".into(), "-c".into(), script],
            writes: vec![(name, dir.clone())],
            class_archive: None,
            network: false,
        };
        let out = self.ex.runner.run_tool(&tool).await?;
        if !out.success {
            let said = crate::logtail::the_error(&out.output);
            let problem = format!(
                "could not write the myid of {name} ({}): {said}",
                out.status
            );
            return Err(
                Problem::new(problem, "check that its data directory can be written").into(),
            );
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
        // ZooKeeper mode learns its id from the broker's data; KRaft records it before the
        // format, but a run killed before that save learns it here too.
        if self.ex.want.mode == Mode::Zookeeper || self.manifest.cluster_id.is_none() {
            let dirs = super::observe::data_dirs(self.ex.want);
            let seen = self.ex.runner.data_seen(&dirs).await?;
            self.manifest.cluster_id = seen.cluster_id().or(self.manifest.cluster_id.take());
        }
        self.save()
    }

    /// One node's readiness probes (a rolling restart waits for each node in turn).
    async fn wait_node(&mut self, name: NodeId, timeout_secs: u64) -> Result<()> {
        let launch = self.launch(name);
        let timeout = Duration::from_secs(timeout_secs);
        let ready =
            lifecycle::wait_ready(self.ex.runner, &[launch], timeout, self.ex.reporter, |_| {
                true
            })
            .await;
        if let Err(err) = ready {
            return Err(self.not_ready(err).await);
        }
        self.ex.reporter.step(&format!("{name} is ready"));
        Ok(())
    }

    /// Every partition's replicas in sync: the broker restarted last has caught up, so the
    /// next one may stop without leaving a partition on fewer copies than it had.
    async fn in_sync(&self, timeout_secs: u64) -> Result<()> {
        let timeout = Duration::from_secs(timeout_secs);
        let admin = Admin::new(&self.ex.want.bootstrap_server(), timeout)?;
        let behind = || async {
            match admin.describe_all().await {
                Ok(topics) => {
                    let lagging: Vec<String> = topics
                        .iter()
                        .flat_map(|t| t.partitions.iter().map(move |p| (t, p)))
                        .filter(|(_, p)| !p.in_sync())
                        .map(|(t, p)| format!("{}-{}", t.name, p.id))
                        .collect();
                    match lagging.is_empty() {
                        true => crate::poll::Attempt::Ready(()),
                        false => crate::poll::Attempt::NotYet(lagging.join(", ")),
                    }
                }
                Err(e) => crate::poll::Attempt::NotYet(e.to_string()),
            }
        };
        let deadline = Instant::now() + timeout;
        let waited = crate::poll::until(deadline, Duration::from_millis(500), behind).await;
        admin.close().await;
        waited.map_err(|stop| {
            let said = match stop {
                crate::poll::Stop::TimedOut(last) => last,
                crate::poll::Stop::Failed { failure, .. } => Some(failure),
            };
            Problem::new(
                format!(
                    "the replicas were not in sync within {timeout_secs} s: {}",
                    said.unwrap_or_else(|| "no answer".into())
                ),
                "`kafkup status` and `kafkup logs` say how the brokers are; nothing else was stopped, and `kafkup upgrade` again goes on",
            )
        })?;
        self.ex
            .reporter
            .step("every partition's replicas are in sync");
        Ok(())
    }

    /// Leave nothing half-running: stop what this run started; files and data stay for
    /// `kafkup logs` and a later setup, and `teardown` removes them.
    async fn not_ready(&mut self, err: probe::NotReady) -> anyhow::Error {
        let names = self.ex.started();
        let started: Vec<&ServiceSpec> = names.iter().map(|n| self.spec(*n)).collect();
        let _ = lifecycle::stop_all(self.ex.runner, &started, self.ex.reporter).await;
        let logs: Vec<String> = self
            .ex
            .want
            .launches
            .iter()
            .rev()
            .map(|l| format!("`kafkup logs {}`", l.id))
            .collect();
        anyhow::Error::new(err).context(format!(
            "the services did not become ready; those started by this run were stopped (see {})",
            logs.join(" and ")
        ))
    }

    /// A declared topic's change through the admin API; topics that could not be looked at
    /// before are looked at now, and what they need is done (or refused) here.
    async fn topic(&self, change: &TopicChange) -> Result<()> {
        let want = self.ex.want;
        let timeout = Duration::from_secs(crate::defaults::TOPIC_ADMIN_TIMEOUT_SECS);
        let admin = Admin::new(&want.bootstrap_server(), timeout)?;
        let done = match change {
            TopicChange::Ensure(declared) => self.ensure_topics(&admin, declared).await,
            change => apply_topic(&admin, change, self.ex.reporter).await,
        };
        admin.close().await;
        done
    }

    async fn ensure_topics(&self, admin: &Admin, declared: &[TopicDecl]) -> Result<()> {
        let names: Vec<&str> = declared.iter().map(|t| t.name.as_str()).collect();
        let seen = admin.topics_seen(&names).await?;
        let changes = crate::topics::plan(declared, Some(&seen), self.ex.want.brokers())?;
        for change in &changes {
            apply_topic(admin, change, self.ex.reporter).await?;
        }
        if changes.is_empty() {
            let step = format!("declared topics as declared already: {}", names.join(", "));
            self.ex.reporter.step(&step);
        }
        Ok(())
    }

    fn remove_dist(&mut self, dir: &Path) -> Result<()> {
        if dir.starts_with(&self.ex.want.paths.install) && dir.is_dir() {
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
        let want = self.ex.want;
        let timeout = Duration::from_secs(want.ready_timeout_secs);
        let launches = self.launches();
        let topic_only = |p: &ProbeSpec| matches!(p, ProbeSpec::KafkaTopicReady { .. });
        let bootstrap = want.bootstrap_server();
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

/// Creates, raises or configures a topic, and says so.
async fn apply_topic(admin: &Admin, change: &TopicChange, reporter: &dyn Reporter) -> Result<()> {
    let said = match change {
        TopicChange::Create(decl) => {
            admin.create_declared(decl).await?;
            format!("created topic {decl}")
        }
        TopicChange::AddPartitions { name, from, to } => {
            admin.add_partitions(name, *to).await?;
            format!("topic {name}: {from} → {to} partitions")
        }
        TopicChange::SetConfigs { name, changes } => {
            let set = changes.iter().map(|c| (c.key.clone(), c.now.clone()));
            admin.set_topic_configs(name, &set.collect()).await?;
            let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
            format!("topic {name}: set {}", keys.join(", "))
        }
        TopicChange::Ensure(_) => unreachable!("ensured topics are planned first"),
    };
    reporter.step(&said);
    Ok(())
}

/// The manifest's `kafka_port` (what `--bootstrap-server`-less clients dial): the first
/// broker's.
fn first_broker_port(want: &Deployment) -> u16 {
    want.topology
        .of_role(Role::Kafka)
        .find_map(|n| n.ports.client)
        .expect("a deployment has a broker")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
