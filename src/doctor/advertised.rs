//! What a broker hands its clients: the brokers and addresses of a Metadata answer, asked
//! for over a plain TCP connection with Kafka's own protocol (the `kafka-protocol` crate).
//! librdkafka cannot say it when an advertised address is wrong — it dials that address and
//! its metadata request times out — and that is the trap doctor looks for.

use crate::messaging::raw;
use kafka_protocol::messages::{ApiKey, MetadataRequest, MetadataResponse};
use std::time::Duration;

/// Metadata v9: the first flexible version, answered by Kafka 2.4 to 4.x (4.0 dropped v0–v3).
const VERSION: i16 = 9;

/// A broker as the answer lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: i32,
    pub host: String,
    pub port: u16,
}

/// The broker a `server.properties` configures: its id and the first address of
/// `advertised.listeners` (the clients' listener).
pub fn configured(server_properties: &str) -> Option<Listed> {
    let value = |key: &str| {
        server_properties
            .lines()
            .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    let id = value("broker.id").or(value("node.id"))?.parse().ok()?;
    let first = value("advertised.listeners")?.split(',').next()?;
    let (_, address) = first.split_once("://")?;
    let (host, port) = address.rsplit_once(':')?;
    Some(Listed {
        id,
        host: host.to_string(),
        port: port.parse().ok()?,
    })
}

/// The brokers `address` (host:port of a plaintext listener) lists, without topics.
pub async fn brokers(address: &str, timeout: Duration) -> Result<Vec<Listed>, String> {
    let request = MetadataRequest::default().with_topics(Some(vec![]));
    let answer = raw::ask(address, ApiKey::Metadata, &request, VERSION, timeout)
        .await
        .map_err(|e| format!("metadata request: {e}"))?;
    Ok(listed(&answer))
}

fn listed(answer: &MetadataResponse) -> Vec<Listed> {
    answer
        .brokers
        .iter()
        .map(|b| Listed {
            id: b.node_id.0,
            host: b.host.to_string(),
            port: u16::try_from(b.port).unwrap_or(0),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
    use kafka_protocol::messages::{BrokerId, ResponseHeader};
    use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};

    #[test]
    fn an_answer_lists_each_broker_as_advertised() {
        let answer =
            MetadataResponse::default().with_brokers(vec![MetadataResponseBroker::default()
                .with_node_id(BrokerId(2))
                .with_host(StrBytes::from_static_str("kafka-2"))
                .with_port(19092)]);
        let mut body = bytes::BytesMut::new();
        let header = ResponseHeader::default().with_correlation_id(1);
        header
            .encode(&mut body, MetadataResponse::header_version(VERSION))
            .unwrap();
        answer.encode(&mut body, VERSION).unwrap();
        let listed = listed(&raw::parse::<MetadataResponse>(&body, VERSION).unwrap());
        assert_eq!(
            listed,
            [Listed {
                id: 2,
                host: "kafka-2".into(),
                port: 19092
            }]
        );
        let request = MetadataRequest::default().with_topics(Some(vec![]));
        assert!(
            raw::frame(ApiKey::Metadata, &request, VERSION)
                .unwrap()
                .len()
                > 4
        );
    }

    #[test]
    fn a_config_names_the_broker_and_its_clients_address() {
        let config = "broker.id=3\nadvertised.listeners=SSL://127.0.0.1:9094,INTERNAL://kafkup-x-kafka-3:19092\n";
        let want = Listed {
            id: 3,
            host: "127.0.0.1".into(),
            port: 9094,
        };
        assert_eq!(configured(config), Some(want));
        assert_eq!(
            configured("node.id=1\n"),
            None,
            "a dedicated controller advertises nothing"
        );
    }
}
