//! Readiness probes: ZooKeeper four-letter words ([`zookeeper`]), Kafka metadata and topic
//! leaders ([`kafka`]), and waiting for them inside one deadline ([`wait`]).

pub mod kafka;
mod wait;
pub mod zookeeper;

pub use kafka::{broker_listed, ensure_topic_ready, topic_ready, topic_ready_with, BrokerListed};
pub use wait::{check_all, wait_ready, NodeProbe, NotReady};
pub use zookeeper::{four_letter_word, mntr, ruok, srvr, Timeouts, ZkMode, ZkServerInfo};

use crate::error::{Diagnose, ExitCode};
use crate::messaging::admin::{AdminError, TopicDescription};
use crate::spec::ProbeSpec;
use serde::Serialize;
use std::io;
use std::time::Duration;

/// How long one probe may take when run on its own.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a topic probe may create the topic it looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicAccess {
    /// `status`: look only; a missing topic is reported.
    ReadOnly,
    /// `setup`, `start`, `probe`: create kafkup's health topic when it is missing.
    CreateIfMissing,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("connection to {addr} refused (nothing listens there)")]
    Refused { addr: String },
    #[error("{addr} did not {stage} within {}", secs(*after))]
    Timeout {
        addr: String,
        stage: &'static str,
        after: Duration,
    },
    #[error("talking to {addr} failed")]
    Io {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error("ZooKeeper at {addr} is not serving requests yet")]
    NotServing { addr: String },
    #[error("ZooKeeper at {addr} refuses `{word}`: it is not in 4lw.commands.whitelist")]
    NotWhitelisted { addr: String, word: String },
    #[error("unexpected answer to `{word}` from {addr} ({reason}): {answer:?}")]
    Unparsable {
        addr: String,
        word: String,
        reason: String,
        answer: String,
    },
    #[error("Kafka at {bootstrap} did not answer: {reason}")]
    KafkaUnreachable { bootstrap: String, reason: String },
    #[error(
        "broker {node_id} is not listed in the metadata from {bootstrap} (listed: {listed:?})"
    )]
    BrokerNotListed {
        bootstrap: String,
        node_id: u32,
        listed: Vec<i32>,
    },
    #[error("topic `{topic}` does not exist")]
    TopicMissing { topic: String },
    #[error("topic `{topic}` has partitions without a leader: {partitions:?}")]
    NoLeader { topic: String, partitions: Vec<i32> },
    #[error(transparent)]
    Admin(AdminError),
}

impl Diagnose for ProbeError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::NotReady
    }
    fn help(&self) -> Option<String> {
        match self {
            ProbeError::NotWhitelisted { word, .. } => Some(format!(
                "add `{word}` to 4lw.commands.whitelist in zoo.cfg (kafkup renders srvr,ruok,mntr)"
            )),
            _ => {
                Some("`kafkup status` shows the services; `kafkup logs <service>` shows why".into())
            }
        }
    }
}

impl From<AdminError> for ProbeError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Request {
                bootstrap,
                error,
                cause,
                ..
            } => ProbeError::KafkaUnreachable {
                bootstrap,
                // librdkafka's last error says why ("Connection refused"); the request
                // error itself only says "timed out".
                reason: cause.unwrap_or_else(|| error.to_string()),
            },
            AdminError::UnknownTopic { topic } => ProbeError::TopicMissing { topic },
            other => ProbeError::Admin(other),
        }
    }
}

/// A probe that passed, for `status --json` and progress lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeOutcome {
    /// What was probed: "ZooKeeper at 127.0.0.1:2181".
    pub probe: String,
    /// What it said: "ZooKeeper 3.9.6 standalone, 5 nodes".
    pub description: String,
    #[serde(flatten)]
    pub details: ProbeDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProbeDetails {
    Zookeeper(ZkServerInfo),
    KafkaBroker(BrokerListed),
    Topic(TopicDescription),
}

pub fn probe_label(spec: &ProbeSpec) -> String {
    match spec {
        ProbeSpec::ZookeeperServing { host, port } => format!("ZooKeeper at {host}:{port}"),
        ProbeSpec::KafkaBrokerListed { bootstrap, node_id } => {
            format!("Kafka broker {node_id} at {bootstrap}")
        }
        ProbeSpec::KafkaTopicReady { bootstrap, topic } => {
            format!("topic {topic} led at {bootstrap}")
        }
    }
}

/// Runs one probe once, taking at most about `limit`.
pub async fn check(
    spec: &ProbeSpec,
    access: TopicAccess,
    limit: Duration,
) -> Result<ProbeOutcome, ProbeError> {
    let probe = probe_label(spec);
    match spec {
        ProbeSpec::ZookeeperServing { host, port } => {
            let info = srvr(host, *port, Timeouts::within(limit)).await?;
            Ok(ProbeOutcome {
                probe,
                description: info.describe(),
                details: ProbeDetails::Zookeeper(info),
            })
        }
        ProbeSpec::KafkaBrokerListed { bootstrap, node_id } => {
            let listed = broker_listed(bootstrap, *node_id, limit).await?;
            Ok(ProbeOutcome {
                probe,
                description: listed.describe(),
                details: ProbeDetails::KafkaBroker(listed),
            })
        }
        ProbeSpec::KafkaTopicReady { bootstrap, topic } => {
            let ready = match access {
                TopicAccess::ReadOnly => topic_ready(bootstrap, topic, limit).await?,
                TopicAccess::CreateIfMissing => ensure_topic_ready(bootstrap, topic, limit).await?,
            };
            Ok(ProbeOutcome {
                probe,
                description: format!(
                    "topic {topic}: {} partition(s), all led",
                    ready.partitions.len()
                ),
                details: ProbeDetails::Topic(ready),
            })
        }
    }
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::zookeeper::parse_srvr;
    use super::zookeeper::testing::*;
    use super::*;

    #[test]
    fn outcome_json() {
        let info = parse_srvr(SRVR_STANDALONE).unwrap();
        let outcome = ProbeOutcome {
            probe: "ZooKeeper at 127.0.0.1:2181".into(),
            description: info.describe(),
            details: ProbeDetails::Zookeeper(info),
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json["kind"], "zookeeper");
        assert_eq!(json["mode"], "standalone");
        assert_eq!(json["node_count"], 5);
        assert_eq!(json["description"], "ZooKeeper 3.8.4 standalone, 5 nodes");
    }

    fn zk(port: u16) -> ProbeSpec {
        ProbeSpec::ZookeeperServing {
            host: "127.0.0.1".into(),
            port,
        }
    }

    #[tokio::test]
    async fn not_serving_is_distinct() {
        let (port, _) = fake_zookeeper(usize::MAX).await;
        let err = check(&zk(port), TopicAccess::ReadOnly, DEFAULT_TIMEOUT)
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::NotServing { .. }), "{err}");
    }
}
