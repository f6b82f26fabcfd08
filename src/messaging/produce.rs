//! `kafkup produce`: each stdin line (or one `--value`) a message, acks=all and idempotent,
//! done only when every record is acknowledged. The producer settings and the topic check
//! here are shared with `kafkup serve`.

use super::outgoing::{self, NotText, OutRecord, Shape, ValueFormat};
use super::{blocking, client_config, QuietContext};
use crate::error::Diagnose;
use futures_util::stream::{FuturesUnordered, StreamExt};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::future_producer::OwnedDeliveryResult;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use serde::Serialize;
use std::future::Future;
use std::io::BufRead;
use std::time::Duration;

/// A producer, and its context's view of the last error (which a `FutureProducer` hides).
#[derive(Clone)]
pub struct KafkaProducer {
    pub inner: FutureProducer<QuietContext>,
    context: QuietContext,
}

impl KafkaProducer {
    pub fn last_error(&self) -> Option<String> {
        self.context.last_error()
    }
}

/// Records handed to librdkafka and not yet acknowledged, at most: bounds memory on a long
/// stdin while keeping batches full.
const MAX_IN_FLIGHT: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    // KafkaError goes into the message, not the source chain: its own source repeats it.
    #[error("could not create a Kafka producer for {bootstrap}: {error}")]
    Client {
        bootstrap: String,
        error: KafkaError,
    },
    #[error("the broker at {bootstrap} did not answer within {:.0} s: {cause}", waited.as_secs_f64())]
    Unreachable {
        bootstrap: String,
        waited: Duration,
        cause: String,
    },
    #[error("topic `{topic}` does not exist and the broker does not create topics on first use")]
    NoSuchTopic { topic: String },
    #[error("the broker refuses topic `{topic}`: {code}")]
    BadTopic {
        topic: String,
        code: RDKafkaErrorCode,
    },
    #[error("line {line}: {source}")]
    Input {
        line: u64,
        #[source]
        source: NotText,
    },
    #[error("reading stdin failed")]
    Read(#[source] std::io::Error),
    #[error("line {line}: the message takes {bytes} bytes as a Kafka record batch; the broker takes at most {limit} (message.max.bytes); it was not sent, nor anything after it")]
    TooLarge {
        line: u64,
        bytes: usize,
        limit: usize,
        chunked: bool,
    },
    #[error("{failed} of {total} records were not acknowledged; the first error: {first}")]
    NotAcknowledged {
        failed: u64,
        total: u64,
        first: String,
        /// The broker (or librdkafka) found a record too large.
        too_large: bool,
        chunked: bool,
    },
}

impl Diagnose for ProduceError {
    fn help(&self) -> Option<String> {
        match self {
            ProduceError::Client { .. } | ProduceError::Unreachable { .. } => Some(
                "is the broker running and is the address right? `kafkup status` shows it".into(),
            ),
            ProduceError::NoSuchTopic { topic } => {
                Some(format!("create it first: `kafkup topic create {topic}`"))
            }
            ProduceError::Input { .. } => Some("send it with --value-format raw".into()),
            ProduceError::BadTopic { .. } => Some(
                "topic names are letters, digits, '.', '_' and '-', at most 249 of them".into(),
            ),
            ProduceError::TooLarge { chunked, .. }
            | ProduceError::NotAcknowledged {
                too_large: true,
                chunked,
                ..
            } => Some(super::outgoing::too_large_help(*chunked)),
            ProduceError::NotAcknowledged { .. } => Some(
                "`kafkup logs kafka` shows the broker's side; --delivery-timeout waits longer"
                    .into(),
            ),
            ProduceError::Read(_) => None,
        }
    }
}

/// How long `produce` lets a batch fill: librdkafka's default, for bulk input.
pub const BULK_LINGER: Duration = Duration::from_millis(5);

/// The producer `produce` and `serve` use: acks=all, idempotent (no duplicates or reordering
/// on retries), and librdkafka itself gives up on a record after `delivery_timeout`.
/// Records sent within `linger` of each other share a batch.
pub fn new_producer(
    bootstrap: &str,
    delivery_timeout: Duration,
    linger: Duration,
) -> Result<KafkaProducer, ProduceError> {
    let mut config = client_config(bootstrap);
    config
        .set("acks", "all")
        .set("enable.idempotence", "true")
        // The guide's broker creates a topic on first use (auto.create.topics.enable=true);
        // a producer asks it to, as Kafka's own does. Whether it does stays the broker's call.
        .set("allow.auto.create.topics", "true")
        .set(
            "message.timeout.ms",
            delivery_timeout.as_millis().max(1).to_string(),
        )
        .set("linger.ms", linger.as_millis().to_string())
        // librdkafka's own limit (1 000 000 by default) is below the broker's: what the
        // broker takes is checked before a record is handed over (`OutRecord::fits`).
        .set(
            "message.max.bytes",
            crate::defaults::KAFKA_MAX_BATCH_BYTES.to_string(),
        );
    let context = QuietContext::default();
    let inner = config
        .create_with_context(context.clone())
        .map_err(|error| ProduceError::Client {
            bootstrap: bootstrap.to_string(),
            error,
        })?;
    Ok(KafkaProducer { inner, context })
}

