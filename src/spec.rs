//! One launch description per node, the same for every runner: the JVM is started directly
//! (no distribution shell scripts), so process, systemd and docker run one command.

use crate::catalog::KafkaLine;
use crate::configure::NodeConfig;
use crate::defaults;
use crate::topology::{Node, NodeView, Topology};
use crate::vocab::{NodeId, Role};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::{Path, PathBuf};

/// How to know a node is ready, in order.
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

/// The prefix of the self-test's throw-away topics.
pub const SELFTEST_TOPIC_PREFIX: &str = "kafkup-selftest-";

/// The brokers' internal topics (`__consumer_offsets`, …) and kafkup's own: not the user's data.
pub fn is_internal_or_kafkups(topic: &str) -> bool {
    topic.starts_with("__") || topic == HEALTH_TOPIC || topic.starts_with(SELFTEST_TOPIC_PREFIX)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: NodeId,
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
    /// Started after, stopped before this one (manifests of one broker wrote one name or null).
    #[serde(deserialize_with = "one_or_many", default)]
    pub requires: Vec<NodeId>,
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

/// `requires` as written by any kafkup: null, one name, or a list.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NodeId>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(NodeId),
        Many(Vec<NodeId>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => vec![],
        Some(OneOrMany::One(id)) => vec![id],
        Some(OneOrMany::Many(ids)) => ids,
    })
}

/// The client compiler only: a local broker or ZooKeeper reaches readiness sooner on few cores,
/// where C2's compilations compete with start-up, at about the same produce throughput
/// (`bench/jvm-options.sh` measures both). `-XX:TieredStopAtLevel=4` in `kafka_jvm_options`
/// undoes it.
const QUICK_JIT: &str = "-XX:TieredStopAtLevel=1";

/// Options every node's JVM gets: heap, G1, the quick JIT, headless, and no hs_err files in
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

/// How node `node` is started, as its own service sees its files (`view`).
pub fn launch(
    topology: &Topology,
    node: &Node,
    view: &NodeView,
    config: &NodeConfig,
) -> ServiceSpec {
    let mut jvm_options = common_jvm_options(&node.heap, &view.data_dir);
    let (main_class, lib, config_file, description, probes) = match node.role() {
        Role::Zookeeper => {
            jvm_options.extend(zookeeper_options(view));
            let probes = vec![ProbeSpec::ZookeeperServing {
                host: topology.host.clone(),
                port: node.ports.client.expect("ZooKeeper has a client port"),
            }];
            let about = format!("Apache ZooKeeper {} (kafkup)", config.node.version);
            (
                "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                "lib",
                "zoo.cfg",
                about,
                probes,
            )
        }
        Role::Controller | Role::Kafka => {
            jvm_options.push(kafka_logging_option(config, &view.config_dir));
            let jaas = config
                .kafka
                .as_ref()
                .and_then(|k| k.security.as_ref()?.jaas.as_ref());
            if let Some(jaas) = jaas {
                jvm_options.push(format!(
                    "-Djava.security.auth.login.config={}",
                    jaas.display()
                ));
            }
            let about = format!(
                "Apache Kafka {} in {} mode (kafkup)",
                config.node.version, config.mode
            );
            (
                "kafka.Kafka",
                "libs",
                "server.properties",
                about,
                kafka_probes(topology, node),
            )
        }
    };
    jvm_options.extend(node.jvm_options.iter().cloned());
    ServiceSpec {
        name: node.id,
        description,
        main_class: main_class.into(),
        // Only jars: a non-empty directory on the classpath keeps the JVM from writing a
        // class-data archive (logback finds its file through a property).
        classpath: vec![format!("{}/{lib}/*", view.dist_dir.display())],
        jvm_options,
        args: vec![view.config_dir.join(config_file).display().to_string()],
        working_dir: view.data_dir.clone(),
        data_dirs: vec![view.data_dir.clone()],
        read_only_dirs: vec![view.dist_dir.clone(), view.config_dir.clone()],
        ports: node.ports.all(),
        probes,
        requires: requires(topology, node),
        stop_grace_secs: defaults::stop_grace(node.role()).as_secs(),
    }
}

