//! The docker runner: each service is a container from a JRE image, created through the Engine
//! API (bollard), running the spec's java command line with the verified distribution and the
//! rendered config bind-mounted read-only and its data in a named volume, on a network of its
//! own, its ports published on the host's 127.0.0.1 only. Everything carries `io.kafkup.*`
//! labels, so teardown finds it by label.

pub mod container;
pub mod engine;

use super::{
    DataDirs, LogStream, LogTail, NotRunning, Runner, RunnerContext, RunnerError, RunnerRecord,
    ServiceState, StopOutcome, Tool, ToolOutput,
};
use crate::class_archive::{self, Jdk, Starter};
use crate::datacheck::{DataSeen, NodeData};
use crate::defaults::container as inside;
use crate::java::{Java, JavaError};
use crate::report::Reporter;
use crate::spec::ServiceSpec;
use crate::vocab::{NodeId, RunnerKind};
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters as q;
use container::{host_path, Definition, LABEL_CLASS_ARCHIVE, LABEL_DEFINITION, LABEL_ENV};
use engine::{engine, not_found, Engine};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the manifest keeps of this runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub image: String,
    pub env: String,
}

/// What carries an environment's label: container ids, network and volume names.
struct Labelled {
    containers: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

pub struct DockerRunner {
    engine: Engine,
    ctx: RunnerContext,
    env: String,
    image: String,
}

impl DockerRunner {
    pub async fn connect(
        ctx: &RunnerContext,
        record: Option<&Record>,
    ) -> Result<Self, RunnerError> {
        Ok(DockerRunner {
            engine: Engine::connect().await?,
            ctx: ctx.clone(),
            env: container::env_id(&ctx.paths),
            // An environment keeps the image it was set up with until it is torn down.
            image: record.map_or_else(|| ctx.image.clone(), |r| r.image.clone()),
        })
    }

    fn name(&self, service: NodeId) -> String {
        container::container_name(&self.env, service)
    }

    /// The name a service's container has, and other containers reach it by.
    pub fn container_name(&self, service: NodeId) -> String {
        self.name(service)
    }

    fn labels(&self, service: Option<NodeId>) -> std::collections::HashMap<String, String> {
        container::labels(&self.env, &self.ctx.paths, service)
    }

    async fn inspect(
        &self,
        service: NodeId,
    ) -> Result<Option<bollard::models::ContainerInspectResponse>, RunnerError> {
        let name = self.name(service);
        match self
            .engine
            .docker
            .inspect_container(&name, None::<q::InspectContainerOptions>)
            .await
        {
            Ok(c) => Ok(Some(c)),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(engine("inspect container", &name, e)),
        }
    }

    async fn ensure_network(&self) -> Result<String, RunnerError> {
        let name = container::network_name(&self.env);
        let docker = &self.engine.docker;
        match docker
            .inspect_network(&name, None::<q::InspectNetworkOptions>)
            .await
        {
            Ok(_) => return Ok(name),
            Err(e) if not_found(&e) => {}
            Err(e) => return Err(engine("inspect network", &name, e)),
        }
        let request = bollard::models::NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            labels: Some(self.labels(None)),
            ..Default::default()
        };
        docker
            .create_network(request)
            .await
            .map_err(|e| engine("create network", &name, e))?;
        Ok(name)
    }

    async fn ensure_volume(&self, service: NodeId) -> Result<(), RunnerError> {
        let name = container::volume_name(&self.env, service);
        let request = bollard::models::VolumeCreateRequest {
            name: Some(name.clone()),
            labels: Some(self.labels(Some(service))),
            ..Default::default()
        };
        // Creating an existing volume is a no-op that returns it.
        self.engine
            .docker
            .create_volume(request)
            .await
            .map_err(|e| engine("create volume", &name, e))?;
        Ok(())
    }

