//! Which nodes an environment has, and what each one is on the host: its distribution,
//! directories, ports, heap and (Kafka) node id. Nodes are data: one broker is the N = 1 case
//! of the same description. Pure: computed from settings and a [`Shape`].

use crate::catalog::Artifact;
use crate::defaults;
use crate::paths::Paths;
use crate::settings::{Settings, SettingsError};
use crate::vocab::{MigrationPhase, Mode, NodeId, Role, Security};
use serde::Serialize;
use std::path::PathBuf;

/// How many nodes of each role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shape {
    pub brokers: u8,
    /// Dedicated KRaft controllers; 0: the brokers are the controllers (combined nodes).
    pub controllers: u8,
    /// ZooKeeper servers (ZooKeeper mode only).
    pub zookeepers: u8,
    /// KRaft without dedicated controllers: the first this many brokers vote in the quorum
    /// (all of them in a new environment; brokers added later only serve).
    pub voters: u8,
}

impl Shape {
    /// What `settings` ask for.
    pub fn of(settings: &Settings) -> Shape {
        let kraft = settings.mode == Mode::Kraft;
        if settings.migration.is_some() {
            // On the way from ZooKeeper to KRaft: both, and the controllers vote.
            return Shape {
                brokers: settings.brokers,
                controllers: settings.controllers.max(1),
                zookeepers: settings.zookeepers,
                voters: 0,
            };
        }
        let combined = kraft && settings.controllers == 0;
        let voters = settings
            .voters
            .unwrap_or(settings.brokers)
            .min(settings.brokers);
        Shape {
            brokers: settings.brokers,
            controllers: if kraft { settings.controllers } else { 0 },
            zookeepers: if kraft { 0 } else { settings.zookeepers },
            voters: if combined { voters } else { 0 },
        }
    }

    fn count(&self, role: Role) -> u8 {
        match role {
            Role::Zookeeper => self.zookeepers,
            Role::Controller => self.controllers,
            Role::Kafka => self.brokers,
        }
    }
}

/// A verified distribution in its install directory on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dist {
    pub artifact: Artifact,
    pub dir: PathBuf,
}

/// The ports a node listens on (the same numbers on the host's loopback for every runner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NodePorts {
    /// Clients: the broker listener, or ZooKeeper's client port. None on a dedicated controller.
    pub client: Option<u16>,
    /// The KRaft controller listener (controllers and combined nodes).
    pub controller: Option<u16>,
    /// A server of a ZooKeeper ensemble: the ports it talks to the others on (quorum,
    /// leader election), on the host's loopback (in a container they are its own).
    pub quorum: Option<(u16, u16)>,
}

impl NodePorts {
    /// The ports clients and the host reach (published by containers).
    pub fn all(&self) -> Vec<u16> {
        self.client.into_iter().chain(self.controller).collect()
    }
}

/// One node as the host sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub id: NodeId,
    pub dist: Dist,
    /// Where its rendered configuration is written.
    pub config_dir: PathBuf,
    /// Its data: ZooKeeper's snapshots, or the broker's `log.dirs`.
    pub data_dir: PathBuf,
    pub ports: NodePorts,
    pub heap: String,
    /// Added after kafkup's own JVM options.
    pub jvm_options: Vec<String>,
    /// Kafka's `broker.id` / `node.id`; ZooKeeper's `myid`.
    pub server_id: u32,
}

impl Node {
    pub fn role(&self) -> Role {
        self.id.role()
    }
}

/// A node as its own service sees it: where its files are (the host's paths, or inside a
/// container its mount points) and how it is reached (the host's loopback, or its container's
/// name on the environment's network). Each runner says how it sees a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeView {
    pub dist_dir: PathBuf,
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    /// The interface its client listener binds.
    pub listen_host: String,
    /// How the other nodes of the environment dial it.
    pub peer_host: String,
    /// In a network namespace of its own (a container): ports only its environment's other
    /// nodes use are the same fixed ones on every node, and brokers get a listener for them.
    pub own_network: bool,
}

