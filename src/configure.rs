//! What each node is configured with — listeners, the KRaft quorum, ZooKeeper's address,
//! directories, replication — as its own service sees the environment (through its runner's
//! [`NodeView`]s). The data the templates render. Pure.

use crate::catalog::KafkaLine;
use crate::defaults;
use crate::topology::{Node, NodeView, Topology};
use crate::vocab::{MigrationPhase, Mode, NodeId, Role, Security};
use serde::Serialize;
use std::path::PathBuf;

/// The template data of one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeConfig {
    /// The mode this node runs in (a controller migrating from ZooKeeper runs in KRaft mode
    /// beside ZooKeeper-mode brokers).
    pub mode: Mode,
    pub node: NodeFacts,
    pub kafka: Option<KafkaConfig>,
    pub zookeeper: Option<ZookeeperConfig>,
}

/// What every template may say about its node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeFacts {
    /// Written as its name (`kafka`, `kafka-2`).
    #[serde(rename = "name")]
    pub id: NodeId,
    pub role: Role,
    /// Its distribution's release.
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KafkaConfig {
    pub line: KafkaLine,
    /// `broker.id` (ZooKeeper mode) or `node.id` (KRaft).
    pub node_id: u32,
    /// KRaft: `broker,controller`, `controller` or `broker`.
    pub process_roles: Option<String>,
    /// Serves clients (every node but a dedicated controller).
    pub broker: bool,
    /// Votes in the KRaft quorum.
    pub controller: bool,
    pub listeners: String,
    /// None on a dedicated controller (it serves no clients).
    pub advertised_listeners: Option<String>,
    /// The listener brokers replicate over: the clients' one, or in containers the one on the
    /// environment's network.
    pub inter_broker_listener: String,
    pub listener_security_protocol_map: String,
    /// KRaft: `id@host:port` of every voter.
    pub quorum_voters: Option<String>,
    /// How many nodes vote in the quorum.
    pub voters: usize,
    /// How many brokers the environment has.
    pub brokers: usize,
    /// ZooKeeper mode, and migrating nodes: `host:port` of every ZooKeeper server.
    pub zookeeper_connect: Option<String>,
    /// In migration mode (KIP-866): a controller copying the metadata from ZooKeeper, or a
    /// ZooKeeper-mode broker that registers with the KRaft controllers too.
    pub migration: bool,
    /// ZooKeeper mode: inter.broker.protocol.version held during an upgrade's roll.
    pub inter_broker_protocol: Option<String>,
    pub log_dirs: PathBuf,
    /// `default.replication.factor`, also of the internal topics (offsets, transactions, share
    /// state), and `min.insync.replicas`, theirs too.
    pub replication: u8,
    pub min_insync_replicas: u8,
    /// The client listener binds the address clients dial (no port publishing between).
    pub loopback_only: bool,
    /// The client listener's name (after its protocol: PLAINTEXT, SSL or SASL_SSL).
    pub client_listener: String,
    /// TLS, authentication and authorization; None in plaintext.
    pub security: Option<KafkaSecurity>,
}

/// A secured node: its PEM keystore and truststore, and who may do what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KafkaSecurity {
    pub mode: Security,
    pub keystore: PathBuf,
    pub truststore: PathBuf,
    /// Clients present a certificate (mtls).
    pub client_auth: bool,
    /// The client listener takes SASL/SCRAM (scram).
    pub sasl: bool,
    /// The listeners only nodes use (CONTROLLER, INTERNAL) speak TLS and take only the
    /// nodes' certificates (mtls, scram: with ACLs on, an unauthenticated node would need to
    /// be a super user, and so would anybody who dials that port).
    pub nodes_authenticate: bool,
    /// The authorizer's class (mtls, scram).
    pub authorizer: Option<&'static str>,
    /// `User:admin;User:kafka-1;…`: the admin and every node.
    pub super_users: String,
    pub principal_mapping: &'static str,
    /// The broker's JAAS file (scram): the admin's credentials for inter-broker SASL.
    pub jaas: Option<PathBuf>,
    pub scram_mechanism: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZookeeperConfig {
    pub data_dir: PathBuf,
    pub client_port: u16,
    pub client_address: String,
    pub four_letter_words: String,
    pub loopback_only: bool,
    /// An ensemble's `server.N=host:quorum:election` lines, this server's own included; none
    /// for a standalone server.
    pub servers: Vec<String>,
    /// This server's number in the ensemble (its `myid`).
    pub myid: u32,
}

/// The listener brokers talk to each other on in containers (each has its own network
/// namespace, so every broker uses the same port).
pub const INTERNAL_LISTENER: &str = "INTERNAL";