/// How long a topic may take to appear after the broker was asked to create it.
const TOPIC_CREATION: Duration = Duration::from_secs(5);
const TOPIC_POLL: Duration = Duration::from_millis(100);

/// Asks the broker about `topic` — which, from this producer, asks it to create a missing
/// one — until the topic is there: an unreachable broker or a topic that will not exist fail
/// here, at once, instead of after the delivery timeout.
pub async fn ensure_topic(
    producer: &KafkaProducer,
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<(), ProduceError> {
    let client = producer.clone();
    let name = topic.to_string();
    let answer = blocking(move || {
        let deadline = std::time::Instant::now() + TOPIC_CREATION;
        loop {
            let result = client.inner.client().fetch_metadata(Some(&name), timeout);
            let topic_error = result.as_ref().ok().and_then(|m| {
                m.topics()
                    .iter()
                    .find(|t| t.name() == name)
                    .and_then(|t| t.error())
                    .map(RDKafkaErrorCode::from)
            });
            // The broker answers "unknown" while it creates the topic, too: ask again.
            let unknown = topic_error == Some(RDKafkaErrorCode::UnknownTopicOrPartition);
            if !unknown || std::time::Instant::now() >= deadline {
                return (result.map(|_| topic_error), client.last_error());
            }
            std::thread::sleep(TOPIC_POLL);
        }
    })
    .await;
    match answer {
        // No error, or no leader yet right after creation: librdkafka waits for the leader.
        (Ok(None | Some(RDKafkaErrorCode::LeaderNotAvailable)), _) => Ok(()),
        (Ok(Some(RDKafkaErrorCode::UnknownTopicOrPartition)), _) => {
            Err(ProduceError::NoSuchTopic {
                topic: topic.to_string(),
            })
        }
        (Ok(Some(code)), _) => Err(ProduceError::BadTopic {
            topic: topic.to_string(),
            code,
        }),
        (Err(error), cause) => Err(ProduceError::Unreachable {
            bootstrap: bootstrap.to_string(),
            waited: timeout,
            cause: cause.unwrap_or_else(|| error.to_string()),
        }),
    }
}

/// Hands one record to librdkafka; the future resolves with its acknowledgement.
pub fn enqueue(
    producer: &KafkaProducer,
    topic: &str,
    record: &OutRecord,
) -> Result<DeliveryFuture, KafkaError> {
    let mut future_record = FutureRecord::to(topic).payload(&record.value[..]);
    // librdkafka allocates a header list even for none: only make one when needed.
    if !record.headers.is_empty() {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for (key, value) in &record.headers {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        future_record = future_record.headers(headers);
    }
    if let Some(key) = &record.key {
        future_record = future_record.key(&key[..]);
    }
    producer
        .inner
        .send_result(future_record)
        .map_err(|(e, _)| e)
}

/// The error of one finished delivery, if it failed.
/// (The outer error is "the producer went away before answering".)
pub fn delivery_error<E>(done: Result<OwnedDeliveryResult, E>) -> Option<KafkaError> {
    match done {
        Ok(Ok(_)) => None,
        Ok(Err((error, _))) => Some(error),
        Err(_) => Some(KafkaError::Canceled),
    }
}

/// What to send and how.
#[derive(Debug, Clone)]
pub struct ProduceJob {
    pub topic: String,
    pub shape: Shape,
    pub format: ValueFormat,
    pub delivery_timeout: Duration,
}

pub enum Input {
    /// One message.
    Value(Vec<u8>),
    /// One message a line (the newline is not part of it).
    Lines(Box<dyn BufRead + Send>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProduceSummary {
    pub topic: String,
    pub messages: u64,
    /// Kafka records: more than messages when they were segmented.
    pub records: u64,
    /// Stopped by a signal before the input ended (what was sent is acknowledged).
    pub interrupted: bool,
}

/// Sends every message of `input`; stops reading when `stop` resolves, and returns once
/// every record handed over is acknowledged or has failed.
pub async fn run(
    bootstrap: &str,
    job: &ProduceJob,
    input: Input,
    stop: impl Future<Output = ()>,
) -> Result<ProduceSummary, ProduceError> {
    let producer = new_producer(bootstrap, job.delivery_timeout, BULK_LINGER)?;
    let reach = super::CONNECT_TIMEOUT;
    let result = match ensure_topic(&producer, bootstrap, &job.topic, reach).await {
        Ok(()) => send_all(&producer, job, input, stop).await,
        Err(err) => Err(err),
    };
    // Dropping a producer joins librdkafka's threads: not on the runtime.
    blocking(move || drop(producer)).await;
    result
}

#[derive(Default)]
struct Tally {
    records: u64,
    failed: u64,
    first_error: Option<KafkaError>,
}

impl Tally {
    fn record(&mut self, error: Option<KafkaError>) {
        if let Some(error) = error {
            self.failed += 1;
            self.first_error.get_or_insert(error);
        }
    }
}

async fn send_all(
    producer: &KafkaProducer,
    job: &ProduceJob,
    input: Input,
    stop: impl Future<Output = ()>,
) -> Result<ProduceSummary, ProduceError> {
    let mut lines = read_lines(input);
    let mut pending = FuturesUnordered::new();
    let mut tally = Tally::default();
    let (mut messages, mut interrupted, mut failure) = (0u64, false, None);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => { interrupted = true; break; }
            Some(done) = pending.next(), if !pending.is_empty() => tally.record(delivery_error(done)),
            line = lines.recv(), if pending.len() < MAX_IN_FLIGHT => {
                let Some(line) = line else { break };
                let value = match line.map_err(ProduceError::Read).and_then(|bytes| {
                    outgoing::encode_text(job.format, bytes)
                        .map_err(|source| ProduceError::Input { line: messages + 1, source })
                }) {
                    Ok(value) => value,
                    Err(err) => { failure = Some(err); break; }
                };
                messages += 1;
                let records = outgoing::records(&job.shape, &value, outgoing::new_message_id);
                if let Some(big) = records.iter().find(|r| !r.fits()) {
                    failure = Some(ProduceError::TooLarge {
                        line: messages,
                        bytes: big.batch_bytes(),
                        limit: crate::defaults::KAFKA_MAX_BATCH_BYTES,
                        chunked: job.shape.chunk_size.is_some(),
                    });
                    break;
                }
                for record in records {
                    tally.records += 1;
                    loop {
                        match enqueue(producer, &job.topic, &record) {
                            Ok(delivery) => { pending.push(delivery); break; }
                            Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)) => {
                                match pending.next().await {
                                    Some(done) => tally.record(delivery_error(done)),
                                    None => tokio::time::sleep(Duration::from_millis(10)).await,
                                }
                            }
                            Err(error) => { tally.record(Some(error)); break; }
                        }
                    }
                }
            }
        }
    }
    // librdkafka fails a record itself after the delivery timeout: this ends.
    while let Some(done) = pending.next().await {
        tally.record(delivery_error(done));
    }
    if let Some(err) = failure {
        return Err(err);
    }
    if let Some(first) = tally.first_error {
        return Err(ProduceError::NotAcknowledged {
            failed: tally.failed,
            total: tally.records,
            first: describe(&first, producer),
            too_large: is_too_large(&first),
            chunked: job.shape.chunk_size.is_some(),
        });
    }
    Ok(ProduceSummary {
        topic: job.topic.clone(),
        messages,
        records: tally.records,
        interrupted,
    })
}

/// The broker (or librdkafka) refused a record as too large.
pub fn is_too_large(error: &KafkaError) -> bool {
    matches!(
        error,
        KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)
    )
}

/// A delivery error, with librdkafka's reason when it only says "timed out".
pub fn describe(error: &KafkaError, producer: &KafkaProducer) -> String {
    let timed_out = matches!(
        error,
        KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut)
    );
    match producer.last_error() {
        Some(cause) if timed_out => format!("{error} (last broker error: {cause})"),
        _ => error.to_string(),
    }
}

type Line = std::io::Result<Vec<u8>>;

/// Lines come from a thread of their own: a read from stdin blocks, and must never keep
/// a signal from stopping the producer.
fn read_lines(input: Input) -> tokio::sync::mpsc::Receiver<Line> {
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    match input {
        Input::Value(value) => {
            let _ = tx.try_send(Ok(value));
        }
        Input::Lines(mut reader) => {
            std::thread::spawn(move || loop {
                let mut line = Vec::new();
                let line = match reader.read_until(b'\n', &mut line) {
                    Ok(0) => return,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                        }
                        Ok(line)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let stop = line.is_err();
                if tx.blocking_send(line).is_err() || stop {
                    return;
                }
            });
        }
    }
    rx
}
