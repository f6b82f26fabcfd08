//! The self-test: a round trip through a fresh topic. Create it, wait for its leader,
//! produce distinct messages (acks=all, one request in flight), consume them with a fresh group from
//! the earliest offset, compare byte for byte, report latency, delete the topic.

use crate::error::{Diagnose, ExitCode};
use crate::messaging::admin::{Admin, AdminError};
use crate::messaging::{blocking, client_config, QuietContext};
use crate::poll::{self, Attempt, Stop};
use crate::probe::{self, ProbeError};
use crate::report::Reporter;
use futures_util::stream::{FuturesUnordered, StreamExt};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::future_producer::OwnedDeliveryResult;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Every message carries its index in this header.
const INDEX_HEADER: &str = "kafkup-selftest-index";
/// How often to look again for the new topic's leader.
const LEADER_POLL: Duration = Duration::from_millis(100);
/// How long the self-test's consumer waits for the coordinator warm-up at most: about
/// librdkafka's interval between two coordinator queries, so waiting never costs more than
/// joining at once would.
const WARM_UP_WAIT: Duration = Duration::from_millis(1200);
/// Bounds each admin request: a broker that is up answers in milliseconds.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SelftestError {
    #[error("the broker at {bootstrap} did not answer")]
    Unreachable {
        bootstrap: String,
        #[source]
        source: Box<AdminError>,
    },
    // KafkaError goes into the message, not the source chain: its own source repeats it.
    #[error("could not create the self-test {what}: {error}")]
    Client {
        what: &'static str,
        error: KafkaError,
    },
    #[error("could not create the self-test topic `{topic}`")]
    CreateTopic {
        topic: String,
        #[source]
        source: AdminError,
    },
    #[error("the partition of `{topic}` got no leader within {:.1} s", waited.as_secs_f64())]
    NoLeader {
        topic: String,
        waited: Duration,
        #[source]
        last_error: Box<ProbeError>,
    },
    #[error("message {index} of {expected} was not acknowledged: {error}")]
    Produce {
        index: u32,
        expected: u32,
        error: KafkaError,
    },
    #[error("only {acked} of {expected} messages were acknowledged before the timeout")]
    ProduceTimedOut { acked: u32, expected: u32 },
    #[error("consuming from `{topic}` failed: {error}")]
    Consume { topic: String, error: KafkaError },
    #[error("received {received} of {expected} messages within {:.1} s", waited.as_secs_f64())]
    ConsumeTimedOut {
        received: u32,
        expected: u32,
        waited: Duration,
    },
    #[error("message {index} came back different: {what}")]
    Mismatch { index: u32, what: String },
    #[error("the replicas of `{topic}` are not all in sync after the round trip: replicas {replicas:?}, in sync {isr:?}")]
    OutOfSync {
        topic: String,
        replicas: Vec<i32>,
        isr: Vec<i32>,
    },
}

impl Diagnose for SelftestError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::SelftestFailed
    }
    fn help(&self) -> Option<String> {
        Some(match self {
            SelftestError::ConsumeTimedOut { .. } => {
                "consumer groups need offsets.topic.replication.factor=1 on a single broker; \
                 `kafkup logs kafka` shows the broker's view"
                    .into()
            }
            SelftestError::Mismatch { .. } => {
                "the broker returned other bytes than were sent: report this as a bug".into()
            }
            _ => "`kafkup status` and `kafkup logs kafka` show the broker's state".into(),
        })
    }
}

/// The figures of a passed self-test (times in milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelftestReport {
    pub bootstrap: String,
    pub topic: String,
    pub messages: u32,
    /// The test topic's replicas, each in sync after the round trip (one per broker).
    pub replicas: usize,
    /// Keys and values, as sent and received.
    pub bytes: u64,
    /// Topic created and its partition has a leader.
    pub topic_ready_ms: f64,
    /// The first message, produced alone: includes connecting and the producer id.
    pub produce_first_ack_ms: f64,
    /// The other messages, produced in one burst: from handing each to the producer to
    /// its acknowledgement (acks=all).
    pub produce_ack_median_ms: f64,
    pub produce_ack_max_ms: f64,
    /// From subscribing with a fresh group to the last message received.
    pub consume_ms: f64,
    /// From the first message produced to the last one consumed.
    pub end_to_end_ms: f64,
    pub total_ms: f64,
    /// False when deleting the topic afterwards failed (a warning was reported).
    pub topic_deleted: bool,
}

