//! `kafkup consume`: messages of a topic to a writer, from the end or the beginning, with
//! or without a consumer group, optionally reassembling segmented messages.
//!
//! Runs on a thread of its own (librdkafka's poll blocks) and checks a stop flag between
//! polls. Without a group it assigns every partition itself and commits nothing; with one,
//! it commits an offset only once the messages before it are written and flushed, and never
//! past a segment that an incomplete message still needs.

use super::print::{self, Meta};
use super::segment::{
    DropReason, Event, Limits, Position, Reassembler, Record, SegmentHeader, Whole,
};
use super::{client_config, QuietContext};
use crate::error::Diagnose;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The longest one poll waits, so that a stop or the idle timeout is noticed soon.
const POLL: Duration = Duration::from_millis(100);
/// Output is flushed (and its offsets stored for commit) at least this often under load.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// How often to look again for a topic that does not exist yet.
const TOPIC_POLL: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    // KafkaError goes into the message, not the source chain: its own source repeats it.
    #[error("could not create a Kafka consumer for {bootstrap}: {error}")]
    Client {
        bootstrap: String,
        error: KafkaError,
    },
    #[error("the broker at {bootstrap} did not answer: {cause}")]
    Unreachable { bootstrap: String, cause: String },
    #[error("consuming from `{topic}` failed: {error}")]
    Consume { topic: String, error: KafkaError },
    #[error("committing the offsets of group `{group}` failed: {error}")]
    Commit { group: String, error: KafkaError },
    #[error("writing the messages failed")]
    Output(#[source] std::io::Error),
}

