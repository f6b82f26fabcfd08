//! The ground floor: the words every layer speaks — modes, node roles and ids, runner kinds,
//! the backend and source choices. Architecture invariant: this module imports nothing of the
//! crate (`tests/it/architecture.rs` checks it), so any layer can use it and be read alone.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How Kafka keeps its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// ZooKeeper + Kafka 3.9.x (as in the guide).
    Zookeeper,
    /// Kafka alone, combined broker + controller (Kafka 4.x, or 3.x in KRaft).
    Kraft,
}

impl Mode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Zookeeper => "zookeeper",
            Mode::Kraft => "kraft",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ZooKeeper-mode environment on its way to KRaft (KIP-866, `kafkup migrate`): each phase is
/// a desired state of its own, and the environment records the one it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationPhase {
    /// KRaft controllers run in migration mode beside the ZooKeeper-mode brokers.
    Controllers,
    /// The brokers run in migration mode too: the controllers copy the metadata from
    /// ZooKeeper, then lead the cluster and write every change back to ZooKeeper.
    Brokers,
    /// The brokers run in KRaft mode; the controllers still write to ZooKeeper, so the way
    /// back stays open until the migration is finalized.
    Kraft,
}

impl MigrationPhase {
    pub const ALL: [MigrationPhase; 3] = [
        MigrationPhase::Controllers,
        MigrationPhase::Brokers,
        MigrationPhase::Kraft,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            MigrationPhase::Controllers => "controllers",
            MigrationPhase::Brokers => "brokers",
            MigrationPhase::Kraft => "kraft",
        }
    }

    /// The mode the brokers run in during this phase.
    pub const fn brokers_mode(self) -> Mode {
        match self {
            MigrationPhase::Controllers | MigrationPhase::Brokers => Mode::Zookeeper,
            MigrationPhase::Kraft => Mode::Kraft,
        }
    }
}

impl fmt::Display for MigrationPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the brokers' client listener speaks, and who may do what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// No encryption, no authentication (as in the guide).
    Plaintext,
    /// TLS: clients check the brokers' certificate (kafkup's local CA).
    Tls,
    /// Mutual TLS: clients must present a certificate of the local CA too; ACLs apply.
    Mtls,
    /// SASL/SCRAM-SHA-512 over TLS, with an admin and a developer user; ACLs apply.
    Scram,
}

impl Security {
    pub const fn as_str(self) -> &'static str {
        match self {
            Security::Plaintext => "plaintext",
            Security::Tls => "tls",
            Security::Mtls => "mtls",
            Security::Scram => "scram",
        }
    }

    /// The client listener speaks TLS (so the nodes need certificates).
    pub const fn encrypts(self) -> bool {
        !matches!(self, Security::Plaintext)
    }

    /// Clients authenticate, and an authorizer decides what each may do.
    pub const fn authorizes(self) -> bool {
        matches!(self, Security::Mtls | Security::Scram)
    }

    /// Kafka's `security.protocol` of the client listener.
    pub const fn client_protocol(self) -> &'static str {
        match self {
            Security::Plaintext => "PLAINTEXT",
            Security::Tls | Security::Mtls => "SSL",
            Security::Scram => "SASL_SSL",
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a node of an environment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A ZooKeeper server (ZooKeeper mode).
    Zookeeper,
    /// A dedicated KRaft controller (no client traffic).
    Controller,
    /// A Kafka broker; in KRaft mode without dedicated controllers also a controller.
    Kafka,
}

impl Role {
    /// Start order: what others depend on first.
    pub const ALL: [Role; 3] = [Role::Zookeeper, Role::Controller, Role::Kafka];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Zookeeper => "zookeeper",
            Role::Controller => "controller",
            Role::Kafka => "kafka",
        }
    }

    /// The role a user means: its word, or a common other name for it.
    pub fn parse(word: &str) -> Option<Role> {
        match word {
            "zookeeper" | "zk" => Some(Role::Zookeeper),
            "controller" => Some(Role::Controller),
            "kafka" | "broker" => Some(Role::Kafka),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One node of an environment: a role and its index (from 1). A role with one node is named by
/// the role alone (`kafka`, `zookeeper`), so one-broker environments keep the names they always
/// had (unit `kafkup-kafka.service`, `kafkup logs kafka`); several are `kafka-1` … `kafka-N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    role: Role,
    index: u8,
    /// The only node of its role: named without an index.
    solo: bool,
}

impl NodeId {
    /// The only node of `role`.
    pub const fn solo(role: Role) -> NodeId {
        NodeId {
            role,
            index: 1,
            solo: true,
        }
    }

    /// Node `index` (from 1) of `count` nodes of `role`.
    pub fn of(role: Role, index: u8, count: u8) -> NodeId {
        assert!(index >= 1 && index <= count, "node {index} of {count}");
        NodeId {
            role,
            index,
            solo: count == 1,
        }
    }

    pub fn role(self) -> Role {
        self.role
    }

    /// 1 for the first (or only) node of its role.
    pub fn index(self) -> u8 {
        self.index
    }

    /// `kafka`, `kafka-2`, `zookeeper`, `controller-1`.
    pub fn name(self) -> String {
        self.to_string()
    }

    /// The systemd unit (without `.service`) and container base name: `kafkup-kafka-2`.
    pub fn unit_name(self) -> String {
        format!("kafkup-{self}")
    }

    /// Reads a name written by [`NodeId::name`]: `kafka` (the only one), `kafka-2`.
    pub fn parse(name: &str) -> Option<NodeId> {
        if let Some(role) = Role::parse(name) {
            return Some(NodeId::solo(role));
        }
        let (word, index) = name.rsplit_once('-')?;
        let index: u8 = index.parse().ok().filter(|i| *i >= 1)?;
        Some(NodeId {
            role: Role::parse(word)?,
            index,
            solo: false,
        })
    }

    /// Whether a name a user typed means this node: its own name, or for the first of several
    /// the role alone and for an only node `role-1`.
    pub fn answers_to(self, typed: &str) -> bool {
        match NodeId::parse(typed) {
            Some(asked) => asked.role == self.role && asked.index == self.index,
            None => false,
        }
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.solo {
            true => f.write_str(self.role.as_str()),
            false => write!(f, "{}-{}", self.role, self.index),
        }
    }
}

impl Serialize for NodeId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        NodeId::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a node name")))
    }
}