impl SelftestReport {
    /// One line for people.
    pub fn summary(&self) -> String {
        let replicas = match self.replicas {
            0 | 1 => String::new(),
            n => format!(" on {n} replicas, all in sync"),
        };
        format!(
            "{} messages ({} bytes) round-tripped through {}{replicas} in {:.0} ms; \
             produce ack median {:.1} ms, max {:.1} ms (first {:.0} ms)",
            self.messages,
            self.bytes,
            self.bootstrap,
            self.end_to_end_ms,
            self.produce_ack_median_ms,
            self.produce_ack_max_ms,
            self.produce_first_ack_ms
        )
    }
}

/// One message as sent, and as it must come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestMessage {
    pub key: Option<Vec<u8>>,
    /// Always present when sent; an empty value must not come back as none (null).
    pub value: Option<Vec<u8>>,
    pub index: u32,
}

/// Message `index`: distinct and varied, so that a mix-up shows. The first few are the
/// awkward cases (multi-byte UTF-8, empty, every byte value, large, no key).
pub fn test_message(index: u32) -> TestMessage {
    let label = format!("kafkup self-test message {index}");
    let value = match index {
        0 => label.into_bytes(),
        // The guide's own text is Cyrillic; an emoji adds 4-byte characters.
        1 => format!("{label}: Привет, Kafka! Сообщение доставлено 🚀").into_bytes(),
        2 => Vec::new(),
        3 => (0..=255u8).collect(),
        4 => filler(&label, 64 * 1024),
        _ => filler(&label, (index as usize * 37) % 2000),
    };
    let key = match index % 4 {
        3 => None,
        _ if index == 1 => Some("ключ-1".as_bytes().to_vec()),
        _ => Some(format!("key-{index}").into_bytes()),
    };
    TestMessage {
        key,
        value: Some(value),
        index,
    }
}

/// `label` followed by deterministic bytes up to `len` (at least the label).
fn filler(label: &str, len: usize) -> Vec<u8> {
    let mut value = label.as_bytes().to_vec();
    let mut x = label.len() as u32;
    while value.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        value.push((x >> 16) as u8);
    }
    value
}

