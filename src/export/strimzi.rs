//! An environment as Strimzi 1.2.0 resources: a `Kafka` (KRaft), its `KafkaNodePool`s, a
//! `KafkaTopic` per topic and a `KafkaUser` per user, with notes on what does not carry over.
//! Pure: a [`Source`] in, documents and notes out. Schemas: `../shared/data/strimzi-1.2.0`.

use crate::security::grants::{self, Resource};
use crate::vocab::{Mode, Security};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The Kafka releases Strimzi 1.2.0 runs (its `kafka-versions.yaml`, the supported ones).
pub const SUPPORTED_KAFKA: &[&str] = &["4.2.0", "4.2.1", "4.3.0", "4.3.1"];
pub const STRIMZI: &str = "1.2.0";
const API: &str = "kafka.strimzi.io/v1";

/// Broker config prefixes Strimzi sets itself and refuses in `spec.kafka.config`.
const MANAGED_PREFIXES: &[&str] = &[
    "advertised.",
    "authorizer.",
    "broker.",
    "controller",
    "host.name",
    "inter.broker.listener.name",
    "listener.",
    "listeners",
    "log.dir",
    "node.id",
    "password.",
    "port",
    "process.roles",
    "sasl.",
    "security.",
    "ssl.",
    "super.user",
    "zookeeper.",
    "allow.everyone.if.no.acl.found",
];

/// kafkup's tunings for one developer machine, not for a shared cluster.
const LOCAL_ONLY: &[&str] = &[
    "group.initial.rebalance.delay.ms",
    "offsets.topic.num.partitions",
];

/// What an export reads of an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub namespace: Option<String>,
    pub mode: Mode,
    pub kafka_version: String,
    pub brokers: u8,
    /// Dedicated controllers; 0: the first `voters` brokers are the controllers too.
    pub controllers: u8,
    pub voters: u8,
    pub security: Security,
    /// A broker's `server.properties`, as kafkup renders it.
    pub broker_config: Vec<(String, String)>,
    pub topics: Vec<Topic>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    pub partitions: u32,
    pub replicas: u16,
    pub configs: BTreeMap<String, String>,
}

/// The documents, and what the user must know about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub documents: Vec<Value>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this environment runs in ZooKeeper mode, and Strimzi {STRIMZI} runs KRaft only")]
pub struct ZookeeperMode;

impl crate::error::Diagnose for ZookeeperMode {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::Usage
    }
    fn help(&self) -> Option<String> {
        Some("move the cluster to KRaft first (Kafka's ZooKeeper → KRaft migration, KIP-866; kafkup does not rehearse it yet), or export the settings of a KRaft environment (`kafkup export strimzi --mode kraft` with another --root)".into())
    }
}

pub fn export(source: &Source) -> Result<Export, ZookeeperMode> {
    if source.mode != Mode::Kraft {
        return Err(ZookeeperMode);
    }
    let mut notes = Vec::new();
    let version = supported_version(&source.kafka_version, &mut notes);
    let (config, config_notes) = broker_config(&source.broker_config);
    notes.extend(config_notes);
    let mut documents = vec![kafka(source, &version, config)];
    documents.extend(node_pools(source));
    documents.extend(source.topics.iter().map(|t| topic(source, t)));
    documents.extend(users(source));
    notes.push(
        "the storage of each node pool is a 10Gi persistent claim: size it for the data".into(),
    );
    notes.push("listeners are reachable inside Kubernetes only (type internal); clients outside need a route, loadbalancer or nodeport listener".into());
    if source.security.authorizes() {
        notes.push("no password, key or certificate is exported: Strimzi makes each KafkaUser's own Secret, and the cluster CA".into());
    }
    notes.push("data does not move with the export: MirrorMaker 2 copies topics' contents".into());
    Ok(Export { documents, notes })
}

/// The version Strimzi runs: this one, else the nearest it supports (said in a note).
fn supported_version(version: &str, notes: &mut Vec<String>) -> String {
    use crate::catalog::VersionNumber as V;
    if SUPPORTED_KAFKA.contains(&version) {
        return version.to_string();
    }
    let wanted = V::parse(version);
    let below = SUPPORTED_KAFKA.iter().rev().find(|s| V::parse(s) <= wanted);
    let nearest = below.unwrap_or(&SUPPORTED_KAFKA[0]).to_string();
    notes.push(format!(
        "Kafka {version} is not one Strimzi {STRIMZI} runs ({}): exported as {nearest}",
        SUPPORTED_KAFKA.join(", ")
    ));
    nearest
}

/// The broker configs that carry over (numbers and booleans as such), and notes on the rest.
fn broker_config(rendered: &[(String, String)]) -> (Map<String, Value>, Vec<String>) {
    let mut carried = Map::new();
    let (mut managed, mut local) = (Vec::new(), Vec::new());
    for (key, value) in rendered {
        if MANAGED_PREFIXES.iter().any(|p| key.starts_with(p)) {
            managed.push(key.as_str());
        } else if LOCAL_ONLY.contains(&key.as_str()) {
            local.push(format!("{key}={value}"));
        } else {
            carried.insert(key.clone(), typed(value));
        }
    }
    let mut notes = Vec::new();
    if !managed.is_empty() {
        notes.push(format!("Strimzi sets these itself (listeners, security, ids, paths), so they are not in spec.kafka.config: {}", managed.join(", ")));
    }
    if !local.is_empty() {
        notes.push(format!(
            "left out as tunings for one developer machine: {}",
            local.join(", ")
        ));
    }
    (carried, notes)
}

