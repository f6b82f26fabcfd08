//! One launch description per service, the same for every runner: the JVM is started
//! directly (no distribution shell scripts), so process, systemd and docker run one command.

use crate::defaults;
use crate::plan::{KafkaLogging, Plan};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ServiceName {
    Zookeeper,
    Kafka,
}

impl ServiceName {
    /// Every service, in start order.
    pub const ALL: [ServiceName; 2] = [ServiceName::Zookeeper, ServiceName::Kafka];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Zookeeper => "zookeeper",
            ServiceName::Kafka => "kafka",
        }
    }

    /// systemd unit / container name.
    pub fn unit_name(self) -> String {
        format!("kafkup-{}", self.as_str())
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zookeeper" | "zk" => Some(ServiceName::Zookeeper),
            "kafka" | "broker" => Some(ServiceName::Kafka),
            _ => None,
        }
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to know a service is ready, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProbeSpec {
    /// ZooKeeper answers `srvr` with a `Mode:` line.
    ZookeeperServing { host: String, port: u16 },
    /// The broker is listed in cluster metadata.
    KafkaBrokerListed { bootstrap: String, node_id: u32 },
    /// kafkup's health topic exists (created if missing) and every partition has a leader:
    /// after a restart, a listed broker may not know its topics' leaders yet.
    KafkaTopicReady { bootstrap: String, topic: String },
}

/// The topic the readiness probe keeps (one partition, tiny, never written to).
pub const HEALTH_TOPIC: &str = "kafkup-health";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: ServiceName,
    pub description: String,
    pub main_class: String,
    /// Classpath entries, joined with `:`; `dir/*` globs are expanded by the JVM itself.
    pub classpath: Vec<String>,
    pub jvm_options: Vec<String>,
    pub args: Vec<String>,
    pub working_dir: PathBuf,
    /// Directories the service writes (created by the runner, owned by the service user).
    pub data_dirs: Vec<PathBuf>,
    /// Directories the service reads: distribution and config.
    pub read_only_dirs: Vec<PathBuf>,
    pub ports: Vec<u16>,
    pub probes: Vec<ProbeSpec>,
    /// Started after, stopped before this one.
    pub requires: Option<ServiceName>,
    /// How long it may take to stop before it is killed (every runner, the unit too).
    pub stop_grace_secs: u64,
}

impl ServiceSpec {
    pub fn stop_grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.stop_grace_secs)
    }

    /// The full command line: `java <jvm options> -cp <classpath> <main class> <args>`.
    pub fn command(&self, java: &Path) -> Vec<String> {
        let mut cmd = vec![java.display().to_string()];
        cmd.extend(self.jvm_options.iter().cloned());
        cmd.push("-cp".into());
        cmd.push(self.classpath.join(":"));
        cmd.push(self.main_class.clone());
        cmd.extend(self.args.iter().cloned());
        cmd
    }
}

/// The client compiler only. A local broker or ZooKeeper reaches readiness ~25 % sooner
/// (1.89 → 1.42 s on 2 cores, where C2's compilations compete with start-up), and
/// `bench/jvm-options.sh` measured produce throughput within 10 % of full tiering (broker CPU
/// per message even 7 % lower). `-XX:TieredStopAtLevel=4` in `kafka_jvm_options` undoes it.
const QUICK_JIT: &str = "-XX:TieredStopAtLevel=1";

/// Options every service JVM gets: heap, G1, the quick JIT, headless, and no hs_err files in
/// odd places.
fn common_jvm_options(heap: &str, working_dir: &Path) -> Vec<String> {
    vec![
        format!("-Xms{heap}"),
        format!("-Xmx{heap}"),
        "-XX:+UseG1GC".into(),
        "-XX:MaxGCPauseMillis=20".into(),
        QUICK_JIT.into(),
        "-Djava.awt.headless=true".into(),
        format!("-XX:ErrorFile={}/hs_err_pid%p.log", working_dir.display()),
    ]
}

