//! One request in Kafka's own protocol over a plain TCP connection (the `kafka-protocol`
//! crate), for what librdkafka does not ask: the addresses a Metadata answer advertises
//! (doctor), the feature levels of ApiVersions and UpdateFeatures (upgrade). Plaintext
//! listeners only.

use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An answer larger than this is not one of the small answers asked for here.
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// Sends `request` (`key`, as `version`) to `address` and reads its answer, within `timeout`.
/// (The crate's `Request` trait, which pairs them, needs its broker side: not in kafkup.)
pub async fn ask<Q, A>(
    address: &str,
    key: ApiKey,
    request: &Q,
    version: i16,
    timeout: Duration,
) -> Result<A, String>
where
    Q: Encodable + HeaderVersion,
    A: Decodable + HeaderVersion,
{
    let framed = frame(key, request, version)?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|e| format!("cannot connect to {address}: {e}"))?;
        stream.write_all(&framed).await.map_err(|e| e.to_string())?;
        let length = stream.read_i32().await.map_err(|e| {
            format!("{address} closed the connection instead of answering ({e}): a TLS listener?")
        })?;
        let length = usize::try_from(length)
            .ok()
            .filter(|l| *l <= MAX_ANSWER)
            .ok_or("not a Kafka answer")?;
        let mut body = vec![0u8; length];
        stream
            .read_exact(&mut body)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(body)
    };
    let body = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("{address} did not answer within {} s", timeout.as_secs()))??;
    parse(&body, version)
}

/// `request` with its header, behind its length.
pub fn frame<Q: Encodable + HeaderVersion>(
    key: ApiKey,
    request: &Q,
    version: i16,
) -> Result<Vec<u8>, String> {
    let header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("kafkup")));
    let mut body = bytes::BytesMut::new();
    header
        .encode(&mut body, Q::header_version(version))
        .and_then(|()| request.encode(&mut body, version))
        .map_err(|e| e.to_string())?;
    let mut framed = (body.len() as i32).to_be_bytes().to_vec();
    framed.extend_from_slice(&body);
    Ok(framed)
}

/// The answer `A` in `body` (without its length).
pub fn parse<A: Decodable + HeaderVersion>(body: &[u8], version: i16) -> Result<A, String> {
    let mut buf = bytes::Bytes::copy_from_slice(body);
    ResponseHeader::decode(&mut buf, A::header_version(version))
        .map_err(|e| format!("not an answer to that request: {e}"))?;
    A::decode(&mut buf, version).map_err(|e| format!("not an answer to that request: {e}"))
}