/// Each node's configuration, in the topology's order; `views[i]` is how node `i` sees itself
/// (and how the others reach it).
pub fn configure(topology: &Topology, views: &[NodeView]) -> Vec<NodeConfig> {
    assert_eq!(topology.nodes.len(), views.len(), "a view per node");
    topology
        .nodes
        .iter()
        .zip(views)
        .map(|(node, view)| NodeConfig {
            mode: node_mode(topology, node),
            node: NodeFacts {
                id: node.id,
                role: node.role(),
                version: node.dist.artifact.version.clone(),
            },
            kafka: (node.role() != Role::Zookeeper).then(|| kafka(topology, views, node, view)),
            zookeeper: (node.role() == Role::Zookeeper)
                .then(|| zookeeper(topology, views, node, view)),
        })
        .collect()
}

/// A controller always runs in KRaft mode; the brokers in the environment's (or the
/// migration phase's) mode.
fn node_mode(topology: &Topology, node: &Node) -> Mode {
    match node.role() {
        Role::Controller => Mode::Kraft,
        _ => topology.mode,
    }
}

/// Whether `node` runs in migration mode in this phase of a migration.
fn migrating(topology: &Topology, node: &Node) -> bool {
    match (topology.migration, node.role()) {
        (Some(_), Role::Controller) => true,
        (Some(phase), Role::Kafka) => phase == MigrationPhase::Brokers,
        _ => false,
    }
}

fn kafka(topology: &Topology, views: &[NodeView], node: &Node, view: &NodeView) -> KafkaConfig {
    let kraft = node_mode(topology, node) == Mode::Kraft;
    let migration = migrating(topology, node);
    let voters = topology.voters();
    // A migrating controller talks to the brokers as they talk to each other.
    let internal = view.own_network && (node.ports.client.is_some() || migration);
    let client = client_listener(topology.security);
    let inter_broker = if internal { INTERNAL_LISTENER } else { client };
    let nodes = node_protocol(topology.security);
    let mut protocols = vec![format!("{client}:{client}")];
    if kraft || migration {
        protocols.insert(0, format!("CONTROLLER:{nodes}"));
    }
    if internal {
        protocols.push(format!("{INTERNAL_LISTENER}:{nodes}"));
    }
    let replication = topology.replication;
    KafkaConfig {
        line: KafkaLine::of(&node.dist.artifact.version),
        node_id: node.server_id,
        process_roles: kraft.then(|| process_roles(topology, node).to_string()),
        broker: node.ports.client.is_some(),
        controller: node.ports.controller.is_some(),
        listeners: listeners(topology, node, view).join(","),
        advertised_listeners: advertised(topology, node, view),
        inter_broker_listener: inter_broker.into(),
        listener_security_protocol_map: protocols.join(","),
        quorum_voters: (kraft || migration).then(|| quorum_voters(topology, views)),
        voters: voters.len(),
        brokers: topology.of_role(Role::Kafka).count(),
        zookeeper_connect: (!kraft || migration).then(|| zookeeper_connect(topology, views)),
        migration,
        inter_broker_protocol: topology.inter_broker_protocol.clone().filter(|_| !kraft),
        log_dirs: view.data_dir.clone(),
        replication: replication.factor,
        min_insync_replicas: replication.min_insync,
        loopback_only: view.loopback_only(&topology.host),
        client_listener: client.into(),
        security: kafka_security(topology, node, view),
    }
}

/// The client listener is named after its protocol.
fn client_listener(security: Security) -> &'static str {
    security.client_protocol()
}

/// What the listeners only nodes use speak: TLS once the client listener does (and with ACLs
/// on, only with the nodes' certificates, see [`KafkaSecurity::nodes_authenticate`]).
fn node_protocol(security: Security) -> &'static str {
    match security.authorizes() {
        true => "SSL",
        false => "PLAINTEXT",
    }
}

fn kafka_security(topology: &Topology, node: &Node, view: &NodeView) -> Option<KafkaSecurity> {
    let security = topology.security;
    if !security.encrypts() {
        return None;
    }
    let tls = crate::security::names::node_tls_dir(&view.config_dir);
    let authorizer = match topology.mode {
        Mode::Kraft => "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        Mode::Zookeeper => "kafka.security.authorizer.AclAuthorizer",
    };
    let mut super_users = vec![format!("User:{}", crate::security::names::ADMIN)];
    super_users.extend(
        topology
            .nodes
            .iter()
            .filter(|n| n.role() != Role::Zookeeper)
            .map(|n| format!("User:{}", n.id)),
    );
    let broker = node.ports.client.is_some();
    Some(KafkaSecurity {
        mode: security,
        keystore: tls.join(crate::security::names::KEYSTORE),
        truststore: tls.join(crate::security::names::TRUSTSTORE),
        client_auth: security == Security::Mtls,
        sasl: security == Security::Scram,
        nodes_authenticate: security.authorizes(),
        authorizer: security.authorizes().then_some(authorizer),
        super_users: super_users.join(";"),
        principal_mapping: crate::security::names::PRINCIPAL_MAPPING,
        jaas: (security == Security::Scram && broker)
            .then(|| tls.join(crate::security::names::JAAS)),
        scram_mechanism: crate::security::names::SCRAM_MECHANISM,
    })
}