    /// Where a volume's files are on this host, if they can be read from here.
    async fn volume_dir(&self, service: NodeId) -> Result<Option<PathBuf>, RunnerError> {
        let name = container::volume_name(&self.env, service);
        match self.engine.docker.inspect_volume(&name).await {
            Ok(v) => Ok(Some(PathBuf::from(v.mountpoint))),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(engine("inspect volume", &name, e)),
        }
    }

    /// The image's java: `java.home` and the specification version, as the JVM says them.
    async fn image_java(&self) -> Result<Java, RunnerError> {
        let body = ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: Some(vec!["java".into()]),
            cmd: Some(vec!["-XshowSettings:properties".into(), "-version".into()]),
            labels: Some(self.labels(None)),
            ..Default::default()
        };
        let name = format!("kafkup-{}-java", self.env);
        let (code, output) = self.engine.run_once(&name, body).await?;
        let property = |key: &str| {
            output.lines().find_map(|l| {
                let (k, v) = l.trim().split_once(" = ")?;
                (k == key).then(|| v.trim().to_string())
            })
        };
        let home = property("java.home").filter(|_| code == 0);
        let major = property("java.specification.version").and_then(|v| {
            let v = v.strip_prefix("1.").unwrap_or(&v);
            v.split('.').next()?.parse().ok()
        });
        match (home, major) {
            (Some(home), Some(major)) => Ok(Java {
                path: Path::new(&home).join("bin/java"),
                major,
            }),
            _ => Err(RunnerError::Engine {
                action: format!("run java in image {}", self.image),
                reason: format!(
                    "exit {code}: {}",
                    output.lines().take(3).collect::<Vec<_>>().join(" / ")
                ),
            }),
        }
    }

    /// A container that is not running, in words; None when kafkup stopped it.
    fn how_it_ended(state: &bollard::models::ContainerState) -> Option<String> {
        let code = state.exit_code.unwrap_or(0);
        if state.oom_killed == Some(true) {
            return Some(format!(
                "was killed for using too much memory (exit {code})"
            ));
        }
        match code {
            // A stop through kafkup: SIGTERM, the JVM exits 143 (or 0).
            0 | 143 => None,
            137 => Some("was killed (SIGKILL, exit 137)".into()),
            code => Some(format!("exited with status {code}")),
        }
    }

    async fn create(&self, spec: &ServiceSpec, command: &[String]) -> Result<(), RunnerError> {
        let mut def = Definition::new(&self.env, &self.ctx.paths, &self.image, spec, command);
        def.class_archives = self
            .ctx
            .class_archives
            .as_ref()
            .map(|a| (a.dir().to_path_buf(), PathBuf::from(inside::CLASS_ARCHIVES)));
        if let Some((dir, _)) = &def.class_archives {
            fs_err::create_dir_all(dir)?;
        }
        if let Some(existing) = self.inspect(spec.name).await? {
            let running = existing.state.as_ref().and_then(|s| s.running) == Some(true);
            let labels = existing.config.and_then(|c| c.labels).unwrap_or_default();
            if labels.get(LABEL_DEFINITION) == Some(&def.digest()) {
                if running {
                    return Ok(());
                }
                // A stopped container is made anew when the archive it would use changed.
                def.archive_options = self
                    .archive_options(spec.name, Starter::Service, command)
                    .await;
                let options = def.archive_options.join(" ");
                if labels.get(LABEL_CLASS_ARCHIVE) == Some(&options) {
                    return Ok(());
                }
            }
            self.engine.remove(&def.name).await?;
        } else {
            def.archive_options = self
                .archive_options(spec.name, Starter::Service, command)
                .await;
        }
        let network = self.ensure_network().await?;
        for _ in &def.volumes {
            self.ensure_volume(spec.name).await?;
        }
        let options = q::CreateContainerOptionsBuilder::default()
            .name(&def.name)
            .build();
        self.engine
            .docker
            .create_container(
                Some(options),
                def.body(&network, self.labels(Some(spec.name))),
            )
            .await
            .map_err(|e| engine("create container", &def.name, e))?;
        Ok(())
    }

    /// Archive options for a JVM about to start in a container: keyed by the image (its id)
    /// and the classpath as the host's files behind the container's paths.
    async fn archive_options(
        &self,
        node: NodeId,
        starter: Starter,
        command: &[String],
    ) -> Vec<String> {
        let Some(archives) = &self.ctx.class_archives else {
            return Vec::new();
        };
        let Ok(image) = self.engine.docker.inspect_image(&self.image).await else {
            return Vec::new();
        };
        let paths = &self.ctx.paths;
        let on_host = |p: &Path| host_path(p, paths).unwrap_or_else(|| p.to_path_buf());
        let jdk = Jdk::Image {
            id: &image.id.unwrap_or_default(),
            on_host: &on_host,
            seen_as: Path::new(inside::CLASS_ARCHIVES),
        };
        archives.options(node, starter, command, jdk)
    }

    /// Containers, networks and volumes of this environment, by label.
    async fn labelled(&self) -> Result<Labelled, RunnerError> {
        let filter = Engine::label_filter(LABEL_ENV, &self.env);
        let docker = &self.engine.docker;
        let containers = docker
            .list_containers(Some(
                q::ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filter)
                    .build(),
            ))
            .await
            .map_err(|e| engine("list containers of", &self.env, e))?
            .into_iter()
            .filter_map(|c| c.id)
            .collect();
        let networks = docker
            .list_networks(Some(
                q::ListNetworksOptionsBuilder::default()
                    .filters(&filter)
                    .build(),
            ))
            .await
            .map_err(|e| engine("list networks of", &self.env, e))?
            .into_iter()
            .filter_map(|n| n.name)
            .collect();
        let volumes = docker
            .list_volumes(Some(
                q::ListVolumesOptionsBuilder::default()
                    .filters(&filter)
                    .build(),
            ))
            .await
            .map_err(|e| engine("list volumes of", &self.env, e))?
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect();
        Ok(Labelled {
            containers,
            networks,
            volumes,
        })
    }
}

