//! The manifest: what kafkup created, so `setup` can be idempotent and `teardown` can remove
//! exactly that. Written atomically; read by every command that acts on an environment.

use crate::catalog::Artifact;
use crate::paths::Paths;
use crate::runner::RunnerRecord;
use crate::spec::ServiceSpec;
use crate::vocab::{Mode, NodeId, RunnerKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Bumped when the manifest's meaning changes incompatibly; older formats are still read.
/// 2: the runner's own record, each service's exact command line, the readiness timeout.
pub const MANIFEST_FORMAT: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledDist {
    pub artifact: Artifact,
    pub dir: PathBuf,
    /// The cache key of the tree (see [`crate::fetch::Installed::sha512`]).
    pub sha512: String,
    /// Where it came from; manifests written before sources existed mean Apache.
    #[serde(default)]
    pub source: crate::fetch::DistSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub spec: ServiceSpec,
    /// The command line the runner starts it with (its Java included).
    pub command: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub kafkup_version: String,
    pub mode: Mode,
    pub paths: Paths,
    pub host: String,
    pub kafka_port: u16,
    /// What the runner created; none before the first setup chose one and after teardown.
    pub runner: Option<RunnerRecord>,
    /// KRaft: the id the storage was formatted with; ZooKeeper mode: read from meta.properties.
    pub cluster_id: Option<String>,
    /// KRaft: the id a storage format was started with and has not finished; the next setup
    /// formats with it again.
    #[serde(default)]
    pub formatting: Option<String>,
    pub dists: Vec<InstalledDist>,
    /// KRaft: the release whose metadata.version the storage carries — the one that formatted
    /// it, or that `upgrade --finalize` raised it to. An older release cannot start on it.
    /// Absent in older manifests (then: the release installed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_release: Option<String>,
    /// Rendered files kafkup wrote.
    pub files: Vec<PathBuf>,
    /// Directories kafkup created, deepest last (removed in reverse order, only if empty,
    /// except data directories on --purge).
    pub dirs: Vec<PathBuf>,
    pub services: Vec<ServiceRecord>,
    /// Nodes the environment no longer runs whose data it keeps until `teardown --purge`
    /// (ZooKeeper after a migration to KRaft).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<NodeId>,
    /// Services a setup wrote new files for and stopped (or was about to) but has not started
    /// again: an interrupted run leaves them, and the next one restarts them even if they run
    /// (on the old files, or still shutting down).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restarts_due: Vec<NodeId>,
    /// Unix seconds of the last self-test that passed with this configuration.
    pub selftest_passed_at: Option<u64>,
    /// How long `setup` waited for readiness; `start` waits as long.
    pub ready_timeout_secs: u64,
    /// Do the services start with class-data archives? (Absent in older manifests: yes.)
    #[serde(default = "yes")]
    pub class_archive: bool,
    /// The settings the environment was set up with (mode, versions, ports, heaps, runner, …):
    /// the starting point of its next `setup`, below flags, environment and config file.
    /// Absent in manifests of older kafkups.
    #[serde(default)]
    pub settings: Option<crate::settings::Layer>,
}

fn yes() -> bool {
    true
}

impl Manifest {
    /// An environment about to be set up for the first time.
    pub fn new(mode: Mode, paths: &Paths, host: &str, kafka_port: u16, ready: u64) -> Manifest {
        Manifest {
            format: MANIFEST_FORMAT,
            kafkup_version: env!("CARGO_PKG_VERSION").into(),
            mode,
            paths: paths.clone(),
            host: host.to_string(),
            kafka_port,
            runner: None,
            cluster_id: None,
            formatting: None,
            dists: vec![],
            metadata_release: None,
            files: vec![],
            dirs: vec![],
            services: vec![],
            retired: vec![],
            restarts_due: vec![],
            selftest_passed_at: None,
            ready_timeout_secs: ready,
            class_archive: true,
            settings: None,
        }
    }

    /// Every broker's address as a client on the host dials it (the recorded port when the
    /// services were torn down).
    pub fn bootstrap_server(&self) -> String {
        let brokers: Vec<String> = self
            .services
            .iter()
            .filter(|s| s.spec.name.role() == crate::vocab::Role::Kafka)
            .filter_map(|s| s.spec.ports.first())
            .map(|port| format!("{}:{port}", self.host))
            .collect();
        match brokers.is_empty() {
            true => format!("{}:{}", self.host, self.kafka_port),
            false => brokers.join(","),
        }
    }

    /// The runner the services were set up with.
    pub fn runner_kind(&self) -> Option<RunnerKind> {
        self.runner.as_ref().map(RunnerRecord::kind)
    }

    /// The Kafka release the environment runs (its installed Kafka distribution).
    pub fn kafka_version(&self) -> Option<String> {
        self.release_of(crate::catalog::Project::Kafka)
    }

    /// KRaft: the oldest release that can start on the storage (see `metadata_release`).
    pub fn oldest_release_for_data(&self) -> Option<String> {
        self.metadata_release
            .clone()
            .or_else(|| self.kafka_version())
    }

    /// The ZooKeeper release the environment runs, in ZooKeeper mode.
    pub fn zookeeper_version(&self) -> Option<String> {
        self.release_of(crate::catalog::Project::Zookeeper)
    }

    fn release_of(&self, project: crate::catalog::Project) -> Option<String> {
        self.dists
            .iter()
            .find(|d| d.artifact.project == project)
            .map(|d| d.artifact.version.clone())
    }

    pub fn service(&self, name: NodeId) -> Option<&ServiceRecord> {
        self.services.iter().find(|s| s.spec.name == name)
    }

    /// Records a created directory once.
    pub fn remember_dir(&mut self, dir: &Path) {
        if !self.dirs.iter().any(|d| d == dir) {
            self.dirs.push(dir.to_path_buf());
        }
    }

    pub fn remember_file(&mut self, file: &Path) {
        if !self.files.iter().any(|f| f == file) {
            self.files.push(file.to_path_buf());
        }
    }
}

/// Format 1, read so that an environment set up by an older kafkup keeps working.
mod v1 {
    use super::*;

    #[derive(Deserialize)]
    pub struct Manifest {
        pub kafkup_version: String,
        pub mode: Mode,
        pub paths: Paths,
        pub host: String,
        pub kafka_port: u16,
        pub java: PathBuf,
        pub cluster_id: Option<String>,
        pub dists: Vec<InstalledDist>,
        pub files: Vec<PathBuf>,
        pub dirs: Vec<PathBuf>,
        pub services: Vec<Service>,
        pub selftest_passed_at: Option<u64>,
    }

    #[derive(Deserialize)]
    pub struct Service {
        pub spec: Spec,
    }

    /// A format-1 spec had no stop grace; it gets today's default.
    #[derive(Deserialize)]
    pub struct Spec {
        #[serde(flatten)]
        pub fields: serde_json::Map<String, serde_json::Value>,
    }

    impl Manifest {
        pub fn upgrade(self) -> Result<super::Manifest, serde_json::Error> {
            let mut services = Vec::new();
            for s in self.services {
                let mut fields = s.spec.fields;
                let name: NodeId = serde_json::from_value(fields["name"].clone())?;
                let grace = crate::defaults::stop_grace(name.role());
                fields.insert("stop_grace_secs".into(), grace.as_secs().into());
                let spec: ServiceSpec = serde_json::from_value(fields.into())?;
                let command = spec.command(&self.java);
                services.push(ServiceRecord { spec, command });
            }
            Ok(super::Manifest {
                format: MANIFEST_FORMAT,
                kafkup_version: self.kafkup_version,
                mode: self.mode,
                paths: self.paths,
                host: self.host,
                kafka_port: self.kafka_port,
                // Format 1 knew only the process runner.
                runner: (!services.is_empty()).then_some(RunnerRecord::Process),
                cluster_id: self.cluster_id,
                formatting: None,
                dists: self.dists,
                metadata_release: None,
                files: self.files,
                dirs: self.dirs,
                services,
                retired: vec![],
                restarts_due: vec![],
                selftest_passed_at: self.selftest_passed_at,
                ready_timeout_secs: crate::defaults::READY_TIMEOUT_SECS,
                class_archive: true,
                settings: None,
            })
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("no kafkup environment under {}", .0.display())]
    Missing(PathBuf),
    #[error("the manifest {path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    #[error("the manifest {path} was written by a newer kafkup (format {found})")]
    TooNew { path: PathBuf, found: u32 },
    #[error("the manifest in {} was written for the directories under {}", given.display(), recorded.display())]
    Moved { given: PathBuf, recorded: PathBuf },
    #[error("cannot read or write the manifest")]
    Io(#[from] std::io::Error),
}

impl crate::error::Diagnose for StateError {
    fn help(&self) -> Option<String> {
        match self {
            StateError::Missing(_) => {
                Some("run `kafkup setup` first, or pass the --root it was set up with".into())
            }
            StateError::Damaged { .. } => {
                Some("restore it; or remove it and run `kafkup setup` again with the flags it was set up with (its data is kept: setup refuses what would hide it)".into())
            }
            StateError::TooNew { .. } => {
                Some("use the kafkup version that created this environment".into())
            }
            StateError::Moved { recorded, .. } => Some(format!(
                "kafkup acts only on the paths it set up: use --root (or the XDG directories) that point at {}",
                recorded.display()
            )),
            StateError::Io(_) => None,
        }
    }
}

pub fn load(paths: &Paths) -> Result<Option<Manifest>, StateError> {
    let path = paths.manifest();
    let text = match fs_err::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StateError::Io(e)),
    };
    let format = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_u64()))
        .unwrap_or(0) as u32;
    if format > MANIFEST_FORMAT {
        return Err(StateError::TooNew {
            path,
            found: format,
        });
    }
    let parsed = match format {
        1 => serde_json::from_str::<v1::Manifest>(&text).and_then(v1::Manifest::upgrade),
        _ => serde_json::from_str::<Manifest>(&text),
    };
    let manifest = parsed.map_err(|e| StateError::Damaged {
        path,
        reason: e.to_string(),
    })?;
    // A copied or moved root must not make teardown delete the original's data.
    if manifest.paths != *paths {
        return Err(StateError::Moved {
            given: paths.state.clone(),
            recorded: manifest.paths.state.clone(),
        });
    }
    Ok(Some(manifest))
}