/// Runs the round trip against `bootstrap` with at least one message, all inside `timeout`.
pub async fn run(
    bootstrap: &str,
    messages: u32,
    timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<SelftestReport, SelftestError> {
    run_after(bootstrap, messages, timeout, reporter, None).await
}

/// The round trip, its consumer joining only once `warm_up` has ended: a consumer that asks
/// for the group coordinator while the broker is still creating it asks again only a second
/// later (librdkafka's interval), which would be most of the self-test.
pub async fn run_after_warm_up(
    bootstrap: &str,
    messages: u32,
    timeout: Duration,
    reporter: &dyn Reporter,
    warm_up: &WarmUp,
) -> Result<SelftestReport, SelftestError> {
    let ended = Some(warm_up.ended.clone());
    run_after(bootstrap, messages, timeout, reporter, ended).await
}

async fn run_after(
    bootstrap: &str,
    messages: u32,
    timeout: Duration,
    reporter: &dyn Reporter,
    warm_up_ended: Option<watch::Receiver<bool>>,
) -> Result<SelftestReport, SelftestError> {
    let start = Instant::now();
    let deadline = start + timeout;
    let messages = messages.max(1);
    let topic = format!(
        "{}{}",
        crate::spec::SELFTEST_TOPIC_PREFIX,
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let unreachable = |source| SelftestError::Unreachable {
        bootstrap: bootstrap.to_string(),
        source: Box::new(source),
    };
    let admin = Admin::new(bootstrap, timeout.min(REQUEST_TIMEOUT)).map_err(unreachable)?;
    // A metadata request first: if the broker is not there, say so (and why) quickly.
    let replicas = match admin.reach().await {
        Ok(cluster) => cluster.brokers.len().max(1) as i32,
        Err(err) => {
            admin.close().await;
            return Err(unreachable(err));
        }
    };

    // On every broker: a cluster passes only when each one takes its replica.
    reporter.step(&format!(
        "creating topic {topic} with {replicas} replica(s)"
    ));
    if let Err(source) = admin.create_topic(&topic, 1, replicas).await {
        admin.close().await;
        return Err(SelftestError::CreateTopic { topic, source });
    }

    let times = (start, deadline);
    let result = round_trip(
        &admin,
        bootstrap,
        &topic,
        messages,
        times,
        reporter,
        warm_up_ended,
    )
    .await;

    // The topic goes, whatever happened after it was created.
    reporter.step(&format!("deleting topic {topic}"));
    let deleted = match admin.delete_topic(&topic).await {
        Ok(()) => true,
        Err(err) => {
            reporter.warn(&format!("could not delete self-test topic {topic}: {err}"));
            false
        }
    };
    admin.close().await;
    let mut report = result?;
    report.topic_deleted = deleted;
    report.total_ms = ms(start.elapsed());
    Ok(report)
}

async fn round_trip(
    admin: &Admin,
    bootstrap: &str,
    topic: &str,
    messages: u32,
    (start, deadline): (Instant, Instant),
    reporter: &dyn Reporter,
    warm_up_ended: Option<watch::Receiver<bool>>,
) -> Result<SelftestReport, SelftestError> {
    // Made now, the producer connects and gets its producer id (which librdkafka
    // retries on a 500 ms timer) while the topic gets its leader.
    let producer = producer(bootstrap, deadline)?;
    let sent = sent_messages(messages);
    // The consumer joins its fresh group while the messages are produced (it reads from the
    // earliest offset, so it misses none): the group's coordinator is found meanwhile.
    let group = format!("{topic}-group");
    reporter.step(&format!(
        "consuming with fresh group {group} while producing"
    ));
    let consume_start = Instant::now();
    let consuming = {
        let (bootstrap, topic, group) = (bootstrap.to_string(), topic.to_string(), group.clone());
        tokio::spawn(async move {
            if let Some(mut ended) = warm_up_ended {
                // Ended, gone (its sender dropped) or slow: the consumer goes ahead.
                let until = deadline.min(Instant::now() + WARM_UP_WAIT);
                let _ = tokio::time::timeout_at(until, ended.wait_for(|e| *e)).await;
            }
            consume(&bootstrap, &topic, &group, messages, start, deadline).await
        })
    };
    let produced = async {
        wait_for_leader(admin, topic, start, deadline).await?;
        let topic_ready = start.elapsed();
        reporter.step(&format!("producing {messages} messages (acks=all)"));
        let produce_start = Instant::now();
        let acks = produce(&producer, topic, &sent, deadline).await?;
        Ok((topic_ready, produce_start, acks))
    }
    .await;
    // Dropping a producer may wait for librdkafka's threads: not on the runtime.
    blocking(move || drop(producer)).await;
    let (topic_ready, produce_start, acks) = match produced {
        Ok(done) => done,
        Err(err) => {
            consuming.abort();
            return Err(err);
        }
    };
    let received = consuming.await.expect("the self-test consumer panicked")?;
    let consumed = consume_start.elapsed();
    let end_to_end = produce_start.elapsed();
    // The group is ours alone; removing it is tidiness, not part of the test.
    if let Err(err) = admin.delete_group(&group).await {
        tracing::debug!("could not delete consumer group {group}: {err}");
    }

    compare(&sent, &received)?;
    let in_sync = in_sync_replicas(admin, topic).await?;
    Ok(SelftestReport {
        replicas: in_sync,
        bootstrap: bootstrap.to_string(),
        topic: topic.to_string(),
        messages,
        bytes: sent
            .iter()
            .map(|m| {
                (m.value.as_ref().map_or(0, Vec::len) + m.key.as_ref().map_or(0, Vec::len)) as u64
            })
            .sum(),
        topic_ready_ms: ms(topic_ready),
        produce_first_ack_ms: ms(acks.first),
        produce_ack_median_ms: ms(acks.median()),
        produce_ack_max_ms: ms(acks.max()),
        consume_ms: ms(consumed),
        end_to_end_ms: ms(end_to_end),
        total_ms: ms(start.elapsed()),
        topic_deleted: false,
    })
}

fn sent_messages(messages: u32) -> Vec<TestMessage> {
    (0..messages).map(test_message).collect()
}

/// After acks=all writes every replica of the test topic must still be in sync: a broker that
/// took its replica but fell behind fails the test.
async fn in_sync_replicas(admin: &Admin, topic: &str) -> Result<usize, SelftestError> {
    let described = admin.describe_topic(topic).await;
    let partition = described
        .as_ref()
        .ok()
        .and_then(|d| d.partitions.first().cloned());
    match partition {
        Some(p) if p.isr.len() == p.replicas.len() => Ok(p.replicas.len()),
        Some(p) => Err(SelftestError::OutOfSync {
            topic: topic.to_string(),
            replicas: p.replicas,
            isr: p.isr,
        }),
        None => Err(SelftestError::OutOfSync {
            topic: topic.to_string(),
            replicas: vec![],
            isr: vec![],
        }),
    }
}

/// A new topic answers LEADER_NOT_AVAILABLE until its partition has a leader.
async fn wait_for_leader(
    admin: &Admin,
    topic: &str,
    start: Instant,
    deadline: Instant,
) -> Result<(), SelftestError> {
    let led = || async {
        match probe::topic_ready_with(admin, topic).await {
            Ok(_) => Attempt::Ready(()),
            Err(err) => {
                tracing::debug!("topic {topic} not ready: {err}");
                Attempt::NotYet(err)
            }
        }
    };
    poll::until(deadline, LEADER_POLL, led)
        .await
        .map_err(|stop| match stop {
            Stop::TimedOut(Some(last_error))
            | Stop::Failed {
                failure: last_error,
                ..
            } => SelftestError::NoLeader {
                topic: topic.to_string(),
                waited: start.elapsed(),
                last_error: Box::new(last_error),
            },
            Stop::TimedOut(None) => unreachable!("an attempt always runs"),
        })
}

fn producer(
    bootstrap: &str,
    deadline: Instant,
) -> Result<FutureProducer<QuietContext>, SelftestError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    client_config(bootstrap)
        .set("acks", "all")
        // Not idempotent: a fresh broker takes 0.6-1.6 s to hand out the first producer id,
        // which would double the self-test. One request in flight keeps the order exact
        // across retries instead.
        .set("enable.idempotence", "false")
        .set("max.in.flight.requests.per.connection", "1")
        .set("linger.ms", "0")
        // librdkafka gives up on a message itself when the self-test's time is up.
        .set(
            "message.timeout.ms",
            remaining.as_millis().max(1).to_string(),
        )
        .create_with_context(QuietContext::default())
        .map_err(|source| SelftestError::Client {
            what: "producer",
            error: source,
        })
}

/// Times from handing a message to the producer to its acknowledgement.
struct Acks {
    /// The first message, sent alone: includes setting up the connection.
    first: Duration,
    /// The others, sent in one burst, sorted (empty with a single message).
    rest: Vec<Duration>,
}

impl Acks {
    fn median(&self) -> Duration {
        self.rest
            .get(self.rest.len() / 2)
            .copied()
            .unwrap_or(self.first)
    }
    fn max(&self) -> Duration {
        self.rest.last().copied().unwrap_or(self.first)
    }
}

/// Produces every message in order: the first alone, then the rest in one burst.
async fn produce(
    producer: &FutureProducer<QuietContext>,
    topic: &str,
    messages: &[TestMessage],
    deadline: Instant,
) -> Result<Acks, SelftestError> {
    let expected = messages.len() as u32;
    let mut acks = Vec::with_capacity(messages.len());
    let sent = tokio::time::timeout_at(deadline, async {
        send_burst(producer, topic, &messages[..1], expected, &mut acks).await?;
        send_burst(producer, topic, &messages[1..], expected, &mut acks).await
    })
    .await;
    match sent {
        Ok(Ok(())) => {
            let first = acks[0];
            let mut rest = acks.split_off(1);
            rest.sort();
            Ok(Acks { first, rest })
        }
        Ok(Err(err)) => Err(err),
        Err(_) => Err(SelftestError::ProduceTimedOut {
            acked: acks.len() as u32,
            expected,
        }),
    }
}

/// Enqueues `messages` strictly in order and waits for all their acknowledgements,
/// pushing each one's latency onto `acks`.
async fn send_burst(
    producer: &FutureProducer<QuietContext>,
    topic: &str,
    messages: &[TestMessage],
    expected: u32,
    acks: &mut Vec<Duration>,
) -> Result<(), SelftestError> {
    let mut pending = FuturesUnordered::new();
    for message in messages {
        let index_text = message.index.to_string();
        let headers = OwnedHeaders::new().insert(Header {
            key: INDEX_HEADER,
            value: Some(&index_text),
        });
        let mut record = FutureRecord::to(topic).headers(headers);
        if let Some(value) = &message.value {
            record = record.payload(&value[..]);
        }
        if let Some(key) = &message.key {
            record = record.key(&key[..]);
        }
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    let sent_at = Instant::now();
                    let index = message.index;
                    pending.push(async move { (index, delivery.await, sent_at.elapsed()) });
                    break;
                }
                // A full queue: wait for an acknowledgement, then enqueue the same record.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    if let Some(done) = pending.next().await {
                        acks.push(acknowledged(done, expected)?);
                    }
                }
                Err((source, _)) => {
                    return Err(SelftestError::Produce {
                        index: message.index,
                        expected,
                        error: source,
                    })
                }
            }
        }
    }
    while let Some(done) = pending.next().await {
        acks.push(acknowledged(done, expected)?);
    }
    Ok(())
}