/// Both services in start order (ZooKeeper first when there is one).
pub fn service_specs(plan: &Plan) -> Vec<ServiceSpec> {
    let mut specs = Vec::new();
    if let Some(zk) = &plan.zookeeper {
        let mut jvm_options = common_jvm_options(&zk.heap, &zk.data_dir);
        jvm_options.push(format!(
            "-Dlogback.configurationFile={}",
            zk.config_dir.join("logback.xml").display()
        ));
        // The AdminServer is off in zoo.cfg too; the property makes it certain.
        jvm_options.push("-Dzookeeper.admin.enableServer=false".into());
        jvm_options.extend(zk.jvm_options.iter().cloned());
        specs.push(ServiceSpec {
            name: ServiceName::Zookeeper,
            description: format!("Apache ZooKeeper {} (kafkup)", zk.artifact.version),
            main_class: "org.apache.zookeeper.server.quorum.QuorumPeerMain".into(),
            // Only jars: a non-empty directory on the classpath keeps the JVM from writing a
            // class-data archive (logback finds its file through the property above).
            classpath: vec![format!("{}/lib/*", zk.dist_dir.display())],
            jvm_options,
            args: vec![zk.config_dir.join("zoo.cfg").display().to_string()],
            working_dir: zk.data_dir.clone(),
            data_dirs: vec![zk.data_dir.clone()],
            read_only_dirs: vec![zk.dist_dir.clone(), zk.config_dir.clone()],
            ports: vec![zk.client_port],
            probes: vec![ProbeSpec::ZookeeperServing {
                host: plan.host.clone(),
                port: zk.client_port,
            }],
            requires: None,
            stop_grace_secs: defaults::ZOOKEEPER_STOP_GRACE.as_secs(),
        });
    }
    let k = &plan.kafka;
    let mut jvm_options = common_jvm_options(&k.heap, &k.data_dir);
    jvm_options.push(kafka_logging_option(plan));
    jvm_options.extend(k.jvm_options.iter().cloned());
    let mut ports = vec![k.port];
    ports.extend(k.controller_port);
    specs.push(ServiceSpec {
        name: ServiceName::Kafka,
        description: format!(
            "Apache Kafka {} in {} mode (kafkup)",
            k.artifact.version, plan.mode
        ),
        main_class: "kafka.Kafka".into(),
        classpath: vec![format!("{}/libs/*", k.dist_dir.display())],
        jvm_options,
        args: vec![k.config_dir.join("server.properties").display().to_string()],
        working_dir: k.data_dir.clone(),
        data_dirs: vec![k.data_dir.clone()],
        read_only_dirs: vec![k.dist_dir.clone(), k.config_dir.clone()],
        ports,
        probes: vec![
            ProbeSpec::KafkaBrokerListed {
                bootstrap: plan.bootstrap_server(),
                node_id: k.node_id,
            },
            ProbeSpec::KafkaTopicReady {
                bootstrap: plan.bootstrap_server(),
                topic: HEALTH_TOPIC.into(),
            },
        ],
        requires: plan.zookeeper.as_ref().map(|_| ServiceName::Zookeeper),
        stop_grace_secs: defaults::KAFKA_STOP_GRACE.as_secs(),
    });
    specs
}

/// The JVM option that points Kafka's logging (reload4j on 3.x, log4j2 on 4.x) at our config.
fn kafka_logging_option(plan: &Plan) -> String {
    let dir = &plan.kafka.config_dir;
    match plan.kafka.logging {
        KafkaLogging::Log4j => format!(
            "-Dlog4j.configuration=file:{}",
            dir.join("log4j.properties").display()
        ),
        KafkaLogging::Log4j2 => format!(
            "-Dlog4j2.configurationFile={}",
            dir.join("log4j2.properties").display()
        ),
    }
}

/// The one-off KRaft storage format command (run once, before the first start).
pub fn kraft_format_command(plan: &Plan, java: &Path, cluster_id: &str) -> Vec<String> {
    let k = &plan.kafka;
    vec![
        java.display().to_string(),
        "-Xmx256m".into(),
        QUICK_JIT.into(),
        kafka_logging_option(plan),
        "-cp".into(),
        format!("{}/libs/*", k.dist_dir.display()),
        "kafka.tools.StorageTool".into(),
        "format".into(),
        "-t".into(),
        cluster_id.to_string(),
        "-c".into(),
        k.config_dir.join("server.properties").display().to_string(),
        "--ignore-formatted".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Mode;
    use crate::settings::{ConfigFile, Overrides, Settings};

    fn specs_with(file: ConfigFile) -> Vec<ServiceSpec> {
        let over = Overrides {
            mode: Some(Mode::Zookeeper),
            root: Some("/srv/k".into()),
            ..Default::default()
        };
        let settings = Settings::resolve(over, file, || unreachable!()).unwrap();
        service_specs(&Plan::from_settings(&settings))
    }

    #[test]
    fn every_jvm_gets_the_quick_jit_and_the_users_options_come_last() {
        let file = ConfigFile {
            kafka_jvm_options: Some(vec!["-XX:TieredStopAtLevel=4".into(), "-Dx=1".into()]),
            zookeeper_jvm_options: Some(vec!["-Dzk=1".into()]),
            ..Default::default()
        };
        let specs = specs_with(file);
        let (zk, kafka) = (&specs[0].jvm_options, &specs[1].jvm_options);
        assert!(zk.contains(&QUICK_JIT.to_string()));
        assert_eq!(zk.last().unwrap(), "-Dzk=1");
        let jit = kafka.iter().position(|o| o == QUICK_JIT).unwrap();
        let undone = kafka
            .iter()
            .position(|o| o == "-XX:TieredStopAtLevel=4")
            .unwrap();
        assert!(
            jit < undone,
            "the user's option must come later to win: {kafka:?}"
        );
        assert_eq!(kafka.last().unwrap(), "-Dx=1");
        assert!(!specs_with(ConfigFile::default())[1]
            .jvm_options
            .iter()
            .any(|o| o.starts_with("-Dx")));
    }
}
