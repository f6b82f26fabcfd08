//! Kafka readiness through librdkafka: the broker is listed in metadata, a topic is led.

use super::ProbeError;
use crate::messaging::admin::{Admin, AdminError, ClusterInfo, TopicDescription};
use serde::Serialize;
use std::time::Duration;

/// The broker as the cluster metadata lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerListed {
    pub node_id: u32,
    /// host:port the broker advertises.
    pub address: String,
    #[serde(flatten)]
    pub cluster: ClusterInfo,
}

impl BrokerListed {
    pub fn describe(&self) -> String {
        let mut s = format!("broker {} listed at {}", self.node_id, self.address);
        if let Some(id) = &self.cluster.cluster_id {
            s.push_str(&format!(", cluster {id}"));
        }
        s
    }
}

/// The broker `node_id` is listed in the metadata `bootstrap` answers with.
pub async fn broker_listed(
    bootstrap: &str,
    node_id: u32,
    timeout: Duration,
) -> Result<BrokerListed, ProbeError> {
    let admin = Admin::new(bootstrap, timeout)?;
    let cluster = admin.cluster().await;
    admin.close().await;
    let cluster = cluster?;
    let broker = cluster
        .brokers
        .iter()
        .find(|b| i64::from(b.id) == i64::from(node_id))
        .ok_or_else(|| ProbeError::BrokerNotListed {
            bootstrap: bootstrap.to_string(),
            node_id,
            listed: cluster.brokers.iter().map(|b| b.id).collect(),
        })?;
    Ok(BrokerListed {
        node_id,
        address: format!("{}:{}", broker.host, broker.port),
        cluster: cluster.clone(),
    })
}

/// The topic exists and every partition has a leader.
pub async fn topic_ready(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<TopicDescription, ProbeError> {
    let admin = Admin::new(bootstrap, timeout)?;
    let ready = topic_ready_with(&admin, topic).await;
    admin.close().await;
    ready
}

/// Like [`topic_ready`], through an admin client the caller already has.
pub async fn topic_ready_with(admin: &Admin, topic: &str) -> Result<TopicDescription, ProbeError> {
    let description = admin.describe_topic(topic).await?;
    let leaderless = description.leaderless();
    if description.partitions.is_empty() || !leaderless.is_empty() {
        return Err(ProbeError::NoLeader {
            topic: topic.to_string(),
            partitions: leaderless,
        });
    }
    Ok(description)
}

/// Creates `topic` (1 partition, replication 1) unless it exists, then checks its leaders.
pub async fn ensure_topic_ready(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<TopicDescription, ProbeError> {
    let admin = Admin::new(bootstrap, timeout)?;
    let ready = async {
        match admin.describe_topic(topic).await {
            Ok(_) => {}
            Err(AdminError::UnknownTopic { .. }) => match admin.create_topic(topic, 1, 1).await {
                Ok(()) | Err(AdminError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        }
        topic_ready_with(&admin, topic).await
    }
    .await;
    admin.close().await;
    ready
}

#[cfg(test)]
mod tests {
    use super::super::zookeeper::testing::closed_port;
    use super::*;

    #[tokio::test]
    async fn kafka_refused_is_unreachable() {
        let port = closed_port().await;
        let bootstrap = format!("127.0.0.1:{port}");
        let err = broker_listed(&bootstrap, 1, Duration::from_millis(500))
            .await
            .unwrap_err();
        match &err {
            ProbeError::KafkaUnreachable { reason, .. } => {
                assert!(reason.contains("refused"), "{reason}")
            }
            other => panic!("unexpected {other}"),
        }
    }
}
