//! The one desired state: everything `setup` would install and run, resolved once from the
//! settings, the runner chosen and its Java — the nodes with their views, configuration,
//! launch and command line, the distributions, and the rendered files with their targets for
//! that runner. `setup`, its dry run, `render`, `observe` and `decide` read it; nothing
//! re-derives it. Pure (apart from reading a `--templates` directory).

use crate::catalog;
use crate::configure::{configure, NodeConfig};
use crate::defaults;
use crate::error::{Diagnose, ExitCode};
use crate::fetch::Sources;
use crate::java::Java;
use crate::paths::{self, DataInTempDir, Paths};
use crate::render::{render_all, RenderError, RenderedFile, ToRender, Unit};
use crate::runner::detect::RunnerChoice;
use crate::settings::{Settings, SettingsError};
use crate::spec::ServiceSpec;
use crate::topology::{Dist, NodeView, PortUse, Topology};
use crate::vocab::{Mode, NodeId, Role, RunnerKind};
use serde::Serialize;
use std::path::PathBuf;

/// One node as it will run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Launch {
    pub id: NodeId,
    /// How its service sees its files and the environment.
    pub view: NodeView,
    pub config: NodeConfig,
    pub spec: ServiceSpec,
    /// The command line its runner runs (its Java included).
    pub command: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub mode: Mode,
    pub runner: RunnerChoice,
    pub paths: Paths,
    pub topology: Topology,
    /// In start order, one per topology node.
    pub launches: Vec<Launch>,
    /// The files the chosen runner installs (units only for systemd), at their host targets.
    pub files: Vec<RenderedFile>,
    /// The runner's Java; None when it cannot be looked at yet (a docker image not pulled).
    pub java: Option<Java>,
    #[serde(skip)]
    pub sources: Sources,
    pub selftest: bool,
    pub ready_timeout_secs: u64,
    pub class_archive: bool,
    /// The docker runner's JRE image.
    pub image: String,
    /// `--java-home`, for the runners that use the host's Java.
    pub java_home: Option<PathBuf>,
    /// What the environment records of its settings (with the runner chosen), for the next
    /// `setup` to start from.
    pub kept: crate::settings::Layer,
    /// The topics setup makes sure of once the brokers are ready.
    pub topics: Vec<crate::topics::TopicDecl>,
    /// What the brokers' client listener speaks.
    pub security: crate::vocab::Security,
}

#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    DataInTempDir(#[from] DataInTempDir),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
}

impl Diagnose for DeploymentError {
    fn exit_code(&self) -> ExitCode {
        match self {
            DeploymentError::Settings(e) => e.exit_code(),
            DeploymentError::DataInTempDir(e) => e.exit_code(),
            DeploymentError::Render(e) => e.exit_code(),
            DeploymentError::Fetch(e) => e.exit_code(),
        }
    }
    fn help(&self) -> Option<String> {
        match self {
            DeploymentError::Settings(e) => e.help(),
            DeploymentError::DataInTempDir(e) => e.help(),
            DeploymentError::Render(e) => e.help(),
            DeploymentError::Fetch(e) => e.help(),
        }
    }
}

impl Deployment {
    /// The deployment of `settings` for `runner`, whose Java is `java`.
    pub fn resolve(
        settings: &Settings,
        runner: RunnerChoice,
        java: Option<Java>,
    ) -> Result<Deployment, DeploymentError> {
        let topology = Topology::plan(settings)?;
        refuse_temp_dirs(&topology)?;
        let paths = settings.paths();
        let views = crate::runner::view::views(runner.kind, &paths, &topology);
        let configs = configure(&topology, &views);
        let java_path = java.as_ref().map_or_else(
            || PathBuf::from(defaults::FALLBACK_JAVA),
            |j| j.path.clone(),
        );
        let launches: Vec<Launch> = topology
            .nodes
            .iter()
            .zip(views)
            .zip(configs)
            .map(|((node, view), config)| {
                let spec = crate::spec::launch(&topology, node, &view, &config);
                let command = spec.command(&java_path);
                Launch {
                    id: node.id,
                    view,
                    config,
                    spec,
                    command,
                }
            })
            .collect();
        let files = render_files(&topology, &launches, runner.kind, &paths, settings)?;
        let mut kept = settings.kept();
        kept.backend = Some(crate::vocab::Backend::Only(runner.kind));
        Ok(Deployment {
            kept,
            mode: settings.mode,
            runner,
            paths,
            topology,
            launches,
            files,
            java,
            sources: settings.sources(),
            selftest: settings.selftest,
            ready_timeout_secs: settings.ready_timeout_secs,
            class_archive: settings.class_archive,
            image: settings.image.clone(),
            java_home: settings.java_home.clone(),
            topics: settings.topics.clone(),
            security: settings.security,
        })
    }

    /// What the security files are made for: every Kafka node with the names it is dialed by
    /// (the host's loopback, and in containers its name on the environment's network).
    pub fn security_inputs(&self) -> crate::security::store::Inputs {
        let nodes = self
            .launches
            .iter()
            .filter(|l| l.id.role() != Role::Zookeeper)
            .map(|l| {
                let mut names = vec![self.topology.host.clone(), "localhost".into(), l.id.name()];
                if !names.contains(&l.view.peer_host) {
                    names.push(l.view.peer_host.clone());
                }
                crate::security::store::NodeNames {
                    id: l.id,
                    names,
                    broker: l.id.role() == Role::Kafka,
                }
            })
            .collect();
        crate::security::store::Inputs {
            paths: self.paths.clone(),
            security: self.security,
            bootstrap: self.bootstrap_server(),
            nodes,
        }
    }