/// The closed set of runners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunnerKind {
    Process,
    Systemd,
    Docker,
}

impl RunnerKind {
    pub const ALL: [RunnerKind; 3] = [RunnerKind::Process, RunnerKind::Systemd, RunnerKind::Docker];

    pub const fn as_str(self) -> &'static str {
        match self {
            RunnerKind::Process => "process",
            RunnerKind::Systemd => "systemd",
            RunnerKind::Docker => "docker",
        }
    }
}

impl fmt::Display for RunnerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `--backend` (or the config's `backend`) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Detect: systemd when it is PID 1 and we are root, else docker when the daemon answers,
    /// else process.
    #[default]
    Auto,
    Only(RunnerKind),
}

impl Backend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Only(kind) => kind.as_str(),
        }
    }

    pub fn parse(text: &str) -> Option<Backend> {
        match text {
            "auto" => Some(Backend::Auto),
            other => RunnerKind::ALL
                .into_iter()
                .find(|k| k.as_str() == other)
                .map(Backend::Only),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl clap::ValueEnum for Backend {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Backend::Auto,
            Backend::Only(RunnerKind::Process),
            Backend::Only(RunnerKind::Systemd),
            Backend::Only(RunnerKind::Docker),
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

impl Serialize for Backend {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Backend {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Backend::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown backend `{text}`, expected one of auto, process, systemd, docker"
            ))
        })
    }
}

/// `--source`: which kind of source to take the distributions from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SourceChoice {
    /// The release tarballs from Apache's mirrors, proven by the dist sites.
    Apache,
    /// Assembled from jars in a Maven repository, pinned by kafkup's locks.
    Maven,
    /// Apache first; Maven when Apache's sites do not answer.
    #[default]
    Auto,
}

impl SourceChoice {
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceChoice::Apache => "apache",
            SourceChoice::Maven => "maven",
            SourceChoice::Auto => "auto",
        }
    }

    pub fn may_use_apache(self) -> bool {
        self != SourceChoice::Maven
    }

    pub fn may_use_maven(self) -> bool {
        self != SourceChoice::Apache
    }
}

impl fmt::Display for SourceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_parse_and_print_the_same_words() {
        for b in <Backend as clap::ValueEnum>::value_variants() {
            assert_eq!(Backend::parse(b.as_str()), Some(*b));
        }
        assert_eq!(Backend::parse("podman"), None);
        let b: Backend =
            toml::from_str::<std::collections::BTreeMap<String, Backend>>("b = \"systemd\"")
                .unwrap()["b"];
        assert_eq!(b, Backend::Only(RunnerKind::Systemd));
    }

    #[test]
    fn an_only_node_keeps_its_role_name_and_several_are_numbered() {
        let solo = NodeId::solo(Role::Kafka);
        assert_eq!(solo.name(), "kafka");
        assert_eq!(solo.unit_name(), "kafkup-kafka");
        assert_eq!(NodeId::of(Role::Kafka, 1, 1), solo);
        let second = NodeId::of(Role::Kafka, 2, 3);
        assert_eq!(second.name(), "kafka-2");
        assert_eq!(NodeId::of(Role::Controller, 3, 3).name(), "controller-3");
        for id in [solo, second, NodeId::solo(Role::Zookeeper)] {
            assert_eq!(NodeId::parse(&id.name()), Some(id));
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<NodeId>(&json).unwrap(), id);
        }
        assert_eq!(NodeId::parse("zk"), Some(NodeId::solo(Role::Zookeeper)));
        assert_eq!(NodeId::parse("kafka-0"), None);
        assert_eq!(NodeId::parse("ksql"), None);
    }

    #[test]
    fn a_typed_name_finds_its_node() {
        let first = NodeId::of(Role::Kafka, 1, 3);
        assert!(first.answers_to("kafka-1") && first.answers_to("kafka"));
        assert!(first.answers_to("broker-1"));
        assert!(!NodeId::of(Role::Kafka, 2, 3).answers_to("kafka"));
        assert!(NodeId::solo(Role::Kafka).answers_to("kafka-1"));
        assert!(!NodeId::solo(Role::Kafka).answers_to("zookeeper"));
    }

    #[test]
    fn start_order_puts_what_others_need_first() {
        let mut ids = [
            NodeId::of(Role::Kafka, 2, 2),
            NodeId::solo(Role::Zookeeper),
            NodeId::of(Role::Kafka, 1, 2),
        ];
        ids.sort();
        let names: Vec<String> = ids.iter().map(|i| i.name()).collect();
        assert_eq!(names, ["zookeeper", "kafka-1", "kafka-2"]);
    }
}
