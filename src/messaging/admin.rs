//! Topic administration through librdkafka's AdminClient: create, delete, list, describe.
//! Used by `kafkup topic`, the self-test and the topic readiness probe.

pub use super::{client_config, QuietContext};

use super::blocking;
use crate::error::Diagnose;
use crate::topics::{TopicDecl, TopicSeen};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, ConfigSource, NewPartitions, NewTopic,
    ResourceSpecifier, TopicReplication, TopicResult,
};
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::types::RDKafkaErrorCode;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    // KafkaError goes into the message, not the source chain: its own source repeats it.
    #[error("could not create a Kafka client for {bootstrap}: {error}")]
    Client {
        bootstrap: String,
        error: Box<KafkaError>,
    },
    #[error("topic `{topic}` already exists")]
    AlreadyExists { topic: String },
    #[error("topic `{topic}` does not exist")]
    UnknownTopic { topic: String },
    /// Listed, but without partitions or with an error (just created, or being deleted).
    #[error("topic `{topic}` is not settled yet (no partitions listed, or an error)")]
    NotSettled { topic: String },
    /// The broker answered, and said no (bad replication factor, deletion disabled, …).
    #[error("the broker refused to {op} `{name}`: {code}")]
    Rejected {
        op: &'static str,
        name: String,
        code: RDKafkaErrorCode,
    },
    /// No usable answer from the broker (unreachable, timed out).
    #[error("{op} at {bootstrap} failed: {}", cause.clone().unwrap_or_else(|| error.to_string()))]
    Request {
        op: &'static str,
        bootstrap: String,
        error: Box<KafkaError>,
        /// librdkafka's last error, which says why ("Connection refused").
        cause: Option<String>,
    },
}