/// A lone Kafka node that is its own quorum talks to itself on its own loopback, in a
/// container too; any other quorum is dialed by other nodes, on the environment's network.
fn solo_quorum(topology: &Topology) -> bool {
    let kafka_nodes = topology
        .nodes
        .iter()
        .filter(|n| n.role() != Role::Zookeeper);
    topology.voters().len() == 1 && kafka_nodes.count() == 1
}

fn listeners(topology: &Topology, node: &Node, view: &NodeView) -> Vec<String> {
    let mut listeners = Vec::new();
    if let Some(port) = node.ports.client {
        let name = client_listener(topology.security);
        listeners.push(format!("{name}://{}:{port}", view.listen_host));
        if view.own_network {
            let port = defaults::container::INTERNAL_PORT;
            listeners.push(format!("{INTERNAL_LISTENER}://{}:{port}", view.listen_host));
        }
    }
    if let Some(port) = node.ports.controller {
        let bind = match solo_quorum(topology) {
            true => topology.host.as_str(),
            false => view.listen_host.as_str(),
        };
        listeners.push(format!("CONTROLLER://{bind}:{port}"));
    }
    listeners
}

/// What clients are told to dial: the host's address for the client listener, and in
/// containers the container's name for the one on the environment's network.
fn advertised(topology: &Topology, node: &Node, view: &NodeView) -> Option<String> {
    let port = node.ports.client?;
    let name = client_listener(topology.security);
    let mut advertised = vec![format!("{name}://{}:{port}", topology.host)];
    if view.own_network {
        let internal = defaults::container::INTERNAL_PORT;
        advertised.push(format!(
            "{INTERNAL_LISTENER}://{}:{internal}",
            view.peer_host
        ));
    }
    Some(advertised.join(","))
}

fn quorum_voters(topology: &Topology, views: &[NodeView]) -> String {
    let voters = topology.voters().into_iter().map(|v| {
        let host = match solo_quorum(topology) {
            true => topology.host.as_str(),
            false => views[index_of(topology, v)].peer_host.as_str(),
        };
        let port = v
            .ports
            .controller
            .expect("voters have a controller listener");
        format!("{}@{host}:{port}", v.server_id)
    });
    voters.collect::<Vec<_>>().join(",")
}

fn process_roles(topology: &Topology, node: &Node) -> &'static str {
    match (node.role(), topology.votes(node)) {
        (Role::Controller, _) => "controller",
        (_, true) => "broker,controller",
        _ => "broker",
    }
}

/// Every ZooKeeper server as the brokers dial it.
fn zookeeper_connect(topology: &Topology, views: &[NodeView]) -> String {
    let servers = topology.of_role(Role::Zookeeper).map(|zk| {
        let port = zk.ports.client.expect("ZooKeeper has a client port");
        format!("{}:{port}", views[index_of(topology, zk)].peer_host)
    });
    servers.collect::<Vec<_>>().join(",")
}

fn zookeeper(
    topology: &Topology,
    views: &[NodeView],
    node: &Node,
    view: &NodeView,
) -> ZookeeperConfig {
    let servers = topology.of_role(Role::Zookeeper).filter_map(|zk| {
        let seen = &views[index_of(topology, zk)];
        let (quorum, election) = match seen.own_network {
            // Each server in a container of its own: the ports are its own too.
            true => (
                defaults::ZOOKEEPER_QUORUM_PORT,
                defaults::ZOOKEEPER_ELECTION_PORT,
            ),
            false => zk.ports.quorum?,
        };
        let host = &seen.peer_host;
        Some(format!(
            "server.{}={host}:{quorum}:{election}",
            zk.server_id
        ))
    });
    ZookeeperConfig {
        data_dir: view.data_dir.clone(),
        client_port: node.ports.client.expect("ZooKeeper has a client port"),
        client_address: view.listen_host.clone(),
        four_letter_words: defaults::FOUR_LETTER_WORDS.to_string(),
        loopback_only: view.loopback_only(&topology.host),
        servers: match topology.shape.zookeepers > 1 {
            true => servers.collect(),
            false => vec![],
        },
        myid: node.server_id,
    }
}

fn index_of(topology: &Topology, node: &Node) -> usize {
    topology
        .nodes
        .iter()
        .position(|n| n.id == node.id)
        .expect("the node is the topology's")
}
