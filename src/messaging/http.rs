//! `kafkup serve`: the guide's Flask API on axum. `POST /send_message` with
//! `{"message": ...}` answers 200 only once the broker acknowledged every record of the
//! message; concurrent requests share one producer and its batches (no flush per request).
//! `GET /healthz` says whether the broker answers. Every error is JSON `{"error": ...}`.

use super::blocking;
use super::outgoing::{self, OutRecord, Shape, ValueFormat};
use super::produce::{self, KafkaProducer, ProduceError};
use super::pyjson::PyValue;
use crate::error::Diagnose;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::future::join_all;
use futures_util::StreamExt;
use rdkafka::error::KafkaError;
use rdkafka::producer::Producer;
use rdkafka::types::RDKafkaErrorCode;
use serde_json::{json, Value};
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long `/healthz` waits for the broker.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a batch waits for more requests. Each request waits for its acknowledgement, so
/// this is latency: 1 ms batches concurrent requests well (`bench/serve.sh` compares it with
/// librdkafka's 5 ms), while 0 sends so many tiny requests that the broker falls behind.
const LINGER: Duration = Duration::from_millis(1);
/// After the delivery timeout, how long shutdown still waits for connections to finish.
const SHUTDOWN_SLACK: Duration = Duration::from_secs(5);
/// How long a request body may send nothing before the request is dropped (408).
const BODY_READ_TIMEOUT: Duration =
    Duration::from_secs(crate::defaults::SERVE_BODY_READ_TIMEOUT_SECS);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Producer(#[from] ProduceError),
    #[error("the HTTP server failed")]
    Server(#[source] std::io::Error),
}

impl Diagnose for ServeError {
    fn help(&self) -> Option<String> {
        match self {
            ServeError::Bind { .. } => {
                Some("another program may listen there: choose an address with --bind".into())
            }
            ServeError::Producer(inner) => inner.help(),
            ServeError::Server(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub topic: String,
    pub chunk_size: Option<usize>,
    pub format: ValueFormat,
    pub max_body: usize,
    pub delivery_timeout: Duration,
}

struct AppState {
    producer: KafkaProducer,
    bootstrap: String,
    options: ServeOptions,
    shape: Shape,
}

/// Binds `addr` (the result is the address actually bound, for port 0).
pub async fn bind(addr: &str) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.to_string(),
            source,
        })
}

/// Serves until `shutdown` resolves; then stops accepting, lets requests in flight finish
/// (their deliveries included), flushes the producer and returns. `warn` hears what the
/// operator should know (an unreachable broker at start, a shutdown cut short); `ready` is
/// called once the topic is known to be usable, just before serving.
pub async fn serve(
    bootstrap: &str,
    options: ServeOptions,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    warn: &(dyn Fn(&str) + Sync),
    ready: impl FnOnce() -> anyhow::Result<()>,
) -> Result<(), ServeError> {
    let producer = produce::new_producer(bootstrap, options.delivery_timeout, LINGER)?;
    let check = produce::ensure_topic(&producer, bootstrap, &options.topic, HEALTH_TIMEOUT).await;
    match check {
        Err(err @ (ProduceError::NoSuchTopic { .. } | ProduceError::BadTopic { .. })) => {
            blocking(move || drop(producer)).await;
            return Err(err.into());
        }
        Err(err) => warn(&format!("{err}; answering 503 until it does")),
        Ok(()) => {}
    }
    let shape = Shape {
        chunk_size: options.chunk_size,
        ..Shape::default()
    };
    // Nobody reads the announcement when stdout is closed; serving goes on regardless.
    let _ = ready();
    let delivery_timeout = options.delivery_timeout;
    let state = Arc::new(AppState {
        producer,
        bootstrap: bootstrap.to_string(),
        shape,
        options,
    });
    let result = run_server(
        listener,
        router(state.clone()),
        shutdown,
        delivery_timeout,
        warn,
    )
    .await;
    // Requests cut off by their clients may have left records with librdkafka: deliver them.
    let producer = state.producer.clone();
    drop(state);
    let undelivered = blocking(move || {
        let _ = producer.inner.flush(delivery_timeout);
        producer.inner.in_flight_count()
    })
    .await;
    if undelivered > 0 {
        warn(&format!(
            "{undelivered} records of requests cut off by their clients were not delivered"
        ));
    }
    result
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/send_message", post(send_message))
        .route("/healthz", get(healthz))
        .method_not_allowed_fallback(|method: Method, uri: Uri| async move {
            let said = format!("{method} {} is not served", uri.path());
            error(StatusCode::METHOD_NOT_ALLOWED, said + ENDPOINTS)
        })
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                format!("no such endpoint{ENDPOINTS}"),
            )
        })
        .with_state(state)
}