impl Diagnose for AdminError {
    fn help(&self) -> Option<String> {
        match self {
            AdminError::AlreadyExists { topic } => Some(format!(
                "use the existing topic, or remove it first with `kafkup topic delete {topic}`"
            )),
            AdminError::UnknownTopic { .. } => Some("`kafkup topic list` shows the topics".into()),
            AdminError::Request { .. } | AdminError::Client { .. } => Some(
                "is the broker running and is the address right? `kafkup status` shows it".into(),
            ),
            AdminError::Rejected { .. } => None,
            AdminError::NotSettled { .. } => {
                Some("run setup again in a moment; `kafkup topic describe` shows it".into())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicDescription {
    pub name: String,
    pub partitions: Vec<PartitionDescription>,
    /// A topic-level error the broker reported (e.g. leader not available yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionDescription {
    pub id: i32,
    /// `None` while the partition has no leader.
    pub leader: Option<i32>,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PartitionDescription {
    /// Every replica is in the in-sync set.
    pub fn in_sync(&self) -> bool {
        self.replicas.iter().all(|r| self.isr.contains(r))
    }
}

impl TopicDescription {
    /// Partitions that have no leader yet.
    pub fn leaderless(&self) -> Vec<i32> {
        self.partitions
            .iter()
            .filter(|p| p.leader.is_none())
            .map(|p| p.id)
            .collect()
    }
}

/// What a metadata answer says about the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterInfo {
    pub cluster_id: Option<String>,
    pub brokers: Vec<BrokerAddress>,
    /// How many partitions (of every topic) each broker leads, by broker id.
    pub leaders: std::collections::BTreeMap<i32, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerAddress {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

/// Admin and metadata requests to one cluster; cheap to share between tasks.
#[derive(Clone)]
pub struct Admin {
    /// Made on the first admin request: probes only read metadata.
    client: Arc<OnceLock<AdminClient<QuietContext>>>,
    /// Metadata goes through a plain producer handle because its event queue can be
    /// polled, which is how librdkafka hands over the error that explains a failure
    /// (nothing polls an AdminClient's main queue).
    meta: Arc<BaseProducer<QuietContext>>,
    bootstrap: String,
    timeout: Duration,
}

impl Admin {
    /// `timeout` bounds every request made through this client.
    pub fn new(bootstrap: &str, timeout: Duration) -> Result<Self, AdminError> {
        let client_error = |source| AdminError::Client {
            bootstrap: bootstrap.to_string(),
            error: Box::new(source),
        };
        let meta = client_config(bootstrap)
            .create_with_context(QuietContext::default())
            .map_err(client_error)?;
        Ok(Admin {
            client: Arc::default(),
            meta: Arc::new(meta),
            bootstrap: bootstrap.to_string(),
            timeout,
        })
    }

    fn admin_client(&self) -> Result<&AdminClient<QuietContext>, AdminError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = client_config(&self.bootstrap)
            .create_with_context(QuietContext::default())
            .map_err(|source| AdminError::Client {
                bootstrap: self.bootstrap.clone(),
                error: Box::new(source),
            })?;
        // Another clone may have won the race; either client will do.
        Ok(self.client.get_or_init(|| client))
    }

    /// Drops the clients off the async runtime: librdkafka joins its threads on drop.
    pub async fn close(self) {
        blocking(move || drop(self)).await
    }

    fn options(&self) -> AdminOptions {
        AdminOptions::new()
            .request_timeout(Some(self.timeout))
            // Let the broker finish the operation before it answers.
            .operation_timeout(Some(self.timeout))
    }

    fn request_error(&self, op: &'static str, source: KafkaError) -> AdminError {
        AdminError::Request {
            op,
            bootstrap: self.bootstrap.clone(),
            error: Box::new(source),
            cause: self.meta.client().context().last_error(),
        }
    }

    pub async fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i32,
    ) -> Result<(), AdminError> {
        let topic = NewTopic::new(
            name,
            partitions,
            TopicReplication::Fixed(replication_factor),
        );
        self.create(&topic).await
    }

    /// Creates a declared topic; a count it leaves out is the broker's default.
    pub async fn create_declared(&self, decl: &TopicDecl) -> Result<(), AdminError> {
        // -1: the broker's num.partitions and default.replication.factor (Kafka 2.4+).
        let partitions = decl.partitions.map_or(-1, |p| p as i32);
        let replication = decl.replication_factor.map_or(-1, i32::from);
        let mut topic = NewTopic::new(&decl.name, partitions, TopicReplication::Fixed(replication));
        for (key, value) in &decl.configs {
            topic = topic.set(key, value);
        }
        self.create(&topic).await
    }

    async fn create(&self, topic: &NewTopic<'_>) -> Result<(), AdminError> {
        let results = self
            .admin_client()?
            .create_topics([topic], &self.options())
            .await
            .map_err(|e| self.request_error("create topic", e))?;
        single_result("create topic", topic.name, results)
    }

    /// Raises the partition count of `name` to `total`.
    pub async fn add_partitions(&self, name: &str, total: u32) -> Result<(), AdminError> {
        let partitions = NewPartitions::new(name, total as usize);
        let results = self
            .admin_client()?
            .create_partitions([&partitions], &self.options())
            .await
            .map_err(|e| self.request_error("add partitions to", e))?;
        single_result("add partitions to", name, results)
    }

    /// The declared topics of `names` that exist, with their partitions, replication factor
    /// and configuration.
    pub async fn topics_seen(
        &self,
        names: &[&str],
    ) -> Result<BTreeMap<String, TopicSeen>, AdminError> {
        let metadata = self.metadata(None).await?;
        let mut seen = BTreeMap::new();
        for topic in metadata
            .topics()
            .iter()
            .filter(|t| names.contains(&t.name()))
        {
            let described = describe(&metadata, topic.name());
            let description = match described {
                Err(AdminError::UnknownTopic { .. }) => continue,
                Err(e) => return Err(e),
                Ok(d) if d.partitions.is_empty() || d.error.is_some() => {
                    return Err(AdminError::NotSettled { topic: d.name })
                }
                Ok(d) => d,
            };
            let replicas = description.partitions.iter().map(|p| p.replicas.len());
            let topic = TopicSeen {
                partitions: description.partitions.len() as u32,
                replication_factor: replicas.max().unwrap_or(0) as u16,
                configs: BTreeMap::new(),
            };
            seen.insert(description.name, topic);
        }
        for (name, topic) in seen.iter_mut() {
            topic.configs = self
                .topic_configs(name)
                .await?
                .into_iter()
                .map(|(key, value, _)| (key, value))
                .collect();
        }
        Ok(seen)
    }

    /// The configs topic `name` sets itself (not the brokers' defaults).
    pub async fn own_configs(&self, name: &str) -> Result<BTreeMap<String, String>, AdminError> {
        let all = self.topic_configs(name).await?;
        Ok(all
            .into_iter()
            .filter(|(_, _, own)| *own)
            .map(|(key, value, _)| (key, value))
            .collect())
    }

    /// Every config of topic `name` with a value: key, value and whether the topic sets it
    /// itself (not a broker's default).
    async fn topic_configs(&self, name: &str) -> Result<Vec<(String, String, bool)>, AdminError> {
        let results = self
            .admin_client()?
            .describe_configs([&ResourceSpecifier::Topic(name)], &self.options())
            .await
            .map_err(|e| self.request_error("describe the configs of", e))?;
        let resource = match results.into_iter().next() {
            Some(Ok(resource)) => resource,
            Some(Err(code)) => return Err(self.rejected("describe the configs of", name, code)),
            None => return Ok(vec![]),
        };
        Ok(resource
            .entries
            .into_iter()
            .filter_map(|e| {
                let own = e.source == ConfigSource::DynamicTopic;
                Some((e.name, e.value?, own))
            })
            .collect())
    }

    /// Sets configs of topic `name`, keeping the others it sets itself (AlterConfigs replaces
    /// a topic's whole set; librdkafka's crate has no incremental form).
    pub async fn set_topic_configs(
        &self,
        name: &str,
        set: &BTreeMap<String, String>,
    ) -> Result<(), AdminError> {
        let mut configs: BTreeMap<String, String> = self
            .topic_configs(name)
            .await?
            .into_iter()
            .filter(|(_, _, own)| *own)
            .map(|(key, value, _)| (key, value))
            .collect();
        configs.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut alter = AlterConfig::new(ResourceSpecifier::Topic(name));
        for (key, value) in &configs {
            alter = alter.set(key, value);
        }
        let results = self
            .admin_client()?
            .alter_configs([&alter], &self.options())
            .await
            .map_err(|e| self.request_error("set the configs of", e))?;
        match results.into_iter().next() {
            Some(Err((_, code))) => Err(self.rejected("set the configs of", name, code)),
            _ => Ok(()),
        }
    }

    fn rejected(&self, op: &'static str, name: &str, code: RDKafkaErrorCode) -> AdminError {
        AdminError::Rejected {
            op,
            name: name.to_string(),
            code,
        }
    }

    pub async fn delete_topic(&self, name: &str) -> Result<(), AdminError> {
        let results = self
            .admin_client()?
            .delete_topics(&[name], &self.options())
            .await
            .map_err(|e| self.request_error("delete topic", e))?;
        single_result("delete topic", name, results)
    }

    /// Names of all topics, internal ones included, sorted.
    pub async fn list_topics(&self) -> Result<Vec<String>, AdminError> {
        let metadata = self.metadata(None).await?;
        let mut names: Vec<String> = metadata
            .topics()
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Every topic (internal ones included), from one metadata request.
    pub async fn describe_all(&self) -> Result<Vec<TopicDescription>, AdminError> {
        let metadata = self.metadata(None).await?;
        let names: Vec<String> = metadata
            .topics()
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        names.iter().map(|name| describe(&metadata, name)).collect()
    }

    pub async fn describe_topic(&self, name: &str) -> Result<TopicDescription, AdminError> {
        let metadata = self.metadata(Some(name.to_string())).await?;
        describe(&metadata, name)
    }

    /// Brokers, cluster id and the partitions each broker leads, from one metadata request.
    pub async fn cluster(&self) -> Result<ClusterInfo, AdminError> {
        self.cluster_within(self.timeout).await
    }

    /// [`Admin::cluster`] within [`super::CONNECT_TIMEOUT`]: the first request of a command,
    /// so that a broker that does not answer is said to within seconds.
    pub async fn reach(&self) -> Result<ClusterInfo, AdminError> {
        self.cluster_within(super::CONNECT_TIMEOUT.min(self.timeout))
            .await
    }

    /// The controller the brokers name (DescribeCluster): in ZooKeeper mode the broker
    /// ZooKeeper elected. A request of its own, asked only by `status`.
    pub async fn controller(&self) -> Option<i32> {
        let (meta, timeout) = (self.meta.clone(), self.timeout);
        let ask = move || super::controller::controller_id(meta.client(), timeout);
        blocking(move || Ok::<_, KafkaError>(ask()))
            .await
            .ok()
            .flatten()
    }

    async fn cluster_within(&self, timeout: Duration) -> Result<ClusterInfo, AdminError> {
        let meta = self.meta.clone();
        let answer = blocking(move || {
            let client = meta.client();
            let metadata = fetch_metadata(&meta, None, timeout)?;
            // Both were cached by the metadata answer just received: no waiting.
            let cluster_id = client.fetch_cluster_id(Duration::ZERO);
            Ok((metadata, cluster_id))
        })
        .await
        .map_err(|e| self.request_error("metadata request", e))?;
        let (metadata, cluster_id) = answer;
        let mut brokers: Vec<BrokerAddress> = metadata
            .brokers()
            .iter()
            .map(|b| BrokerAddress {
                id: b.id(),
                host: b.host().to_string(),
                port: b.port(),
            })
            .collect();
        brokers.sort_by_key(|b| b.id);
        let mut leaders = std::collections::BTreeMap::new();
        let partitions = metadata.topics().iter().flat_map(|t| t.partitions());
        for leader in partitions.map(|p| p.leader()).filter(|l| *l >= 0) {
            *leaders.entry(leader).or_insert(0) += 1;
        }
        Ok(ClusterInfo {
            cluster_id,
            brokers,
            leaders,
        })
    }

    /// Deletes a consumer group (the self-test removes its own).
    pub async fn delete_group(&self, group: &str) -> Result<(), AdminError> {
        let results = self
            .admin_client()?
            .delete_groups(&[group], &self.options())
            .await
            .map_err(|e| self.request_error("delete group", e))?;
        match results.into_iter().next() {
            Some(Err((_, code))) => Err(AdminError::Rejected {
                op: "delete group",
                name: group.to_string(),
                code,
            }),
            _ => Ok(()),
        }
    }

    /// Cluster metadata; the call blocks, so it runs on the blocking pool.
    async fn metadata(&self, topic: Option<String>) -> Result<Metadata, AdminError> {
        let meta = self.meta.clone();
        let timeout = self.timeout;
        blocking(move || fetch_metadata(&meta, topic.as_deref(), timeout))
            .await
            .map_err(|e| self.request_error("metadata request", e))
    }
}

/// A metadata request; on failure, delivers librdkafka's queued errors to the context
/// so that `last_error` can say why.
fn fetch_metadata(
    meta: &BaseProducer<QuietContext>,
    topic: Option<&str>,
    timeout: Duration,
) -> Result<Metadata, KafkaError> {
    let result = meta.client().fetch_metadata(topic, timeout);
    if result.is_err() {
        meta.poll(Duration::from_millis(10));
    }
    result
}

fn single_result(
    op: &'static str,
    topic: &str,
    results: Vec<TopicResult>,
) -> Result<(), AdminError> {
    match results.into_iter().next() {
        Some(Ok(_)) | None => Ok(()),
        Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Err(AdminError::AlreadyExists {
            topic: topic.to_string(),
        }),
        Some(Err((_, RDKafkaErrorCode::UnknownTopicOrPartition))) => {
            Err(AdminError::UnknownTopic {
                topic: topic.to_string(),
            })
        }
        Some(Err((_, code))) => Err(AdminError::Rejected {
            op,
            name: topic.to_string(),
            code,
        }),
    }
}

/// The description of `name` in a metadata answer.
fn describe(metadata: &Metadata, name: &str) -> Result<TopicDescription, AdminError> {
    let unknown = || AdminError::UnknownTopic {
        topic: name.to_string(),
    };
    let topic = metadata
        .topics()
        .iter()
        .find(|t| t.name() == name)
        .ok_or_else(unknown)?;
    let topic_error = topic.error().map(RDKafkaErrorCode::from);
    if topic_error == Some(RDKafkaErrorCode::UnknownTopicOrPartition) {
        return Err(unknown());
    }
    let mut partitions: Vec<PartitionDescription> = topic
        .partitions()
        .iter()
        .map(|p| PartitionDescription {
            id: p.id(),
            // Kafka reports -1 for "no leader" (LEADER_NOT_AVAILABLE).
            leader: (p.leader() >= 0).then_some(p.leader()),
            replicas: p.replicas().to_vec(),
            isr: p.isr().to_vec(),
            error: p.error().map(|e| RDKafkaErrorCode::from(e).to_string()),
        })
        .collect();
    partitions.sort_by_key(|p| p.id);
    Ok(TopicDescription {
        name: name.to_string(),
        partitions,
        error: topic_error.map(|e| e.to_string()),
    })
}
