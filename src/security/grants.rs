//! What the developer user may do, in Kafka's own words: one table, read by the ACLs kafkup
//! creates ([`super::acl`]) and by the `KafkaUser` an export writes. Everything with topics,
//! consumer groups and transactions; not the cluster's configuration and not ACLs.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Topic,
    Group,
    TransactionalId,
    /// The one cluster resource (ACLs name it `kafka-cluster`).
    Cluster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Read,
    Write,
    Create,
    Delete,
    Describe,
    DescribeConfigs,
    AlterConfigs,
}

impl Operation {
    /// As Kafka's tools and Strimzi's `KafkaUser` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Read => "Read",
            Operation::Write => "Write",
            Operation::Create => "Create",
            Operation::Delete => "Delete",
            Operation::Describe => "Describe",
            Operation::DescribeConfigs => "DescribeConfigs",
            Operation::AlterConfigs => "AlterConfigs",
        }
    }
}

/// The developer's grants: each on every resource of its type (`*`, literal).
pub const DEVELOPER: &[(Resource, &[Operation])] = {
    use Operation::*;
    &[
        (
            Resource::Topic,
            &[
                Read,
                Write,
                Create,
                Delete,
                Describe,
                DescribeConfigs,
                AlterConfigs,
            ],
        ),
        (Resource::Group, &[Read, Describe, Delete]),
        (Resource::TransactionalId, &[Write, Describe]),
        (Resource::Cluster, &[Describe]),
    ]
};
