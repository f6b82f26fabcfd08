//! The inventory of a running cluster, asked of its brokers as a client (the admin identity
//! of the run): metadata and topic configs through the admin client, end offsets and the
//! groups' committed offsets through consumers that join no group.

use super::{Inventory, TopicFacts};
use crate::messaging::admin::Admin;
use crate::messaging::{blocking, client_config, QuietContext};
use anyhow::{Context as _, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::Duration;

/// Internal topics (`__consumer_offsets`, …) are the brokers' own: their offsets move by themselves.
fn is_internal(topic: &str) -> bool {
    topic.starts_with("__")
}

/// What the cluster at `bootstrap` holds now.
pub async fn take(bootstrap: &str, timeout: Duration) -> Result<Inventory> {
    let admin = Admin::new(bootstrap, timeout)?;
    let described = admin.describe_all().await;
    let mut topics = BTreeMap::new();
    for topic in described?.into_iter().filter(|t| !is_internal(&t.name)) {
        let configs = admin.own_configs(&topic.name).await?;
        let facts = TopicFacts {
            partitions: topic.partitions.len(),
            configs,
            end_offsets: vec![],
        };
        topics.insert(topic.name, facts);
    }
    admin.close().await;
    let bootstrap = bootstrap.to_string();
    let mut inventory = Inventory {
        topics,
        groups: BTreeMap::new(),
    };
    blocking(move || offsets(&bootstrap, &mut inventory, timeout).map(|()| inventory))
        .await
        .context("reading the end offsets and the groups' committed offsets")
}

/// Fills in each partition's end offset and every group's committed offsets.
fn offsets(
    bootstrap: &str,
    inventory: &mut Inventory,
    timeout: Duration,
) -> Result<(), KafkaError> {
    let consumer: BaseConsumer<QuietContext> =
        client_config(bootstrap).create_with_context(QuietContext::default())?;
    let mut all = TopicPartitionList::new();
    for (name, facts) in inventory.topics.iter_mut() {
        for partition in 0..facts.partitions as i32 {
            let (_, high) = consumer.fetch_watermarks(name, partition, timeout)?;
            facts.end_offsets.push(high);
            all.add_partition(name, partition);
        }
    }
    let groups = consumer.fetch_group_list(None, timeout)?;
    for group in groups.groups() {
        let committed = committed(bootstrap, group.name(), &all, timeout)?;
        if !committed.is_empty() {
            inventory.groups.insert(group.name().to_string(), committed);
        }
    }
    Ok(())
}

/// `group`'s committed offsets of `partitions` ("topic-partition" → offset), asked by a
/// consumer that names the group without joining it.
fn committed(
    bootstrap: &str,
    group: &str,
    partitions: &TopicPartitionList,
    timeout: Duration,
) -> Result<BTreeMap<String, i64>, KafkaError> {
    let consumer: BaseConsumer<QuietContext> = client_config(bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create_with_context(QuietContext::default())?;
    let list = consumer.committed_offsets(partitions.clone(), timeout)?;
    Ok(list
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((format!("{}-{}", e.topic(), e.partition()), o)),
            _ => None,
        })
        .collect())
}
