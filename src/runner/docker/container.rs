//! What a service's container is, as data: names, labels, mounts and published ports, from
//! the spec and the host's paths. Pure: the runner turns it into Engine API calls.

use crate::defaults::container as inside;
use crate::paths::Paths;
use crate::spec::ServiceSpec;
use crate::topology::{Node, NodeView};
use crate::vocab::NodeId;
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType, PortBinding};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Every container, volume and network kafkup makes carries these labels.
pub const LABEL_ENV: &str = "io.kafkup.env";
pub const LABEL_ROOT: &str = "io.kafkup.root";
pub const LABEL_SERVICE: &str = "io.kafkup.service";
pub const LABEL_VERSION: &str = "io.kafkup.version";
/// A digest of the container's definition: a changed one means a new container.
pub const LABEL_DEFINITION: &str = "io.kafkup.definition";
/// The class-archive options the container was made with (not part of the definition).
pub const LABEL_CLASS_ARCHIVE: &str = "io.kafkup.class-archive";

/// The environment's short id: several environments (roots) can share one Engine.
pub fn env_id(paths: &Paths) -> String {
    let digest = Sha256::digest(paths.state.to_string_lossy().as_bytes());
    hex::encode(&digest[..6])
}

pub fn container_name(env: &str, node: NodeId) -> String {
    format!("kafkup-{env}-{node}")
}

pub fn volume_name(env: &str, node: NodeId) -> String {
    format!("kafkup-{env}-{node}-data")
}

/// A node as it sees itself in its container: the distribution and its config mounted at
/// fixed places, its data in a volume, listening on every interface of its own network
/// namespace, reached by the others through its container's name.
pub fn view(env: &str, node: &Node) -> NodeView {
    NodeView {
        dist_dir: PathBuf::from(inside::INSTALL).join(&node.dist.artifact.top_dir),
        config_dir: PathBuf::from(inside::CONFIG).join(node.id.name()),
        data_dir: PathBuf::from(inside::DATA).join(node.id.name()),
        listen_host: inside::LISTEN_ALL.into(),
        peer_host: container_name(env, node.id),
        own_network: true,
    }
}

pub fn network_name(env: &str) -> String {
    format!("kafkup-{env}")
}

/// The labels of everything this environment makes (`service` for containers and volumes).
pub fn labels(env: &str, paths: &Paths, service: Option<NodeId>) -> HashMap<String, String> {
    let mut l = HashMap::from([
        (LABEL_ENV.to_string(), env.to_string()),
        (LABEL_ROOT.to_string(), paths.state.display().to_string()),
        (
            LABEL_VERSION.to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]);
    if let Some(s) = service {
        l.insert(LABEL_SERVICE.to_string(), s.to_string());
    }
    l
}

/// Where a path inside the container comes from on the host (distributions and config).
pub fn host_path(inside_path: &Path, paths: &Paths) -> Option<PathBuf> {
    let map = [
        (inside::INSTALL, &paths.install),
        (inside::CONFIG, &paths.config),
    ];
    map.iter().find_map(|(prefix, host)| {
        inside_path
            .strip_prefix(prefix)
            .ok()
            .map(|rest| host.join(rest))
    })
}

/// A service's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definition {
    pub name: String,
    pub image: String,
    pub command: Vec<String>,
    pub working_dir: PathBuf,
    /// Read-only bind mounts, host path → container path.
    pub binds: Vec<(PathBuf, PathBuf)>,
    /// Named volumes, volume → container path.
    pub volumes: Vec<(String, PathBuf)>,
    /// Published on the host's 127.0.0.1 under the same number.
    pub ports: Vec<u16>,
    pub stop_timeout_secs: u64,
    /// The class-archive directory, host path → container path (read-write).
    pub class_archives: Option<(PathBuf, PathBuf)>,
    /// Options after the program that use or record an archive. They change once the archive
    /// exists, which is no reason for a new container: outside the digest.
    #[serde(skip)]
    pub archive_options: Vec<String>,
}

impl Definition {
    pub fn new(
        env: &str,
        paths: &Paths,
        image: &str,
        spec: &ServiceSpec,
        command: &[String],
    ) -> Self {
        Definition {
            name: container_name(env, spec.name),
            image: image.to_string(),
            command: command.to_vec(),
            working_dir: spec.working_dir.clone(),
            binds: spec
                .read_only_dirs
                .iter()
                .filter_map(|d| host_path(d, paths).map(|h| (h, d.clone())))
                .collect(),
            volumes: spec
                .data_dirs
                .iter()
                .map(|d| (volume_name(env, spec.name), d.clone()))
                .collect(),
            ports: spec.ports.clone(),
            stop_timeout_secs: spec.stop_grace_secs,
            class_archives: None,
            archive_options: Vec::new(),
        }
    }

    /// What tells two definitions apart (the label on the container).
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).expect("a definition serialises");
        hex::encode(&Sha256::digest(&json)[..12])
    }

    /// The Engine's create request: the JVM directly (no shell), a read-only root file system
    /// with a private /tmp, no capabilities, no privilege gain, ports on 127.0.0.1 only.
    pub fn body(&self, network: &str, labels: HashMap<String, String>) -> ContainerCreateBody {
        let (program, args) = self.command.split_first().expect("a command line");
        let mut mounts: Vec<Mount> = self
            .binds
            .iter()
            .map(|(host, inside)| Mount {
                source: Some(host.display().to_string()),
                target: Some(inside.display().to_string()),
                typ: Some(MountType::BIND),
                read_only: Some(true),
                ..Default::default()
            })
            .collect();
        mounts.extend(self.class_archives.iter().map(|(host, inside)| Mount {
            source: Some(host.display().to_string()),
            target: Some(inside.display().to_string()),
            typ: Some(MountType::BIND),
            read_only: Some(false),
            ..Default::default()
        }));
        mounts.extend(self.volumes.iter().map(|(volume, inside)| Mount {
            source: Some(volume.clone()),
            target: Some(inside.display().to_string()),
            typ: Some(MountType::VOLUME),
            read_only: Some(false),
            ..Default::default()
        }));
        let port_bindings = self
            .ports
            .iter()
            .map(|p| {
                let binding = PortBinding {
                    host_ip: Some(crate::defaults::HOST.into()),
                    host_port: Some(p.to_string()),
                };
                (format!("{p}/tcp"), Some(vec![binding]))
            })
            .collect();
        let mut labels = labels;
        labels.insert(LABEL_DEFINITION.into(), self.digest());
        labels.insert(LABEL_CLASS_ARCHIVE.into(), self.archive_options.join(" "));
        let mut cmd = self.archive_options.clone();
        cmd.extend_from_slice(args);
        ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: Some(vec![program.clone()]),
            cmd: Some(cmd),
            working_dir: Some(self.working_dir.display().to_string()),
            exposed_ports: Some(self.ports.iter().map(|p| format!("{p}/tcp")).collect()),
            labels: Some(labels),
            stop_signal: Some("SIGTERM".into()),
            stop_timeout: Some(self.stop_timeout_secs as i64),
            host_config: Some(HostConfig {
                mounts: Some(mounts),
                port_bindings: Some(port_bindings),
                network_mode: Some(network.to_string()),
                cap_drop: Some(vec!["ALL".into()]),
                security_opt: Some(vec!["no-new-privileges".into()]),
                readonly_rootfs: Some(true),
                tmpfs: Some(HashMap::from([(
                    "/tmp".to_string(),
                    "rw,noexec,nosuid".to_string(),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}