const ENDPOINTS: &str = " (POST /send_message, GET /healthz)";

/// axum's graceful shutdown, bounded: a client that keeps a connection open cannot hold
/// the exit back for longer than a delivery could take.
async fn run_server(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    delivery_timeout: Duration,
    warn: &(dyn Fn(&str) + Sync),
) -> Result<(), ServeError> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    };
    let listener = super::wire::Listener(listener);
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    let deadline = async move {
        if stopping_rx.await.is_err() {
            // The server ended without a shutdown: nothing to bound.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(delivery_timeout + SHUTDOWN_SLACK).await;
    };
    tokio::select! {
        result = server.into_future() => result.map_err(ServeError::Server),
        () = deadline => {
            warn("connections still open after the delivery timeout; exiting anyway");
            Ok(())
        }
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> (StatusCode, Json<Value>) {
    (status, Json(json!({ "error": message.into() })))
}

type Answer = (StatusCode, Json<Value>);

/// An answer given before the request body was read to its end: the connection cannot
/// carry another request, so it is closed.
fn closing((status, body): Answer) -> Response {
    (status, [(header::CONNECTION, "close")], body).into_response()
}

async fn send_message(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !is_json(&headers) {
        return closing(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request's Content-Type must be application/json",
        ));
    }
    let body = match read_body(&headers, body, state.options.max_body).await {
        Ok(body) => body,
        Err(answer) => return closing(answer),
    };
    let message = match message_of(&body) {
        Ok(message) => message,
        Err(answer) => return answer.into_response(),
    };
    let value = outgoing::encode_value(state.options.format, &message);
    let records = outgoing::records(&state.shape, &value, outgoing::new_message_id);
    if let Some(big) = records.iter().find(|r| !r.fits()) {
        return too_large(&state, Some(big.batch_bytes())).into_response();
    }
    match deliver(&state, &records).await {
        Ok((partition, offset)) => (
            StatusCode::OK,
            Json(json!({
                "status": "message sent",
                "topic": state.options.topic,
                "partition": partition,
                "offset": offset,
                "records": records.len(),
            })),
        )
            .into_response(),
        Err(answer) => answer.into_response(),
    }
}

/// 413 for a message the broker would not take (`bytes`: its size as a record batch).
fn too_large(state: &AppState, bytes: Option<usize>) -> Answer {
    let limit = crate::defaults::KAFKA_MAX_BATCH_BYTES;
    let size = bytes.map_or(String::new(), |b| {
        format!(" takes {b} bytes as a Kafka record batch and")
    });
    let chunked = state.options.chunk_size.is_some();
    let (status, Json(mut body)) = error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the message{size} is larger than the broker takes ({limit} bytes, message.max.bytes)"
        ),
    );
    body["help"] = json!(outgoing::too_large_help(chunked));
    (status, Json(body))
}

/// The request body: at most `max_body` bytes (else 413), each part within
/// [`BODY_READ_TIMEOUT`] of the one before (else 408: a stalled client holds nothing).
async fn read_body(headers: &HeaderMap, body: Body, max_body: usize) -> Result<Bytes, Answer> {
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {max_body} bytes (--max-body)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut read = Vec::with_capacity(declared.unwrap_or(0) as usize);
    loop {
        match tokio::time::timeout(BODY_READ_TIMEOUT, stream.next()).await {
            Ok(None) => return Ok(Bytes::from(read)),
            Ok(Some(Ok(part))) if read.len() + part.len() > max_body => return Err(too_large()),
            Ok(Some(Ok(part))) => read.extend_from_slice(&part),
            Ok(Some(Err(e))) => {
                let said = format!("the request body could not be read: {e}");
                return Err(error(StatusCode::BAD_REQUEST, said));
            }
            Err(_) => {
                let waited = BODY_READ_TIMEOUT.as_secs();
                let said = format!("the request body stalled: nothing came for {waited} s");
                return Err(error(StatusCode::REQUEST_TIMEOUT, said));
            }
        }
    }
}