/// One finished delivery: index, outcome (the error side is "producer gone"), latency.
type Delivered<E> = (u32, Result<OwnedDeliveryResult, E>, Duration);

fn acknowledged<E>(done: Delivered<E>, expected: u32) -> Result<Duration, SelftestError> {
    let (index, result, latency) = done;
    match result {
        Ok(Ok(_)) => Ok(latency),
        Ok(Err((source, _))) => Err(SelftestError::Produce {
            index,
            expected,
            error: source,
        }),
        Err(_) => Err(SelftestError::Produce {
            index,
            expected,
            error: KafkaError::Canceled,
        }),
    }
}

/// Consumes `expected` messages from the earliest offset with a fresh group.
async fn consume(
    bootstrap: &str,
    topic: &str,
    group: &str,
    expected: u32,
    start: Instant,
    deadline: Instant,
) -> Result<Vec<TestMessage>, SelftestError> {
    let consumer: StreamConsumer<QuietContext> = client_config(bootstrap)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "100")
        .create_with_context(QuietContext::default())
        .map_err(|source| SelftestError::Client {
            what: "consumer",
            error: source,
        })?;
    let consume_error = |source| SelftestError::Consume {
        topic: topic.to_string(),
        error: source,
    };
    consumer.subscribe(&[topic]).map_err(consume_error)?;

    let mut received = Vec::with_capacity(expected as usize);
    let mut failure = None;
    while received.len() < expected as usize {
        match tokio::time::timeout_at(deadline, consumer.recv()).await {
            Err(_) => {
                failure = Some(SelftestError::ConsumeTimedOut {
                    received: received.len() as u32,
                    expected,
                    waited: start.elapsed(),
                });
                break;
            }
            Ok(Ok(message)) => received.push(received_message(&message)),
            // Fatal errors end the test; others (COORDINATOR_NOT_AVAILABLE while
            // __consumer_offsets is being created, …) pass while librdkafka retries.
            Ok(Err(err @ KafkaError::MessageConsumptionFatal(_))) => {
                failure = Some(consume_error(err));
                break;
            }
            Ok(Err(err)) => tracing::debug!("consumer: {err}"),
        }
    }
    // Closing leaves the group and may block briefly: not on the runtime.
    blocking(move || drop(consumer)).await;
    match failure {
        Some(err) => Err(err),
        None => Ok(received),
    }
}

