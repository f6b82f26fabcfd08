//! Kafka clients through librdkafka: what every client shares (configuration, a quiet
//! context, running blocking calls off the async runtime), and one module per job.
//! `segment`, `outgoing`, `print` and `pyjson` are pure logic; the others talk to a broker.

pub mod admin;
pub mod consume;
pub mod controller;
pub mod http;
pub mod outgoing;
pub mod print;
pub mod produce;
pub mod pyjson;
pub mod raw;
pub mod segment;
mod wire;

use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use std::sync::{Arc, Mutex};

/// How long a client waits for a broker that does not answer before it says so: the TCP
/// connect and the first request (metadata). Every client command asks that first.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How this run's clients connect beyond the bootstrap address: TLS and SASL properties (the
/// environment's admin identity, or `--client-config FILE`). A run talks to one cluster, so
/// this is set once its identity is known (again when setup makes it) and every client
/// kafkup makes — probes, self-test, commands, the HTTP API — picks it up.
static CONNECTION: std::sync::RwLock<Vec<(String, String)>> = std::sync::RwLock::new(Vec::new());

/// Sets the properties every client of this run adds (see [`CONNECTION`]).
pub fn connect_with(properties: Vec<(String, String)>) {
    *CONNECTION.write().unwrap_or_else(|e| e.into_inner()) = properties;
}

/// The configuration every kafkup client starts from; callers add their own keys.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in CONNECTION.read().unwrap_or_else(|e| e.into_inner()).iter() {
        config.set(key, value);
    }
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "kafkup")
        // Looking at a topic must never create it, even on brokers with auto-create on
        // (the producer default is true).
        .set("allow.auto.create.topics", "false")
        // A broker that is still starting refuses connections: retry soon, not after 10 s.
        .set("reconnect.backoff.ms", "50")
        .set("reconnect.backoff.max.ms", "1000")
        .set(
            "socket.connection.setup.timeout.ms",
            CONNECT_TIMEOUT.as_millis().to_string(),
        )
        // Idle disconnects are normal and not worth a log line.
        .set("log.connection.close", "false")
        .set_log_level(RDKafkaLogLevel::Warning);
    config
}

/// Routes librdkafka's logs and errors to `tracing` at debug level, so a refused
/// connection during start-up does not scribble on stderr. It also keeps the last
/// error, which says *why* a request timed out ("Connection refused"). Clones share that
/// error: keep one to read it where the client hides its context (a `FutureProducer`).
#[derive(Default, Clone)]
pub struct QuietContext {
    last_error: Arc<Mutex<Option<String>>>,
}

impl QuietContext {
    /// The last error librdkafka reported, if any.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }
}

impl ClientContext for QuietContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        tracing::debug!(target: "librdkafka", ?level, "{fac}: {message}");
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(target: "librdkafka", "error: {error}: {reason}");
        // "1/1 brokers are down" follows the error that says why; keep that one.
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            return;
        }
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(reason.to_string());
        }
    }
}

impl ConsumerContext for QuietContext {}

// Delivery reports go to futures (FutureProducer) or are not asked for (metadata handle).
impl ProducerContext for QuietContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}

/// Runs a blocking librdkafka call on the blocking pool; a panic stays a panic.
pub async fn blocking<T, F>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(err) => std::panic::resume_unwind(err.into_panic()),
    }
}