impl NodeView {
    /// The host's own view: the paths as they are, loopback for everything.
    pub fn on_host(node: &Node, host: &str) -> NodeView {
        NodeView {
            dist_dir: node.dist.dir.clone(),
            config_dir: node.config_dir.clone(),
            data_dir: node.data_dir.clone(),
            listen_host: host.to_string(),
            peer_host: host.to_string(),
            own_network: false,
        }
    }

    /// Whether clients reach the listener on the interface it binds (no port publishing).
    pub fn loopback_only(&self, host: &str) -> bool {
        self.listen_host == host
    }
}

/// How many replicas topics get, and how many must acknowledge a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Replication {
    /// `default.replication.factor` and the internal topics' replication.
    pub factor: u8,
    /// `min.insync.replicas`, the internal topics' too.
    pub min_insync: u8,
}

impl Replication {
    /// As many replicas as brokers, at most 3, and one less must acknowledge (at least 1):
    /// 3 and 2 for a cluster of three or more, so one broker may fail without losing writes.
    fn of(settings: &Settings) -> Replication {
        let factor = settings
            .replication_factor
            .unwrap_or(settings.brokers.min(3));
        let min_insync = settings
            .min_insync_replicas
            .unwrap_or(factor.saturating_sub(1).max(1));
        Replication { factor, min_insync }
    }
}

/// The whole environment's nodes, in start order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topology {
    /// The mode the brokers run in.
    pub mode: Mode,
    /// A migration from ZooKeeper to KRaft under way: its phase.
    pub migration: Option<MigrationPhase>,
    /// ZooKeeper mode: the inter-broker protocol held during an upgrade's roll.
    pub inter_broker_protocol: Option<String>,
    pub shape: Shape,
    pub replication: Replication,
    /// What the brokers' client listener speaks.
    pub security: Security,
    /// The address clients on the host dial (and brokers advertise to them).
    pub host: String,
    pub nodes: Vec<Node>,
}

/// What a port of a node is, for messages about busy or clashing ports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortUse {
    pub port: u16,
    pub node: NodeId,
    pub what: String,
}

impl Topology {
    /// The nodes `settings` ask for; ports that would clash are refused.
    pub fn plan(settings: &Settings) -> Result<Topology, SettingsError> {
        let shape = Shape::of(settings);
        let paths = settings.paths();
        let kafka = Artifact::kafka(&settings.chosen_kafka_version(), &settings.scala_version);
        let zookeeper = Artifact::zookeeper(&settings.zookeeper_version);
        let mut nodes = Vec::new();
        for role in Role::ALL {
            let count = shape.count(role);
            for index in 1..=count {
                let id = NodeId::of(role, index, count);
                let artifact = match role {
                    Role::Zookeeper => &zookeeper,
                    Role::Controller | Role::Kafka => &kafka,
                };
                nodes.push(node(settings, &paths, shape, id, artifact));
            }
        }
        spread_broker_ports(&mut nodes);
        let topology = Topology {
            mode: settings.mode,
            migration: settings.migration,
            inter_broker_protocol: settings.inter_broker_protocol.clone(),
            shape,
            replication: Replication::of(settings),
            security: settings.security,
            host: defaults::HOST.to_string(),
            nodes,
        };
        topology.check_ports()?;
        Ok(topology)
    }

    /// The distributions, in start order, each once.
    pub fn dists(&self) -> Vec<&Dist> {
        let mut dists: Vec<&Dist> = Vec::new();
        for node in &self.nodes {
            if !dists.contains(&&node.dist) {
                dists.push(&node.dist);
            }
        }
        dists
    }