/// The message as received; `index` comes from its header (`u32::MAX` if it has none).
fn received_message(message: &impl Message) -> TestMessage {
    let index = message
        .headers()
        .and_then(|headers| {
            headers
                .iter()
                .find(|h| h.key == INDEX_HEADER)
                .and_then(|h| h.value)
                .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
        })
        .unwrap_or(u32::MAX);
    TestMessage {
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        index,
    }
}

/// The first difference between what was sent and what came back, in order.
pub fn compare(sent: &[TestMessage], received: &[TestMessage]) -> Result<(), SelftestError> {
    for (sent, got) in sent.iter().zip(received) {
        let what = if got.index != sent.index {
            Some(format!(
                "expected message {} at this position, got message {}",
                sent.index, got.index
            ))
        } else if got.key != sent.key {
            Some(format!(
                "key {} instead of {}",
                preview(got.key.as_deref()),
                preview(sent.key.as_deref())
            ))
        } else if got.value != sent.value {
            Some(format!(
                "value {} instead of {}",
                preview(got.value.as_deref()),
                preview(sent.value.as_deref())
            ))
        } else {
            None
        };
        if let Some(what) = what {
            return Err(SelftestError::Mismatch {
                index: sent.index,
                what,
            });
        }
    }
    Ok(())
}