fn typed(value: &str) -> Value {
    match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => value
            .parse::<i64>()
            .map_or_else(|_| Value::String(value.into()), Value::from),
    }
}

fn metadata(source: &Source, name: &str, labelled: bool) -> Value {
    let mut meta = json!({ "name": name });
    if let Some(ns) = &source.namespace {
        meta["namespace"] = json!(ns);
    }
    if labelled {
        meta["labels"] = json!({ "strimzi.io/cluster": source.name });
    }
    meta
}

fn kafka(source: &Source, version: &str, config: Map<String, Value>) -> Value {
    let mut spec = json!({
        "version": version,
        "listeners": [listener(source.security)],
        "config": config,
    });
    if source.security.authorizes() {
        let admin = principal(source.security, crate::security::ADMIN);
        spec["authorization"] = json!({ "type": "simple", "superUsers": [admin] });
    }
    json!({
        "apiVersion": API,
        "kind": "Kafka",
        "metadata": metadata(source, &source.name, false),
        "spec": {
            "kafka": spec,
            "entityOperator": { "topicOperator": {}, "userOperator": {} },
        },
    })
}

fn listener(security: Security) -> Value {
    match security {
        Security::Plaintext => {
            json!({ "name": "plain", "port": 9092, "type": "internal", "tls": false })
        }
        Security::Tls => json!({ "name": "tls", "port": 9093, "type": "internal", "tls": true }),
        Security::Mtls => json!({ "name": "tls", "port": 9093, "type": "internal", "tls": true,
            "authentication": { "type": "tls" } }),
        Security::Scram => json!({ "name": "tls", "port": 9093, "type": "internal", "tls": true,
            "authentication": { "type": "scram-sha-512" } }),
    }
}

/// A user's principal as Strimzi names it: the certificate's subject, or the SCRAM name.
fn principal(security: Security, user: &str) -> String {
    match security {
        Security::Mtls => format!("CN={user}"),
        _ => user.to_string(),
    }
}

/// Dedicated controllers and brokers; or the voting brokers (both roles) and the others.
fn node_pools(source: &Source) -> Vec<Value> {
    let pools: Vec<(&str, u8, Vec<&str>)> = match source.controllers {
        0 => vec![
            ("combined", source.voters, vec!["controller", "broker"]),
            ("brokers", source.brokers - source.voters, vec!["broker"]),
        ],
        n => vec![
            ("controllers", n, vec!["controller"]),
            ("brokers", source.brokers, vec!["broker"]),
        ],
    };
    pools
        .into_iter()
        .filter(|(_, replicas, _)| *replicas > 0)
        .map(|(name, replicas, roles)| {
            json!({
                "apiVersion": API,
                "kind": "KafkaNodePool",
                "metadata": metadata(source, name, true),
                "spec": {
                    "replicas": replicas,
                    "roles": roles,
                    "storage": { "type": "persistent-claim", "size": "10Gi", "deleteClaim": false },
                },
            })
        })
        .collect()
}

fn topic(source: &Source, topic: &Topic) -> Value {
    let resource_name = resource_name(&topic.name);
    let mut spec = json!({ "partitions": topic.partitions, "replicas": topic.replicas });
    if resource_name != topic.name {
        spec["topicName"] = json!(topic.name);
    }
    if !topic.configs.is_empty() {
        let configs: Map<String, Value> = topic
            .configs
            .iter()
            .map(|(k, v)| (k.clone(), typed(v)))
            .collect();
        spec["config"] = Value::Object(configs);
    }
    json!({
        "apiVersion": API,
        "kind": "KafkaTopic",
        "metadata": metadata(source, &resource_name, true),
        "spec": spec,
    })
}

/// A Kubernetes name (lowercase letters, digits, '-', '.') for a topic name that may hold
/// '_' or capitals; the topic keeps its own name in `topicName`.
fn resource_name(topic: &str) -> String {
    let name: String = topic
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '.' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    name.trim_matches(|c| c == '-' || c == '.').to_string()
}

/// A KafkaUser per user of a secured environment: the developer with its ACLs, the admin
/// (a super user) with none.
fn users(source: &Source) -> Vec<Value> {
    let authentication = match source.security {
        Security::Mtls => "tls",
        Security::Scram => "scram-sha-512",
        Security::Plaintext | Security::Tls => return vec![],
    };
    let user = |name: &str, acls: Option<Vec<Value>>| {
        let mut spec = json!({ "authentication": { "type": authentication } });
        if let Some(acls) = acls {
            spec["authorization"] = json!({ "type": "simple", "acls": acls });
        }
        json!({
            "apiVersion": API,
            "kind": "KafkaUser",
            "metadata": metadata(source, name, true),
            "spec": spec,
        })
    };
    vec![
        user(crate::security::DEVELOPER, Some(developer_acls())),
        user(crate::security::ADMIN, None),
    ]
}