/// The request's `message`, or the 400 that says what is wrong with the body.
fn message_of(body: &[u8]) -> Result<PyValue, Answer> {
    let parsed: PyValue = serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let PyValue::Object(fields) = parsed else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object with a \"message\"",
        ));
    };
    match fields.into_iter().find(|(k, _)| k == "message") {
        Some((_, message)) if !message.is_empty() => Ok(message),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "the message is missing or empty",
        )),
    }
}

/// `application/json`, or any `+json` type, with or without parameters (like Flask).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Sends every record and waits for all acknowledgements; the first record's partition and
/// offset on success.
async fn deliver(state: &AppState, records: &[OutRecord]) -> Result<(i32, i64), Answer> {
    let deadline = Instant::now() + state.options.delivery_timeout;
    let mut deliveries = Vec::with_capacity(records.len());
    for record in records {
        match enqueue(state, record, deadline).await {
            Ok(delivery) => deliveries.push(delivery),
            Err(err) => return Err(failure(state, &err)),
        }
    }
    let mut first = None;
    for done in join_all(deliveries).await {
        match done {
            Ok(Ok(delivery)) => {
                first.get_or_insert((delivery.partition, delivery.offset));
            }
            Ok(Err((err, _))) => return Err(failure(state, &err)),
            Err(_) => return Err(failure(state, &KafkaError::Canceled)),
        }
    }
    Ok(first.unwrap_or((-1, -1)))
}

/// Hands a record over, waiting for room while librdkafka's queue is full.
async fn enqueue(
    state: &AppState,
    record: &OutRecord,
    deadline: Instant,
) -> Result<rdkafka::producer::DeliveryFuture, KafkaError> {
    loop {
        match produce::enqueue(&state.producer, &state.options.topic, record) {
            Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull))
                if Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            other => return other,
        }
    }
}

/// 503 when the broker could not be reached in time, 413 when it finds the message too
/// large, 500 with its error otherwise.
fn failure(state: &AppState, err: &KafkaError) -> Answer {
    if produce::is_too_large(err) {
        return too_large(state, None);
    }
    let unreachable = matches!(
        err,
        KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageTimedOut
                | RDKafkaErrorCode::QueueFull
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::BrokerTransportFailure
        )
    );
    let text = produce::describe(err, &state.producer);
    if unreachable {
        let waited = state.options.delivery_timeout.as_secs_f64();
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the broker did not acknowledge within {waited:.0} s: {text}"),
        )
    } else {
        error(StatusCode::INTERNAL_SERVER_ERROR, text)
    }
}

async fn healthz(State(state): State<Arc<AppState>>) -> Answer {
    let producer = state.producer.clone();
    let answer = blocking(move || {
        let result = producer.inner.client().fetch_metadata(None, HEALTH_TIMEOUT);
        (result.map(|m| m.brokers().len()), producer.last_error())
    })
    .await;
    match answer {
        (Ok(brokers), _) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "broker": state.bootstrap, "brokers": brokers })),
        ),
        (Err(err), cause) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unavailable",
                "broker": state.bootstrap,
                "error": cause.unwrap_or_else(|| err.to_string()),
            })),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        h
    }

    fn status_of(content_type: &str, body: &str) -> Result<PyValue, StatusCode> {
        if !is_json(&headers(content_type)) {
            return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        message_of(body.as_bytes()).map_err(|(status, _)| status)
    }

    #[test]
    fn requests_are_checked_like_the_guide_checks_them_and_more() {
        let ok = status_of("application/json", r#"{"message": "привет"}"#);
        assert_eq!(ok, Ok(PyValue::String("привет".into())));
        assert!(status_of(
            "application/json; charset=utf-8",
            r#"{"message": {"a": 1}}"#
        )
        .is_ok());
        assert!(status_of("application/vnd.api+json", r#"{"message": 0}"#).is_ok());
        for (ct, body, status) in [
            (
                "text/plain",
                r#"{"message": "x"}"#,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "application/json",
                r#"{"message": "x""#,
                StatusCode::BAD_REQUEST,
            ),
            (
                "application/json",
                r#"{"other": "x"}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                "application/json",
                r#"{"message": null}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                "application/json",
                r#"{"message": ""}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                "application/json",
                r#"["message"]"#,
                StatusCode::BAD_REQUEST,
            ),
            ("application/json", "", StatusCode::BAD_REQUEST),
        ] {
            assert_eq!(status_of(ct, body), Err(status), "{ct} {body}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