/// A short, printable view of some bytes.
fn preview(bytes: Option<&[u8]>) -> String {
    let Some(bytes) = bytes else {
        return "none".into();
    };
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(32)]);
    let more = if bytes.len() > 32 { "…" } else { "" };
    format!("{text:?}{more} ({} bytes)", bytes.len())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Asks for a consumer-group coordinator until the broker has one, so that the broker creates
/// `__consumer_offsets` now — while setup still waits for other probes — rather than during
/// the self-test's group join (about a second on a fresh broker). Best effort: every failure
/// is ignored, the self-test proper still checks everything.
pub struct WarmUp {
    stop: Arc<AtomicBool>,
    /// Turns true when the coordinator answered or the warm-up gave up.
    ended: watch::Receiver<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl WarmUp {
    pub fn start(bootstrap: String, timeout: Duration) -> WarmUp {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let (end, ended) = watch::channel(false);
        let handle = tokio::task::spawn_blocking(move || {
            warm_up_group_coordinator(&bootstrap, timeout, &stopped);
            let _ = end.send(true);
        });
        WarmUp {
            stop,
            ended,
            handle,
        }
    }

    /// Ends it (the self-test has passed, or setup gave up): within one short request.
    pub async fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.await;
    }
}

fn warm_up_group_coordinator(bootstrap: &str, timeout: Duration, stop: &AtomicBool) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::TopicPartitionList;
    let deadline = std::time::Instant::now() + timeout;
    let Ok(consumer) = client_config(bootstrap)
        .set("group.id", "kafkup-warm-up")
        .set("enable.auto.commit", "false")
        // It starts before the broker listens: retry the connection every 50-100 ms, so
        // that it asks for the coordinator the moment the broker is up.
        .set("reconnect.backoff.max.ms", "100")
        .create_with_context::<_, BaseConsumer<QuietContext>>(QuietContext::default())
    else {
        return;
    };
    let mut partitions = TopicPartitionList::new();
    partitions.add_partition(crate::spec::HEALTH_TOPIC, 0);
    // Asking for committed offsets makes the broker create its coordinator; this consumer
    // asks again only a second after "not available", so metadata tells sooner when the
    // coordinator's partition has a leader. Short requests, so that a stop is seen soon.
    let _ = poll::until_blocking(deadline, Duration::from_millis(50), || {
        if stop.load(Ordering::Relaxed) {
            return Attempt::Failed(());
        }
        match consumer.committed_offsets(partitions.clone(), Duration::from_millis(100)) {
            Ok(_) => return Attempt::Ready(()),
            Err(e) => tracing::debug!("coordinator warm-up: {e}"),
        }
        match offsets_topic_led(&consumer) {
            true => Attempt::Ready(()),
            false => Attempt::NotYet(()),
        }
    });
}