fn zookeeper_options(view: &NodeView) -> Vec<String> {
    vec![
        format!(
            "-Dlogback.configurationFile={}",
            view.config_dir.join("logback.xml").display()
        ),
        // The AdminServer is off in zoo.cfg too; the property makes it certain.
        "-Dzookeeper.admin.enableServer=false".into(),
    ]
}

/// A broker is listed in metadata, then kafkup's health topic is led; a dedicated controller
/// serves no clients to ask.
fn kafka_probes(topology: &Topology, node: &Node) -> Vec<ProbeSpec> {
    let Some(port) = node.ports.client else {
        return vec![];
    };
    let bootstrap = format!("{}:{port}", topology.host);
    vec![
        ProbeSpec::KafkaBrokerListed {
            bootstrap: bootstrap.clone(),
            node_id: node.server_id,
        },
        ProbeSpec::KafkaTopicReady {
            bootstrap,
            topic: HEALTH_TOPIC.into(),
        },
    ]
}

/// What must run before a node: ZooKeeper before brokers; dedicated controllers before brokers.
fn requires(topology: &Topology, node: &Node) -> Vec<NodeId> {
    let before = match node.role() {
        Role::Kafka => [Role::Zookeeper, Role::Controller].as_slice(),
        // Controllers migrating from ZooKeeper read and write it.
        Role::Controller if topology.migration.is_some() => [Role::Zookeeper].as_slice(),
        Role::Zookeeper | Role::Controller => [].as_slice(),
    };
    topology
        .nodes
        .iter()
        .filter(|n| before.contains(&n.role()))
        .map(|n| n.id)
        .collect()
}

/// The logging config file of a Kafka line, below the node's config directory.
pub fn kafka_logging_file(line: KafkaLine) -> &'static str {
    match line {
        KafkaLine::Three => "log4j.properties",
        KafkaLine::Four => "log4j2.properties",
    }
}

/// The JVM option that points Kafka's logging (reload4j on 3.x, log4j2 on 4.x) at our config.
fn kafka_logging_option(config: &NodeConfig, config_dir: &Path) -> String {
    let line = config.kafka.as_ref().expect("a Kafka node").line;
    let file = config_dir.join(kafka_logging_file(line));
    match line {
        KafkaLine::Three => format!("-Dlog4j.configuration=file:{}", file.display()),
        KafkaLine::Four => format!("-Dlog4j2.configurationFile={}", file.display()),
    }
}

/// A one-off Kafka tool (`main_class` with `args`) run with `java` and a node's launch: the
/// same classpath and logging, a small heap.
pub fn kafka_tool_command(
    spec: &ServiceSpec,
    java: &Path,
    main_class: &str,
    args: &[String],
) -> Vec<String> {
    let logging = spec
        .jvm_options
        .iter()
        .find(|o| o.starts_with("-Dlog4j"))
        .cloned()
        .expect("a Kafka node's options name its logging");
    let mut command = vec![
        java.display().to_string(),
        "-Xmx256m".into(),
        QUICK_JIT.into(),
        logging,
        "-cp".into(),
        spec.classpath.join(":"),
        main_class.into(),
    ];
    command.extend(args.iter().cloned());
    command
}

/// The one-off KRaft storage format of a node (before its first start), with `extra`
/// arguments (SCRAM users).
pub fn kraft_format_command(
    spec: &ServiceSpec,
    java: &Path,
    cluster_id: &str,
    extra: &[String],
) -> Vec<String> {
    let mut args = vec![
        "format".into(),
        "-t".into(),
        cluster_id.to_string(),
        "-c".into(),
    ];
    args.extend(spec.args.iter().cloned());
    args.push("--ignore-formatted".into());
    args.extend(extra.iter().cloned());
    kafka_tool_command(spec, java, "kafka.tools.StorageTool", &args)
}
