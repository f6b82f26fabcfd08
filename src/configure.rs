//! What each node is configured with — listeners, the KRaft quorum, ZooKeeper's address,
//! directories, replication — as its own service sees the environment (through its runner's
//! [`NodeView`]s). The data the templates render. Pure.

use crate::catalog::KafkaLine;
use crate::defaults;
use crate::topology::{Node, NodeView, Topology};
use crate::vocab::{Mode, NodeId, Role};
use serde::Serialize;
use std::path::PathBuf;

/// The template data of one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeConfig {
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
    pub listeners: String,
    /// None on a dedicated controller (it serves no clients).
    pub advertised_listeners: Option<String>,
    /// KRaft: `id@host:port` of every voter.
    pub quorum_voters: Option<String>,
    /// How many nodes vote in the quorum.
    pub voters: usize,
    /// ZooKeeper mode: `host:port` of every ZooKeeper server.
    pub zookeeper_connect: Option<String>,
    pub log_dirs: PathBuf,
    /// Replicas of the internal topics (offsets, transactions, share state) and their
    /// `min.isr`: as many as there are brokers, at most 3.
    pub internal_replication: u8,
    pub internal_min_isr: u8,
    /// The client listener binds the address clients dial (no port publishing between).
    pub loopback_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZookeeperConfig {
    pub data_dir: PathBuf,
    pub client_port: u16,
    pub client_address: String,
    pub four_letter_words: String,
    pub loopback_only: bool,
}

/// Each node's configuration, in the topology's order; `views[i]` is how node `i` sees itself
/// (and how the others reach it).
pub fn configure(topology: &Topology, views: &[NodeView]) -> Vec<NodeConfig> {
    assert_eq!(topology.nodes.len(), views.len(), "a view per node");
    topology
        .nodes
        .iter()
        .zip(views)
        .map(|(node, view)| NodeConfig {
            mode: topology.mode,
            node: NodeFacts {
                id: node.id,
                role: node.role(),
                version: node.dist.artifact.version.clone(),
            },
            kafka: (node.role() != Role::Zookeeper).then(|| kafka(topology, views, node, view)),
            zookeeper: (node.role() == Role::Zookeeper).then(|| zookeeper(topology, node, view)),
        })
        .collect()
}

fn kafka(topology: &Topology, views: &[NodeView], node: &Node, view: &NodeView) -> KafkaConfig {
    let kraft = topology.mode == Mode::Kraft;
    let voters = topology.voters();
    // A quorum of one talks to itself on its own loopback, in a container too.
    let solo_quorum = voters.len() == 1;
    let controller_host = |v: &NodeView| match solo_quorum {
        true => topology.host.clone(),
        false => v.peer_host.clone(),
    };
    let mut listeners = Vec::new();
    if let Some(port) = node.ports.client {
        listeners.push(format!("PLAINTEXT://{}:{port}", view.listen_host));
    }
    if let Some(port) = node.ports.controller {
        let bind = if solo_quorum {
            topology.host.as_str()
        } else {
            view.listen_host.as_str()
        };
        listeners.push(format!("CONTROLLER://{bind}:{port}"));
    }
    let quorum_voters = kraft.then(|| {
        let peers = voters.iter().map(|v| {
            let seen = &views[index_of(topology, v)];
            let port = v
                .ports
                .controller
                .expect("voters have a controller listener");
            format!("{}@{}:{port}", v.server_id, controller_host(seen))
        });
        peers.collect::<Vec<_>>().join(",")
    });
    let brokers = topology.of_role(Role::Kafka).count().clamp(1, 3) as u8;
    KafkaConfig {
        line: KafkaLine::of(&node.dist.artifact.version),
        node_id: node.server_id,
        process_roles: kraft.then(|| process_roles(topology, node).to_string()),
        listeners: listeners.join(","),
        advertised_listeners: node
            .ports
            .client
            .map(|port| format!("PLAINTEXT://{}:{port}", topology.host)),
        quorum_voters,
        voters: voters.len(),
        zookeeper_connect: (!kraft).then(|| zookeeper_connect(topology, views)),
        log_dirs: view.data_dir.clone(),
        internal_replication: brokers,
        internal_min_isr: brokers.saturating_sub(1).max(1),
        loopback_only: view.loopback_only(&topology.host),
    }
}

fn process_roles(topology: &Topology, node: &Node) -> &'static str {
    match (node.role(), topology.shape.controllers) {
        (Role::Controller, _) => "controller",
        (_, 0) => "broker,controller",
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

fn zookeeper(topology: &Topology, node: &Node, view: &NodeView) -> ZookeeperConfig {
    ZookeeperConfig {
        data_dir: view.data_dir.clone(),
        client_port: node.ports.client.expect("ZooKeeper has a client port"),
        client_address: view.listen_host.clone(),
        four_letter_words: defaults::FOUR_LETTER_WORDS.to_string(),
        loopback_only: view.loopback_only(&topology.host),
    }
}

fn index_of(topology: &Topology, node: &Node) -> usize {
    topology
        .nodes
        .iter()
        .position(|n| n.id == node.id)
        .expect("the node is the topology's")
}