impl Runner for DockerRunner {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Docker
    }

    async fn prepare(&self, reporter: &dyn Reporter) -> Result<(), RunnerError> {
        self.engine.ensure_image(&self.image, reporter).await
    }

    async fn to_prepare(&self) -> Result<Option<String>, RunnerError> {
        let here = self.engine.has_image(&self.image).await?;
        Ok((!here).then(|| format!("image {} (not here yet)", self.image)))
    }

    /// The image's Java; the host needs none.
    async fn java(&self) -> Result<Java, JavaError> {
        self.image_java().await.map_err(|e| JavaError::Unusable {
            path: PathBuf::from(&self.image),
            reason: e.to_string(),
        })
    }

    /// The container (with its network and volume), made anew only if its definition changed.
    async fn install(&self, spec: &ServiceSpec, command: &[String]) -> Result<(), RunnerError> {
        self.create(spec, command).await
    }

    async fn start(
        &self,
        spec: &ServiceSpec,
        command: &[String],
    ) -> Result<ServiceState, RunnerError> {
        if self.state(spec.name).await?.is_paused() {
            self.resume(spec.name).await?;
        }
        if !self.state(spec.name).await?.is_running() {
            self.create(spec, command).await?;
        }
        if !self.state(spec.name).await?.is_running() {
            let name = self.name(spec.name);
            self.engine
                .docker
                .start_container(&name, None::<q::StartContainerOptions>)
                .await
                .map_err(|e| engine("start container", &name, e))?;
        }
        self.state(spec.name).await
    }

    /// SIGTERM, then SIGKILL after `grace` (not Docker's default 10 s). A paused container is
    /// unpaused first: frozen, its JVM would only see the SIGKILL.
    async fn stop(&self, name: NodeId, grace: Duration) -> Result<StopOutcome, RunnerError> {
        if self.state(name).await?.is_paused() {
            self.resume(name).await?;
        }
        if !self.state(name).await?.is_running() {
            return Ok(StopOutcome::NotRunning);
        }
        let container = self.name(name);
        let options = q::StopContainerOptionsBuilder::default()
            .t(grace.as_secs() as i32)
            .build();
        self.engine
            .docker
            .stop_container(&container, Some(options))
            .await
            .map_err(|e| engine("stop container", &container, e))?;
        let code = self
            .inspect(name)
            .await?
            .and_then(|c| c.state)
            .and_then(|s| s.exit_code);
        Ok(match code {
            Some(137) => StopOutcome::Killed,
            _ => StopOutcome::Terminated,
        })
    }

    /// The Engine's kill (SIGKILL): it exits 137, and stays down. A paused container is
    /// unpaused first: not every Engine kills a frozen one.
    async fn kill(&self, name: NodeId) -> Result<(), RunnerError> {
        if self.state(name).await?.is_paused() {
            self.resume(name).await?;
        }
        let container = self.name(name);
        let options = q::KillContainerOptionsBuilder::default()
            .signal("SIGKILL")
            .build();
        self.engine
            .docker
            .kill_container(&container, Some(options))
            .await
            .map_err(|e| engine("kill container", &container, e))?;
        super::settle(self, name, "killed", |s| !s.is_up()).await
    }

    /// The Engine's pause: the cgroup freezer stops every process of the container.
    async fn pause(&self, name: NodeId) -> Result<(), RunnerError> {
        let container = self.name(name);
        self.engine
            .docker
            .pause_container(&container)
            .await
            .map_err(|e| engine("pause container", &container, e))?;
        super::settle(self, name, "paused", ServiceState::is_paused).await
    }

    async fn resume(&self, name: NodeId) -> Result<(), RunnerError> {
        let container = self.name(name);
        self.engine
            .docker
            .unpause_container(&container)
            .await
            .map_err(|e| engine("unpause container", &container, e))?;
        super::settle(self, name, "continued", |s| !s.is_paused()).await
    }

    async fn state(&self, name: NodeId) -> Result<ServiceState, RunnerError> {
        let Some(c) = self.inspect(name).await? else {
            return Ok(ServiceState::Stopped);
        };
        let state = c.state.unwrap_or_default();
        if state.running == Some(true) {
            let id: String = c.id.unwrap_or_default().chars().take(12).collect();
            let pid = state.pid.filter(|p| *p > 0).map(|p| p as u32);
            let running = ServiceState::Running {
                pid,
                detail: format!("container {} ({id}), image {}", self.name(name), self.image),
            };
            return Ok(match state.paused == Some(true) {
                true => running.paused("paused by the Engine"),
                false => running,
            });
        }
        Ok(match Self::how_it_ended(&state) {
            Some(detail) => ServiceState::Failed { detail },
            None => ServiceState::Stopped,
        })
    }

    async fn alive(&self, name: NodeId) -> Result<(), NotRunning> {
        let how = match self.state(name).await {
            Ok(ServiceState::Running { .. }) => return Ok(()),
            Ok(ServiceState::Failed { detail } | ServiceState::Unknown { detail }) => detail,
            Ok(ServiceState::Paused { .. }) => return Err(super::paused_not_running(name)),
            Ok(ServiceState::Stopped) => "is not running".into(),
            Err(e) => format!("cannot be asked about ({e})"),
        };
        let container = self.name(name);
        let output = self
            .engine
            .output(&container, Some(NotRunning::TAIL_KEPT))
            .await
            .unwrap_or_default();
        Err(NotRunning {
            service: name,
            how,
            log_tail: output.lines().map(str::to_string).collect(),
            log_name: format!("the logs of container {container}"),
        })
    }

    async fn logs(&self, name: NodeId, tail: LogTail) -> Result<LogStream, RunnerError> {
        let LogTail { lines, follow } = tail;
        let container = self.name(name);
        if self.inspect(name).await?.is_none() {
            return Err(RunnerError::NoLog {
                name,
                where_: format!("no container {container}"),
            });
        }
        let options = q::LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(follow)
            .tail(&lines.to_string())
            .build();
        let stream = self
            .engine
            .docker
            .logs(&container, Some(options))
            .map(|chunk| {
                chunk
                    .map(|c| c.into_bytes())
                    .map_err(|e| std::io::Error::other(engine::describe(&e)))
            });
        Ok(stream.boxed())
    }

    /// In a container of the same image, with the distribution and config bound read-only
    /// and the data volumes of the directories it writes.
    async fn run_tool(&self, tool: &Tool) -> Result<ToolOutput, RunnerError> {
        let mut mounts = vec![];
        for (inside, host) in [
            (inside::INSTALL, &self.ctx.paths.install),
            (inside::CONFIG, &self.ctx.paths.config),
        ] {
            mounts.push(Mount {
                source: Some(host.display().to_string()),
                target: Some(inside.to_string()),
                typ: Some(MountType::BIND),
                read_only: Some(true),
                ..Default::default()
            });
        }
        for (node, dir) in &tool.writes {
            self.ensure_volume(*node).await?;
            mounts.push(Mount {
                source: Some(container::volume_name(&self.env, *node)),
                target: Some(dir.display().to_string()),
                typ: Some(MountType::VOLUME),
                ..Default::default()
            });
        }
        let mut command = tool.command.clone();
        if let (Some(archives), Some(node)) = (&self.ctx.class_archives, tool.class_archive) {
            fs_err::create_dir_all(archives.dir())?;
            mounts.push(Mount {
                source: Some(archives.dir().display().to_string()),
                target: Some(inside::CLASS_ARCHIVES.to_string()),
                typ: Some(MountType::BIND),
                ..Default::default()
            });
            let options = self.archive_options(node, Starter::Tool, &command).await;
            command = class_archive::with_options(&command, &options);
        }
        tracing::debug!("running the {}: {}", tool.what, super::shown(&command));
        let network = match tool.network {
            true => self.ensure_network().await?,
            false => "none".into(),
        };
        let (program, args) = command.split_first().expect("a tool has a command");
        let body = ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: Some(vec![program.clone()]),
            cmd: Some(args.to_vec()),
            labels: Some(self.labels(None)),
            host_config: Some(HostConfig {
                mounts: Some(mounts),
                network_mode: Some(network),
                cap_drop: Some(vec!["ALL".into()]),
                security_opt: Some(vec!["no-new-privileges".into()]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let name = format!("kafkup-{}-tool", self.env);
        let (code, output) = self.engine.run_once(&name, body).await?;
        Ok(ToolOutput {
            success: code == 0,
            status: format!("exit status: {code}"),
            output,
        })
    }

    /// Containers and the network by label; with `purge` the volumes too.
    async fn uninstall(&self, purge: bool) -> Result<(), RunnerError> {
        let Labelled {
            containers,
            networks,
            volumes,
        } = self.labelled().await?;
        for id in &containers {
            self.engine.remove(id).await?;
        }
        for name in &networks {
            if let Err(e) = self.engine.docker.remove_network(name).await {
                if !not_found(&e) {
                    return Err(engine("remove network", name, e));
                }
            }
        }
        if purge {
            for name in &volumes {
                self.engine
                    .docker
                    .remove_volume(name, None::<q::RemoveVolumeOptions>)
                    .await
                    .map_err(|e| engine("remove volume", name, e))?;
            }
        }
        Ok(())
    }

    /// The node's container goes; its volume (its data) stays until `teardown --purge`. Never
    /// asked for a rename: a volume cannot be renamed, so `setup` refuses renames first.
    async fn retire(&self, name: NodeId) -> Result<(), RunnerError> {
        self.engine.remove(&self.container_name(name)).await
    }

    /// The node's volume.
    async fn remove_data(&self, name: NodeId, _dir: &Path) -> Result<(), RunnerError> {
        let volume = container::volume_name(&self.env, name);
        match self
            .engine
            .docker
            .remove_volume(&volume, None::<q::RemoveVolumeOptions>)
            .await
        {
            Err(e) if !not_found(&e) => Err(engine("remove volume", &volume, e)),
            _ => Ok(()),
        }
    }

    fn record(&self) -> RunnerRecord {
        RunnerRecord::Docker(Record {
            image: self.image.clone(),
            env: self.env.clone(),
        })
    }

    /// The data lives in volumes; read where the Engine keeps them (as root), or through a
    /// container of the image otherwise.
    async fn data_seen(&self, dirs: &DataDirs) -> Result<DataSeen, RunnerError> {
        let mut on_host = Vec::new();
        for (node, _) in dirs {
            match self.volume_dir(*node).await? {
                Some(dir) if std::fs::read_dir(&dir).is_err() => {
                    return self.data_seen_through_container(dirs).await
                }
                Some(dir) => on_host.push((*node, dir)),
                None => on_host.push((*node, PathBuf::from("/nonexistent"))),
            }
        }
        let mut seen = DataSeen::observe(&on_host);
        // Said as the services see them.
        for (data, (_, inside)) in seen.nodes.iter_mut().zip(dirs) {
            data.dir = inside.clone();
        }
        Ok(seen)
    }

    /// The volumes where the Engine keeps them, when this user may read them (root, with
    /// the Engine on this host); None otherwise.
    async fn data_on_host(
        &self,
        dirs: &DataDirs,
    ) -> Result<Option<Vec<(NodeId, PathBuf)>>, RunnerError> {
        let mut on_host = Vec::new();
        for (node, _) in dirs {
            self.ensure_volume(*node).await?;
            match self.volume_dir(*node).await? {
                Some(dir) if std::fs::read_dir(&dir).is_ok() => on_host.push((*node, dir)),
                _ => return Ok(None),
            }
        }
        Ok(Some(on_host))
    }
}

impl DockerRunner {
    /// Reads the data volumes through a container of the image (when the Engine keeps them
    /// where this user cannot read): each node's `meta.properties` and `version-2`, marked.
    async fn data_seen_through_container(&self, dirs: &DataDirs) -> Result<DataSeen, RunnerError> {
        let script: Vec<String> = dirs
            .iter()
            .map(|(node, dir)| {
                let dir = dir.display();
                format!(
                    "echo '@@ {node}'; cat {dir}/meta.properties 2>/dev/null; echo; \
                     test -d {dir}/version-2 && echo '@@ version-2'"
                )
            })
            .collect();
        let tool = Tool {
            what: "a look at the data volumes".into(),
            command: vec!["sh".into(), "-c".into(), script.join("; ")],
            writes: dirs.to_vec(),
            class_archive: None,
            network: false,
        };
        let out = self.run_tool(&tool).await?;
        let sections: Vec<&str> = out.output.split("@@ ").skip(1).collect();
        let nodes = dirs.iter().map(|(node, dir)| {
            let own = sections
                .iter()
                .find(|s| s.starts_with(&format!("{node}\n")));
            let text = own.copied().unwrap_or_default();
            let version_2 = sections
                .iter()
                .skip_while(|s| !s.starts_with(&format!("{node}\n")))
                .nth(1)
                .is_some_and(|s| s.starts_with("version-2"));
            NodeData::from_files(*node, dir, text, version_2)
        });
        Ok(DataSeen {
            nodes: nodes.collect(),
            orphans: vec![],
        })
    }

    /// The containers of any environment that publish `port` on the host, by name.
    pub async fn publishers_of(port: u16) -> Option<String> {
        let engine = Engine::connect().await.ok()?;
        let containers = engine
            .docker
            .list_containers(Some(q::ListContainersOptionsBuilder::default().build()))
            .await
            .ok()?;
        let names: Vec<String> = containers
            .into_iter()
            .filter(|c| {
                c.ports
                    .iter()
                    .flatten()
                    .any(|p| p.public_port == Some(port))
            })
            .flat_map(|c| c.names.unwrap_or_default())
            .map(|n| n.trim_start_matches('/').to_string())
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    }
}
