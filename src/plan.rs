//! The plan: everything `setup` will do, computed from validated settings before anything
//! is touched. Pure data — `--dry-run` prints it, templates render from it, runners follow it.

use crate::catalog::{Artifact, Mode, VersionNumber};
use crate::defaults;
use crate::paths::Paths;
use crate::runner::Backend;
use crate::settings::Settings;
use crate::spec::ServiceName;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub mode: Mode,
    pub backend: Backend,
    pub paths: Paths,
    /// The address clients dial (and the broker advertises): the host's loopback.
    pub host: String,
    /// The interface listeners bind: `host` itself, or in a container every interface of the
    /// container's own network namespace (the host sees only the port published on loopback).
    pub listen_host: String,
    pub service_user: String,
    pub zookeeper: Option<ZookeeperPlan>,
    pub kafka: KafkaPlan,
    pub selftest: bool,
    pub ready_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZookeeperPlan {
    pub artifact: Artifact,
    /// Where the verified distribution is unpacked.
    pub dist_dir: PathBuf,
    /// Rendered zoo.cfg and logback.xml live here.
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub client_port: u16,
    pub four_letter_words: String,
    pub heap: String,
    /// Added after kafkup's own JVM options.
    pub jvm_options: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KafkaLogging {
    /// Kafka 3.x: reload4j, `-Dlog4j.configuration=file:…/log4j.properties`.
    Log4j,
    /// Kafka 4.x: log4j2, `-Dlog4j2.configurationFile=…/log4j2.properties`.
    Log4j2,
}

#[derive(Debug, Clone, Serialize)]
pub struct KafkaPlan {
    pub artifact: Artifact,
    pub dist_dir: PathBuf,
    /// Rendered server.properties and logging config live here.
    pub config_dir: PathBuf,
    /// `log.dirs`: the broker's data.
    pub data_dir: PathBuf,
    pub node_id: u32,
    pub port: u16,
    /// KRaft only: the controller listener's port.
    pub controller_port: Option<u16>,
    /// ZooKeeper mode only: `host:port`.
    pub zookeeper_connect: Option<String>,
    pub logging: KafkaLogging,
    pub heap: String,
    /// Added after kafkup's own JVM options.
    pub jvm_options: Vec<String>,
}

impl KafkaPlan {
    pub fn bootstrap_server(&self, host: &str) -> String {
        format!("{host}:{}", self.port)
    }
}

impl Plan {
    pub fn from_settings(settings: &Settings) -> Plan {
        let paths = settings.paths.clone();
        let host = defaults::HOST.to_string();
        let zookeeper = (settings.mode == Mode::Zookeeper).then(|| {
            let artifact = Artifact::zookeeper(&settings.zookeeper_version);
            ZookeeperPlan {
                dist_dir: paths.install.join(&artifact.top_dir),
                config_dir: paths.config.join("zookeeper"),
                data_dir: paths.zookeeper_data(),
                client_port: settings.zookeeper_port,
                four_letter_words: defaults::FOUR_LETTER_WORDS.to_string(),
                heap: settings.zookeeper_heap.clone(),
                jvm_options: settings.zookeeper_jvm_options.clone(),
                artifact,
            }
        });
        let artifact = Artifact::kafka(&settings.kafka_version, &settings.scala_version);
        let logging = if VersionNumber::parse(&settings.kafka_version) >= VersionNumber(4, 0, 0) {
            KafkaLogging::Log4j2
        } else {
            KafkaLogging::Log4j
        };
        let kafka = KafkaPlan {
            dist_dir: paths.install.join(&artifact.top_dir),
            config_dir: paths.config.join("kafka"),
            data_dir: paths.kafka_data(),
            node_id: 1,
            port: settings.kafka_port,
            controller_port: (settings.mode == Mode::Kraft).then_some(settings.controller_port),
            zookeeper_connect: zookeeper
                .as_ref()
                .map(|zk| format!("{host}:{}", zk.client_port)),
            logging,
            heap: settings.kafka_heap.clone(),
            jvm_options: settings.kafka_jvm_options.clone(),
            artifact,
        };
        Plan {
            mode: settings.mode,
            backend: settings.backend,
            paths,
            listen_host: host.clone(),
            host,
            service_user: defaults::SERVICE_USER.to_string(),
            zookeeper,
            kafka,
            selftest: settings.selftest,
            ready_timeout_secs: settings.ready_timeout_secs,
        }
    }

    /// The artifacts to fetch, ZooKeeper first (it starts first).
    pub fn artifacts(&self) -> Vec<&Artifact> {
        self.zookeeper
            .iter()
            .map(|zk| &zk.artifact)
            .chain(std::iter::once(&self.kafka.artifact))
            .collect()
    }

    /// Every TCP port a service of this plan listens on, with what uses it.
    pub fn ports(&self) -> Vec<(u16, &'static str)> {
        let mut ports = Vec::new();
        if let Some(zk) = &self.zookeeper {
            ports.push((zk.client_port, "ZooKeeper client port"));
        }
        ports.push((self.kafka.port, "Kafka broker listener"));
        if let Some(p) = self.kafka.controller_port {
            ports.push((p, "Kafka KRaft controller listener"));
        }
        ports
    }

    pub fn bootstrap_server(&self) -> String {
        self.kafka.bootstrap_server(&self.host)
    }

    /// The plan as the services see it inside containers: distributions, config and data at
    /// the container paths of [`container`], listeners on the container's interfaces, and
    /// ZooKeeper reached by its container name. Where files are written (and everything the
    /// host does) stays with the host's plan.
    pub fn in_containers(&self, zookeeper_host: &str) -> Plan {
        let mut p = self.clone();
        p.listen_host = container::LISTEN_ALL.into();
        if let Some(zk) = p.zookeeper.as_mut() {
            zk.dist_dir = container::install(&zk.artifact.top_dir);
            zk.config_dir = container::config(ServiceName::Zookeeper);
            zk.data_dir = container::data(ServiceName::Zookeeper);
            p.kafka.zookeeper_connect = Some(format!("{zookeeper_host}:{}", zk.client_port));
        }
        let k = &mut p.kafka;
        k.dist_dir = container::install(&k.artifact.top_dir);
        k.config_dir = container::config(ServiceName::Kafka);
        k.data_dir = container::data(ServiceName::Kafka);
        p
    }
}

/// Where things are inside a service's container (the same for every image).
pub mod container {
    use crate::spec::ServiceName;
    use std::path::PathBuf;

    pub const INSTALL: &str = "/opt/kafkup";
    pub const CONFIG: &str = "/etc/kafkup";
    pub const DATA: &str = "/var/lib/kafkup/data";
    /// The host's class-archive directory, bind-mounted read-write.
    pub const CLASS_ARCHIVES: &str = "/var/cache/kafkup/class-archives";
    /// Inside its own network namespace a service listens on every interface.
    pub const LISTEN_ALL: &str = "0.0.0.0";

    pub fn install(top_dir: &str) -> PathBuf {
        PathBuf::from(INSTALL).join(top_dir)
    }

    pub fn config(service: ServiceName) -> PathBuf {
        PathBuf::from(CONFIG).join(service.as_str())
    }

    pub fn data(service: ServiceName) -> PathBuf {
        PathBuf::from(DATA).join(service.as_str())
    }
}