/// Like [`load`], but a missing manifest is an error that says to run setup.
pub fn require(paths: &Paths) -> Result<Manifest, StateError> {
    load(paths)?.ok_or_else(|| StateError::Missing(paths.state.clone()))
}

pub fn save(paths: &Paths, manifest: &Manifest) -> Result<(), StateError> {
    crate::files::create_private_dirs(&paths.state)?;
    let json = serde_json::to_string_pretty(manifest).expect("manifest serialises");
    crate::files::write_atomic(&paths.manifest(), json.as_bytes(), 0o640)?;
    Ok(())
}

pub fn remove(paths: &Paths) -> Result<(), StateError> {
    Ok(crate::files::remove_file_if_exists(&paths.manifest())?)
}

/// A new KRaft cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's format).
/// Like Kafka's own `Uuid.randomUuid`, never one starting with `-`: the storage tool would
/// read it as an option (1 id in 64 otherwise).
pub fn new_cluster_id() -> String {
    use base64::Engine;
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_have_kafkas_shape() {
        let id = new_cluster_id();
        assert_eq!(id.len(), 22);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn manifest_round_trips_and_a_missing_one_is_none() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under_root(root.path());
        assert!(load(&paths).unwrap().is_none());
        let mut m = Manifest::new(Mode::Kraft, &paths, "127.0.0.1", 9092, 120);
        m.cluster_id = Some(new_cluster_id());
        save(&paths, &m).unwrap();
        assert_eq!(load(&paths).unwrap().unwrap(), m);
        std::fs::write(paths.manifest(), "{not json").unwrap();
        assert!(matches!(load(&paths), Err(StateError::Damaged { .. })));
    }
}