    pub fn of_role(&self, role: Role) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.role() == role)
    }

    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The nodes that vote in the KRaft quorum: the dedicated controllers, else the first
    /// brokers.
    pub fn voters(&self) -> Vec<&Node> {
        match self.shape.controllers {
            0 => self
                .of_role(Role::Kafka)
                .take(self.shape.voters.into())
                .collect(),
            _ => self.of_role(Role::Controller).collect(),
        }
    }

    /// Whether a node votes in the KRaft quorum.
    pub fn votes(&self, node: &Node) -> bool {
        self.voters().iter().any(|v| v.id == node.id)
    }

    /// Every broker's address as a client on the host dials it, comma-separated.
    pub fn bootstrap_servers(&self) -> String {
        let brokers: Vec<String> = self
            .of_role(Role::Kafka)
            .filter_map(|n| n.ports.client)
            .map(|p| format!("{}:{p}", self.host))
            .collect();
        brokers.join(",")
    }

    /// Every port of every node, with what uses it.
    pub fn ports(&self) -> Vec<PortUse> {
        let mut ports = Vec::new();
        for node in &self.nodes {
            let what = |kind: &str| format!("{kind} of {}", node.id);
            if let Some(port) = node.ports.client {
                let kind = match node.role() {
                    Role::Zookeeper => "ZooKeeper client port",
                    _ => "Kafka broker listener",
                };
                ports.push(PortUse {
                    port,
                    node: node.id,
                    what: what(kind),
                });
            }
            if let Some(port) = node.ports.controller {
                let what = what("Kafka KRaft controller listener");
                ports.push(PortUse {
                    port,
                    node: node.id,
                    what,
                });
            }
            if let Some((quorum, election)) = node.ports.quorum {
                let node = node.id;
                let (q, e) = (
                    what("ZooKeeper quorum port"),
                    what("ZooKeeper election port"),
                );
                ports.push(PortUse {
                    port: quorum,
                    node,
                    what: q,
                });
                ports.push(PortUse {
                    port: election,
                    node,
                    what: e,
                });
            }
        }
        ports
    }

    fn check_ports(&self) -> Result<(), SettingsError> {
        let ports = self.ports();
        for (i, used) in ports.iter().enumerate() {
            if let Some(first) = ports[..i].iter().find(|p| p.port == used.port) {
                return Err(SettingsError::PortClash {
                    port: used.port,
                    first: first.what.clone(),
                    second: used.what.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Node `id`: the n-th node of a role takes the n-th port from its role's base port.
fn node(settings: &Settings, paths: &Paths, shape: Shape, id: NodeId, artifact: &Artifact) -> Node {
    let nth = |base: u16| base.saturating_add(u16::from(id.index()) - 1);
    let controllers_from = settings
        .controller_port
        .unwrap_or_else(|| settings.kafka_port.saturating_add(u16::from(shape.brokers)));
    let (ports, server_id) = match id.role() {
        Role::Zookeeper => {
            let quorum = (shape.zookeepers > 1).then(|| {
                let election = nth(defaults::ZOOKEEPER_ELECTION_PORT);
                (nth(defaults::ZOOKEEPER_QUORUM_PORT), election)
            });
            let client = Some(nth(settings.zookeeper_port));
            let ports = NodePorts {
                client,
                controller: None,
                quorum,
            };
            (ports, server_id(id))
        }
        Role::Controller => {
            let controller = Some(nth(controllers_from));
            let ports = NodePorts {
                client: None,
                controller,
                quorum: None,
            };
            (ports, server_id(id))
        }
        Role::Kafka => {
            let controller = (id.index() <= shape.voters).then(|| nth(controllers_from));
            let client = Some(nth(settings.kafka_port));
            let ports = NodePorts {
                client,
                controller,
                quorum: None,
            };
            (ports, server_id(id))
        }
    };
    let (heap, jvm_options) = match id.role() {
        Role::Zookeeper => (&settings.zookeeper_heap, &settings.zookeeper_jvm_options),
        Role::Controller | Role::Kafka => (&settings.kafka_heap, &settings.kafka_jvm_options),
    };
    Node {
        id,
        dist: Dist {
            artifact: artifact.clone(),
            dir: paths.install.join(&artifact.top_dir),
        },
        config_dir: paths.node_config(id),
        data_dir: paths.node_data(id),
        ports,
        heap: heap
            .clone()
            .unwrap_or_else(|| default_heap(shape, id.role()).into()),
        jvm_options: jvm_options.clone(),
        server_id,
    }
}

/// Brokers after the first take the ports after its one, passing over those the other nodes
/// listen on (a cluster grown from one broker keeps its controller on the port next to it).
fn spread_broker_ports(nodes: &mut [Node]) {
    let mut taken: Vec<u16> = nodes
        .iter()
        .filter(|n| n.role() != Role::Kafka)
        .flat_map(|n| n.ports.all())
        .chain(nodes.iter().filter_map(|n| n.ports.controller))
        .collect();
    let mut brokers = nodes.iter_mut().filter(|n| n.role() == Role::Kafka);
    let Some(next) = brokers.next().and_then(|first| first.ports.client) else {
        return;
    };
    let mut next = next.saturating_add(1);
    for broker in brokers {
        while taken.contains(&next) {
            next = next.saturating_add(1);
        }
        broker.ports.client = Some(next);
        taken.push(next);
        next = next.saturating_add(1);
    }
}

/// A node's number in its cluster: Kafka's `broker.id`/`node.id` (brokers 1 … N, dedicated
/// controllers after [`defaults::CONTROLLER_ID_BASE`]), ZooKeeper's `myid`.
pub fn server_id(id: NodeId) -> u32 {
    match id.role() {
        Role::Controller => defaults::CONTROLLER_ID_BASE + u32::from(id.index()),
        Role::Zookeeper | Role::Kafka => u32::from(id.index()),
    }
}

/// A node's heap when none is set: the distributions' defaults for one broker and one
/// ZooKeeper, less for each of several (they share this machine).
fn default_heap(shape: Shape, role: Role) -> &'static str {
    match role {
        Role::Zookeeper if shape.zookeepers > 1 => defaults::ENSEMBLE_ZOOKEEPER_HEAP,
        Role::Zookeeper => defaults::ZOOKEEPER_HEAP,
        Role::Controller => defaults::CONTROLLER_HEAP,
        Role::Kafka if shape.brokers > 1 => defaults::CLUSTER_KAFKA_HEAP,
        Role::Kafka => defaults::KAFKA_HEAP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[(&str, &str)]) -> Settings {
        let mut text = String::from("root = \"/srv/k\"\n");
        for (k, v) in args {
            text.push_str(&format!("{k} = {v}\n"));
        }
        Settings::resolve([crate::settings::parse_config(&text).unwrap()]).unwrap()
    }

    #[test]
    fn one_broker_keeps_the_names_and_ports_of_today() {
        let t = Topology::plan(&settings(&[])).unwrap();
        let names: Vec<String> = t.nodes.iter().map(|n| n.id.name()).collect();
        assert_eq!(names, ["zookeeper", "kafka"]);
        assert_eq!(t.nodes[1].data_dir, PathBuf::from("/srv/k/data/kafka"));
        assert_eq!(t.nodes[1].config_dir, PathBuf::from("/srv/k/config/kafka"));
        assert_eq!(t.nodes[0].ports.client, Some(2181));
        assert_eq!(t.bootstrap_servers(), "127.0.0.1:9092");
        let k = settings(&[("mode", "\"kraft\"")]);
        let t = Topology::plan(&k).unwrap();
        assert_eq!(t.nodes.len(), 1);
        assert_eq!(t.nodes[0].ports.controller, Some(9093));
    }

    #[test]
    fn the_controller_port_follows_the_brokers_unless_given() {
        let k = settings(&[("mode", "\"kraft\""), ("kafka_port", "19092")]);
        let t = Topology::plan(&k).unwrap();
        assert_eq!(t.nodes[0].ports.all(), [19092, 19093]);
        let k = settings(&[
            ("mode", "\"kraft\""),
            ("controller_port", "29093"),
            ("brokers", "3"),
        ]);
        let t = Topology::plan(&k).unwrap();
        let ports: Vec<Vec<u16>> = t.nodes.iter().map(|n| n.ports.all()).collect();
        assert_eq!(ports, [[9092, 29093], [9093, 29094], [9094, 29095]]);
    }

    #[test]
    fn clashing_ports_name_both_users() {
        let s = settings(&[("kafka_port", "2181")]);
        let err = Topology::plan(&s).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("port 2181 is used twice"), "{text}");
        assert!(
            text.contains("ZooKeeper client port of zookeeper"),
            "{text}"
        );
    }
}