impl Diagnose for ConsumeError {
    fn help(&self) -> Option<String> {
        match self {
            ConsumeError::Client { .. } | ConsumeError::Unreachable { .. } => Some(
                "is the broker running and is the address right? `kafkup status` shows it".into(),
            ),
            ConsumeError::Consume { .. } | ConsumeError::Commit { .. } => {
                Some("`kafkup logs kafka` shows the broker's side".into())
            }
            ConsumeError::Output(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConsumeJob {
    pub topic: String,
    pub from_beginning: bool,
    /// With a group: its committed offsets, and commits. Without: none of either.
    pub group: Option<String>,
    pub max_messages: Option<u64>,
    /// Stop after this long without a message.
    pub idle_timeout: Option<Duration>,
    pub json: bool,
    /// Reassemble segmented messages, holding at most this much.
    pub reassemble: Option<Limits>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConsumeSummary {
    pub messages: u64,
    /// Incomplete messages given up on (each was reported).
    pub incomplete: u64,
    pub duplicate_segments: u64,
    pub malformed: u64,
}

/// Reads until `stop` is set, `max_messages` were written, or nothing came for
/// `idle_timeout`; then flushes, commits (with a group) and leaves. `warn` hears about
/// messages that could not be reassembled.
pub fn run(
    bootstrap: &str,
    job: &ConsumeJob,
    out: impl Write,
    stop: &AtomicBool,
    warn: &dyn Fn(&str),
) -> Result<ConsumeSummary, ConsumeError> {
    let consumer = new_consumer(bootstrap, job)?;
    let mut reader = Reader {
        consumer: &consumer,
        job,
        out: std::io::BufWriter::with_capacity(256 * 1024, out),
        reassembler: job.reassemble.map(Reassembler::new),
        summary: ConsumeSummary::default(),
        written_up_to: BTreeMap::new(),
        stored: BTreeMap::new(),
        warn,
    };
    let started = start(&consumer, bootstrap, job, stop);
    let read = match started {
        Ok(true) => reader.read(stop),
        Ok(false) => Ok(()),
        Err(err) => Err(err),
    };
    let closed = reader.close();
    let summary = reader.summary.clone();
    drop(reader);
    // Leaves the group (rd_kafka_consumer_close) and joins librdkafka's threads.
    drop(consumer);
    read.and(closed).map(|()| summary)
}

fn new_consumer(
    bootstrap: &str,
    job: &ConsumeJob,
) -> Result<BaseConsumer<QuietContext>, ConsumeError> {
    let mut config = client_config(bootstrap);
    let reset = if job.from_beginning {
        "earliest"
    } else {
        "latest"
    };
    config
        .set("auto.offset.reset", reset)
        .set("enable.partition.eof", "false")
        // Deliver what is there within 100 ms instead of the default 500 ms.
        .set("fetch.wait.max.ms", "100")
        // librdkafka ≥ 2.1 waits this long (default 1 s) before fetching again once its local
        // queue is over queued.min.messages: a fast reader then stalls a second every 100 000
        // messages (a 1 M message read took 5 s instead of 1.3). It applies only while a
        // backlog is queued, so a short wait costs nothing when idle.
        .set("fetch.queue.backoff.ms", "1");
    match &job.group {
        Some(group) => config
            .set("group.id", group)
            .set("enable.auto.commit", "true")
            // Offsets are stored by hand, after the output is flushed.
            .set("enable.auto.offset.store", "false"),
        // librdkafka's assign needs a group id even though no group is joined (that takes
        // subscribe) and nothing is committed.
        None => config
            .set("group.id", "kafkup-consume-without-group")
            .set("enable.auto.commit", "false"),
    };
    config
        .create_with_context(QuietContext::default())
        .map_err(|error| ConsumeError::Client {
            bootstrap: bootstrap.to_string(),
            error,
        })
}

/// Subscribes (with a group) or assigns every partition at the chosen end (without).
/// `false` when stopped or idle before the topic appeared.
fn start(
    consumer: &BaseConsumer<QuietContext>,
    bootstrap: &str,
    job: &ConsumeJob,
    stop: &AtomicBool,
) -> Result<bool, ConsumeError> {
    let consume_error = |error| ConsumeError::Consume {
        topic: job.topic.clone(),
        error,
    };
    let began = Instant::now();
    let mut first = true;
    loop {
        let partitions = match consumer
            .client()
            .fetch_metadata(Some(&job.topic), super::CONNECT_TIMEOUT)
        {
            Ok(metadata) => metadata
                .topics()
                .iter()
                .find(|t| t.name() == job.topic && t.error().is_none())
                .map(|t| t.partitions().iter().map(|p| p.id()).collect::<Vec<_>>()),
            Err(error) if first => {
                return Err(ConsumeError::Unreachable {
                    bootstrap: bootstrap.to_string(),
                    cause: consumer
                        .client()
                        .context()
                        .last_error()
                        .unwrap_or_else(|| error.to_string()),
                })
            }
            Err(error) => {
                tracing::debug!("metadata: {error}");
                None
            }
        };
        first = false;
        if job.group.is_some() {
            // The group finds the topic itself once it exists.
            consumer.subscribe(&[&job.topic]).map_err(consume_error)?;
            return Ok(true);
        }
        if let Some(partitions) = partitions.filter(|p| !p.is_empty()) {
            let offset = match job.from_beginning {
                true => Offset::Beginning,
                false => Offset::End,
            };
            let mut list = TopicPartitionList::new();
            for partition in partitions {
                list.add_partition_offset(&job.topic, partition, offset)
                    .map_err(consume_error)?;
            }
            consumer.assign(&list).map_err(consume_error)?;
            return Ok(true);
        }
        tracing::debug!("topic {} does not exist yet", job.topic);
        let idle = job.idle_timeout.is_some_and(|t| began.elapsed() >= t);
        if stop.load(Ordering::Relaxed) || idle {
            return Ok(false);
        }
        std::thread::sleep(TOPIC_POLL);
    }
}

struct Reader<'a, W: Write> {
    consumer: &'a BaseConsumer<QuietContext>,
    job: &'a ConsumeJob,
    out: std::io::BufWriter<W>,
    reassembler: Option<Reassembler<Meta>>,
    summary: ConsumeSummary,
    /// Per partition, the offset after the last message written (not yet stored).
    written_up_to: BTreeMap<i32, i64>,
    /// Per partition, the offset last stored for commit.
    stored: BTreeMap<i32, i64>,
    warn: &'a dyn Fn(&str),
}

impl<W: Write> Reader<'_, W> {
    fn read(&mut self, stop: &AtomicBool) -> Result<(), ConsumeError> {
        let mut last_message = Instant::now();
        let mut last_flush = Instant::now();
        while !stop.load(Ordering::Relaxed) && !self.enough() {
            // Take what is already there without waiting; flush before waiting.
            let mut polled = self.consumer.poll(Duration::ZERO);
            if polled.is_none() {
                self.flush()?;
                last_flush = Instant::now();
                polled = self.consumer.poll(self.poll_timeout(last_message));
            }
            match polled {
                None => {
                    if self
                        .job
                        .idle_timeout
                        .is_some_and(|t| last_message.elapsed() >= t)
                    {
                        break;
                    }
                }
                Some(Ok(message)) => {
                    last_message = Instant::now();
                    self.take(&message)?;
                    if last_flush.elapsed() >= FLUSH_EVERY {
                        self.flush()?;
                        last_flush = Instant::now();
                    }
                }
                Some(Err(error @ KafkaError::MessageConsumptionFatal(_))) => {
                    return Err(ConsumeError::Consume {
                        topic: self.job.topic.clone(),
                        error,
                    })
                }
                // Passing trouble (a topic not there yet, a broker restarting): librdkafka
                // retries by itself.
                Some(Err(error)) => tracing::debug!("consumer: {error}"),
            }
        }
        Ok(())
    }

    fn enough(&self) -> bool {
        self.job
            .max_messages
            .is_some_and(|max| self.summary.messages >= max)
    }

    fn poll_timeout(&self, last_message: Instant) -> Duration {
        match self.job.idle_timeout {
            Some(idle) => POLL.min(idle.saturating_sub(last_message.elapsed())),
            None => POLL,
        }
    }

    /// One message from the topic: written at once, or (a segment) held until it is whole.
    fn take(&mut self, message: &BorrowedMessage<'_>) -> Result<(), ConsumeError> {
        let position = Position {
            partition: message.partition(),
            offset: message.offset(),
        };
        let segment = match self.reassembler {
            Some(_) => message.headers().and_then(|headers| {
                SegmentHeader::from_headers(headers.iter().map(|h| (h.key, h.value)))
            }),
            None => None,
        };
        let value = message.payload().unwrap_or_default();
        match segment {
            Some(segment) => {
                let record = Record {
                    segment: Some(segment),
                    value: value.to_vec(),
                    position,
                    meta: if self.job.json {
                        meta(message)
                    } else {
                        Default::default()
                    },
                };
                let reassembler = self
                    .reassembler
                    .as_mut()
                    .expect("segments only when reassembling");
                let events = reassembler.feed(record, Instant::now());
                self.emit(events)?;
            }
            // A plain message needs no reassembler: straight from librdkafka's buffer.
            _ if self.enough() => {}
            _ if self.job.json => {
                let whole = Whole {
                    value: value.to_vec(),
                    msg_id: None,
                    segments: 0,
                    position,
                    meta: meta(message),
                };
                print::write_json(&mut self.out, &whole).map_err(ConsumeError::Output)?;
                self.summary.messages += 1;
            }
            _ => {
                print::write_plain(&mut self.out, value).map_err(ConsumeError::Output)?;
                self.summary.messages += 1;
            }
        }
        self.written(position);
        Ok(())
    }

    fn emit(&mut self, events: Vec<Event<Meta>>) -> Result<(), ConsumeError> {
        for event in events {
            match event {
                // --max-messages counts messages written; a surplus stays unread.
                Event::Message(_) if self.enough() => {}
                Event::Message(whole) => {
                    match self.job.json {
                        true => print::write_json(&mut self.out, &whole),
                        false => print::write_plain(&mut self.out, &whole.value),
                    }
                    .map_err(ConsumeError::Output)?;
                    self.summary.messages += 1;
                }
                Event::Incomplete {
                    msg_id,
                    received,
                    expected,
                    reason,
                } => {
                    self.summary.incomplete += 1;
                    let why = match reason {
                        DropReason::TooOld => "its other segments did not come in time",
                        DropReason::TooMuchPending => "incomplete messages held too many bytes",
                        DropReason::Stopped => "consume stopped first",
                    };
                    (self.warn)(&format!(
                        "message {msg_id} is incomplete ({received} of {expected} segments) \
                         and was not printed: {why}"
                    ));
                }
                Event::Malformed { position, reason } => {
                    self.summary.malformed += 1;
                    (self.warn)(&format!(
                        "skipped the record at partition {} offset {}: {reason}",
                        position.partition, position.offset
                    ));
                }
            }
        }
        Ok(())
    }

    fn expire(&mut self) -> Result<(), ConsumeError> {
        if let Some(reassembler) = &mut self.reassembler {
            let events = reassembler.expire(Instant::now());
            self.emit(events)?;
        }
        Ok(())
    }

    /// Remembers how far `partition` may be committed once the output is flushed: past this
    /// record, but not past a segment an incomplete message still needs.
    fn written(&mut self, position: Position) {
        if self.job.group.is_none() {
            return;
        }
        let mut next = position.offset + 1;
        if let Some(needed) = self
            .reassembler
            .as_ref()
            .and_then(|r| r.first_needed_offset(position.partition))
        {
            next = next.min(needed);
        }
        self.written_up_to.insert(position.partition, next);
    }

    /// Gives up on messages waiting too long, flushes the output, then stores the offsets of
    /// what it held for the next commit.
    fn flush(&mut self) -> Result<(), ConsumeError> {
        self.expire()?;
        self.out.flush().map_err(ConsumeError::Output)?;
        let mut list = TopicPartitionList::new();
        for (&partition, &next) in &self.written_up_to {
            if self.stored.get(&partition).is_some_and(|&s| s >= next) {
                continue;
            }
            let _ = list.add_partition_offset(&self.job.topic, partition, Offset::Offset(next));
            self.stored.insert(partition, next);
        }
        self.written_up_to.clear();
        if list.count() > 0 {
            // A partition just revoked refuses the store; its new owner reads on from the
            // last commit.
            if let Err(error) = self.consumer.store_offsets(&list) {
                tracing::debug!("storing offsets: {error}");
            }
        }
        Ok(())
    }

    /// Reports what is left incomplete, flushes, and commits what was written.
    fn close(&mut self) -> Result<(), ConsumeError> {
        if let Some(reassembler) = &mut self.reassembler {
            let events = reassembler.finish();
            self.summary.duplicate_segments = reassembler.duplicates;
            self.emit(events)?;
        }
        self.flush()?;
        let Some(group) = &self.job.group else {
            return Ok(());
        };
        match self.consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) => Ok(()),
            // Nothing new to commit.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            Err(error) => Err(ConsumeError::Commit {
                group: group.clone(),
                error,
            }),
        }
    }
}

/// Key, headers and timestamp, for `--json`.
fn meta(message: &BorrowedMessage<'_>) -> Meta {
    Meta {
        key: message.key().map(<[u8]>::to_vec),
        headers: message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default(),
        timestamp: message.timestamp().to_millis(),
    }
}
