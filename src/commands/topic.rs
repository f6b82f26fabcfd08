//! `kafkup topic create/list/describe/delete`: admin requests through librdkafka.

use crate::cli::TopicAction;
use crate::messaging::admin::{Admin, TopicDescription};
use anyhow::{Context as _, Result};
use serde_json::json;
use std::fmt::Write as _;
use std::time::Duration;

/// Bounds every request to the broker.
const TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(action: &TopicAction, bootstrap: &str, json: bool) -> Result<()> {
    let admin = Admin::new(bootstrap, TIMEOUT)?;
    // Is the broker there at all? Said within seconds, before a request that may take long.
    let result = match admin.reach().await {
        Ok(_) => act(&admin, action, json).await,
        Err(e) => Err(e.into()),
    };
    admin.close().await;
    result
}

async fn act(admin: &Admin, action: &TopicAction, json: bool) -> Result<()> {
    match action {
        TopicAction::Create {
            name,
            partitions,
            replication_factor,
            ..
        } => {
            admin
                .create_topic(name, *partitions, *replication_factor)
                .await
                .with_context(|| format!("creating topic `{name}`"))?;
            if json {
                super::print_json(&json!({
                    "created": name,
                    "partitions": partitions,
                    "replication_factor": replication_factor,
                }))?;
            } else {
                super::say(&format!(
                    "created topic {name} ({partitions} {}, replication factor {replication_factor})",
                    plural(*partitions as usize, "partition", "partitions")
                ))?;
            }
        }
        TopicAction::List { .. } => {
            let names = admin.list_topics().await.context("listing topics")?;
            if json {
                super::print_json(&names)?;
            } else {
                super::say(&names.join("\n"))?;
            }
        }
        TopicAction::Describe { name, .. } => {
            let description = admin
                .describe_topic(name)
                .await
                .with_context(|| format!("describing topic `{name}`"))?;
            if json {
                super::print_json(&description)?;
            } else {
                super::say(describe_text(&description).trim_end())?;
            }
        }
        TopicAction::Delete { name, .. } => {
            admin
                .delete_topic(name)
                .await
                .with_context(|| format!("deleting topic `{name}`"))?;
            if json {
                super::print_json(&json!({ "deleted": name }))?;
            } else {
                super::say(&format!("deleted topic {name}"))?;
            }
        }
    }
    Ok(())
}

/// The human form of `describe`, like `kafka-topics.sh --describe`.
fn describe_text(d: &TopicDescription) -> String {
    let mut out = format!("Topic: {}\tPartitions: {}", d.name, d.partitions.len());
    if let Some(error) = &d.error {
        let _ = write!(out, "\tError: {error}");
    }
    out.push('\n');
    for p in &d.partitions {
        let leader = p.leader.map_or("none".to_string(), |l| l.to_string());
        let _ = write!(
            out,
            "\tPartition: {}\tLeader: {leader}\tReplicas: {}\tIsr: {}",
            p.id,
            ids(&p.replicas),
            ids(&p.isr)
        );
        if let Some(error) = &p.error {
            let _ = write!(out, "\tError: {error}");
        }
        out.push('\n');
    }
    out
}

fn ids(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::admin::PartitionDescription;

    #[test]
    fn describe_like_kafka_topics() {
        let d = TopicDescription {
            name: "orders".into(),
            partitions: vec![
                PartitionDescription {
                    id: 0,
                    leader: Some(1),
                    replicas: vec![1, 2],
                    isr: vec![1, 2],
                    error: None,
                },
                PartitionDescription {
                    id: 1,
                    leader: None,
                    replicas: vec![2],
                    isr: vec![],
                    error: Some("Broker: Leader not available".into()),
                },
            ],
            error: None,
        };
        assert_eq!(
            describe_text(&d),
            "Topic: orders\tPartitions: 2\n\
             \tPartition: 0\tLeader: 1\tReplicas: 1,2\tIsr: 1,2\n\
             \tPartition: 1\tLeader: none\tReplicas: 2\tIsr: \tError: Broker: Leader not available\n"
        );
    }
}