    /// The distributions to fetch, in start order.
    pub fn dists(&self) -> Vec<&Dist> {
        self.topology.dists()
    }

    /// Every broker's address as clients on the host dial it.
    pub fn bootstrap_server(&self) -> String {
        self.topology.bootstrap_servers()
    }

    pub fn ports(&self) -> Vec<PortUse> {
        self.topology.ports()
    }

    pub fn launch(&self, id: NodeId) -> Option<&Launch> {
        self.launches.iter().find(|l| l.id == id)
    }

    /// The Kafka release its brokers run.
    pub fn kafka_version(&self) -> String {
        let broker = self.topology.of_role(Role::Kafka).next();
        broker.map_or_else(String::new, |b| b.dist.artifact.version.clone())
    }

    /// How many brokers: the most replicas a topic can have.
    pub fn brokers(&self) -> usize {
        self.topology.of_role(Role::Kafka).count()
    }

    /// The nodes of `role`, in start order.
    pub fn of_role(&self, role: Role) -> impl Iterator<Item = &Launch> {
        self.launches.iter().filter(move |l| l.id.role() == role)
    }

    /// The runner's Java must be new enough for every distribution.
    pub fn check_java(&self, java: &Java) -> Result<(), crate::java::JavaError> {
        for dist in self.dists() {
            let a = &dist.artifact;
            let needs = format!("{} {}", a.project, a.version);
            crate::java::require(java, catalog::minimum_java(a.project, &a.version), &needs)?;
        }
        Ok(())
    }
}

/// What can be refused before anything is touched, not even the environment's lock: ports
/// that clash, data where the system throws it away, distributions that cannot be fetched
/// from the sources asked for.
pub fn check_early(settings: &Settings) -> Result<(), DeploymentError> {
    let topology = Topology::plan(settings)?;
    refuse_temp_dirs(&topology)?;
    let dists: Vec<_> = topology
        .dists()
        .into_iter()
        .map(|d| (&d.artifact, d.dir.as_path()))
        .collect();
    crate::fetch::check_plan(&dists, &settings.sources())?;
    Ok(())
}

impl From<&Launch> for crate::state::ServiceRecord {
    fn from(launch: &Launch) -> Self {
        crate::state::ServiceRecord {
            spec: launch.spec.clone(),
            command: launch.command.clone(),
        }
    }
}

/// Data the system would throw away is refused before anything is made.
fn refuse_temp_dirs(topology: &Topology) -> Result<(), DataInTempDir> {
    for node in &topology.nodes {
        let what = match node.role() {
            Role::Zookeeper => "ZooKeeper data directory",
            Role::Controller | Role::Kafka => "Kafka data directory",
        };
        paths::refuse_temp_dir(what, &node.data_dir)?;
    }
    Ok(())
}

/// Each node's config files at its host config directory, and its unit where the runner is
/// systemd.
fn render_files(
    topology: &Topology,
    launches: &[Launch],
    runner: RunnerKind,
    paths: &Paths,
    settings: &Settings,
) -> Result<Vec<RenderedFile>, RenderError> {
    let inputs: Vec<ToRender> = topology
        .nodes
        .iter()
        .zip(launches)
        .map(|(node, launch)| ToRender {
            config: &launch.config,
            config_dir: &node.config_dir,
            unit: (runner == RunnerKind::Systemd).then(|| Unit {
                spec: &launch.spec,
                command: &launch.command,
                service_user: defaults::SERVICE_USER,
                archive_env: crate::class_archive::unit_env_file(paths, node.id),
                archive_dir: crate::class_archive::dir(paths),
            }),
        })
        .collect();
    render_all(&inputs, settings.templates.as_deref())
}

/// Deployments built in memory for the tests of the layers above.
#[cfg(test)]
pub mod testing {
    use super::*;

    pub const ROOT: &str = "/srv/k";
    pub const JAVA: &str = "/usr/lib/jvm/java-17/bin/java";

    /// The deployment of `config` (TOML; `root` is [`ROOT`]) for `runner`.
    pub fn deployment_of(config: &str, runner: RunnerKind) -> Deployment {
        let text = format!("root = \"{ROOT}\"\n{config}");
        let layer = crate::settings::parse_config(&text).expect("a valid test config");
        let settings = Settings::resolve([layer]).expect("valid test settings");
        let choice = RunnerChoice {
            kind: runner,
            why: "a test".into(),
        };
        let java = Java {
            path: JAVA.into(),
            major: 17,
        };
        Deployment::resolve(&settings, choice, Some(java)).expect("a valid deployment")
    }

    /// One broker (and ZooKeeper) in `mode`, process runner.
    pub fn deployment(mode: Mode) -> Deployment {
        deployment_of(&format!("mode = \"{mode}\""), RunnerKind::Process)
    }
}

#[cfg(test)]
mod container_tests;
#[cfg(test)]
mod rendering_tests;
#[cfg(test)]
mod tests;