/// Does every partition of `__consumer_offsets` have a leader?
fn offsets_topic_led(consumer: &impl rdkafka::consumer::Consumer<QuietContext>) -> bool {
    let Ok(metadata) =
        consumer.fetch_metadata(Some("__consumer_offsets"), Duration::from_millis(200))
    else {
        return false;
    };
    metadata.topics().first().is_some_and(|t| {
        t.error().is_none()
            && !t.partitions().is_empty()
            && t.partitions()
                .iter()
                .all(|p| p.error().is_none() && p.leader() >= 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_distinct_and_varied() {
        let messages: Vec<TestMessage> = (0..100).map(test_message).collect();
        let values: std::collections::BTreeSet<&[u8]> = messages
            .iter()
            .map(|m| m.value.as_deref().unwrap())
            .collect();
        assert_eq!(values.len(), 100);
        let value = |i: usize| messages[i].value.as_deref().unwrap();
        assert!(std::str::from_utf8(value(1)).unwrap().contains("Привет"));
        assert!(value(1).len() > value(1).iter().filter(|b| b.is_ascii()).count());
        assert!(value(2).is_empty());
        assert!(std::str::from_utf8(value(3)).is_err());
        assert_eq!(value(4).len(), 64 * 1024);
        assert!(messages.iter().any(|m| m.key.is_none()));
        assert!(messages.iter().any(|m| m.key.is_some()));
        assert_eq!(test_message(7), test_message(7));
    }

    #[test]
    fn compare_finds_first_difference() {
        let sent: Vec<TestMessage> = (0..5).map(test_message).collect();
        assert!(compare(&sent, &sent).is_ok());

        let mut swapped = sent.clone();
        swapped.swap(1, 2);
        let err = compare(&sent, &swapped).unwrap_err();
        assert!(
            matches!(err, SelftestError::Mismatch { index: 1, .. }),
            "{err}"
        );

        let mut changed = sent.clone();
        changed[3].value.as_mut().unwrap()[10] ^= 1;
        let err = compare(&sent, &changed).unwrap_err();
        assert!(err.to_string().contains("message 3"), "{err}");
        assert!(err.to_string().contains("value"), "{err}");

        let mut null = sent.clone();
        null[2].value = None;
        let err = compare(&sent, &null).unwrap_err();
        assert!(
            err.to_string()
                .contains("value none instead of \"\" (0 bytes)"),
            "{err}"
        );

        let mut keyless = sent.clone();
        keyless[0].key = None;
        let err = compare(&sent, &keyless).unwrap_err();
        assert!(err.to_string().contains("key none"), "{err}");
    }

    #[tokio::test]
    async fn unreachable_broker_fails_fast() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = Instant::now();
        let bootstrap = format!("127.0.0.1:{port}");
        let err = run(
            &bootstrap,
            10,
            Duration::from_secs(1),
            &crate::report::Silent,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, SelftestError::Unreachable { .. }), "{err}");
        assert_eq!(err.exit_code(), ExitCode::SelftestFailed);
        let chain = format!("{:#}", anyhow::Error::new(err));
        assert!(chain.contains("Connection refused"), "{chain}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn errors_exit_with_5() {
        let err = SelftestError::ConsumeTimedOut {
            received: 3,
            expected: 10,
            waited: Duration::from_secs(30),
        };
        assert_eq!(err.exit_code(), ExitCode::SelftestFailed);
        assert_eq!(err.to_string(), "received 3 of 10 messages within 30.0 s");
    }
}