fn developer_acls() -> Vec<Value> {
    grants::DEVELOPER
        .iter()
        .map(|(resource, operations)| {
            let resource = match resource {
                Resource::Topic => {
                    json!({ "type": "topic", "name": "*", "patternType": "literal" })
                }
                Resource::Group => {
                    json!({ "type": "group", "name": "*", "patternType": "literal" })
                }
                Resource::TransactionalId => {
                    json!({ "type": "transactionalId", "name": "*", "patternType": "literal" })
                }
                Resource::Cluster => json!({ "type": "cluster" }),
            };
            let operations: Vec<&str> = operations.iter().map(|o| o.name()).collect();
            json!({ "resource": resource, "operations": operations, "host": "*" })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> Vec<(String, String)> {
        [
            ("process.roles", "broker,controller"),
            ("node.id", "1"),
            ("controller.quorum.voters", "1@127.0.0.1:9093"),
            (
                "listeners",
                "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
            ),
            ("advertised.listeners", "PLAINTEXT://127.0.0.1:9092"),
            ("log.dirs", "/var/lib/kafkup/data/kafka"),
            ("auto.create.topics.enable", "true"),
            ("num.partitions", "1"),
            ("default.replication.factor", "3"),
            ("min.insync.replicas", "2"),
            ("group.initial.rebalance.delay.ms", "0"),
            ("offsets.topic.num.partitions", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn source() -> Source {
        Source {
            name: "kafkup".into(),
            namespace: None,
            mode: Mode::Kraft,
            kafka_version: "4.3.1".into(),
            brokers: 1,
            controllers: 0,
            voters: 1,
            security: Security::Plaintext,
            broker_config: rendered(),
            topics: vec![],
        }
    }

    fn yaml(export: &Export) -> String {
        let mut text: String = export.notes.iter().map(|n| format!("# - {n}\n")).collect();
        for document in &export.documents {
            text.push_str("---\n");
            text.push_str(&yaml_serde::to_string(document).unwrap());
        }
        text
    }

    #[test]
    fn one_kraft_broker_in_plaintext() {
        let export = export(&source()).unwrap();
        let kinds: Vec<&str> = export
            .documents
            .iter()
            .map(|d| d["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["Kafka", "KafkaNodePool"]);
        insta::assert_snapshot!(yaml(&export));
    }

    #[test]
    fn three_brokers_three_controllers_scram_and_declared_topics() {
        let mut s = source();
        s.namespace = Some("kafka".into());
        s.kafka_version = "4.4.0".into();
        s.brokers = 3;
        s.controllers = 3;
        s.voters = 0;
        s.security = Security::Scram;
        s.topics = vec![Topic {
            name: "Orders_v2".into(),
            partitions: 6,
            replicas: 3,
            configs: [("retention.ms".to_string(), "86400000".to_string())].into(),
        }];
        let export = export(&s).unwrap();
        let text = yaml(&export);
        assert!(
            text.contains("exported as 4.3.1"),
            "the version is mapped, said"
        );
        assert!(!text.contains("password:"), "no secret in the export");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn mtls_users_are_their_certificates_and_zookeeper_mode_is_refused() {
        let mut s = source();
        s.security = Security::Mtls;
        let export = export(&s).unwrap();
        let kafka = &export.documents[0]["spec"]["kafka"];
        assert_eq!(kafka["authorization"]["superUsers"][0], "CN=admin");
        assert_eq!(kafka["listeners"][0]["authentication"]["type"], "tls");
        let users: Vec<&Value> = export
            .documents
            .iter()
            .filter(|d| d["kind"] == "KafkaUser")
            .collect();
        assert_eq!(users.len(), 2);
        s.mode = Mode::Zookeeper;
        assert_eq!(super::export(&s), Err(ZookeeperMode));
    }

    #[test]
    fn the_supported_releases_are_strimzis_own_list() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/strimzi-1.2.0/kafka-versions.yaml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let versions: Vec<Value> = yaml_serde::from_str(&text).unwrap();
        let supported: Vec<&str> = versions
            .iter()
            .filter(|v| v["supported"] == true)
            .map(|v| v["version"].as_str().unwrap())
            .collect();
        assert_eq!(supported, SUPPORTED_KAFKA);
    }

    #[test]
    fn combined_voters_and_serving_brokers_are_two_pools() {
        let mut s = source();
        s.brokers = 5;
        s.voters = 3;
        let pools: Vec<(String, u64)> = export(&s)
            .unwrap()
            .documents
            .iter()
            .filter(|d| d["kind"] == "KafkaNodePool")
            .map(|d| {
                (
                    d["metadata"]["name"].as_str().unwrap().to_string(),
                    d["spec"]["replicas"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            pools,
            [("combined".to_string(), 3), ("brokers".to_string(), 2)]
        );
        assert_eq!(resource_name("Orders_v2"), "orders-v2");
    }
}
