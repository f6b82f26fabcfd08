//! Readiness probes: ZooKeeper four-letter words over TCP, Kafka metadata through librdkafka,
//! and `wait_ready`, which polls them in order inside one overall deadline.

use crate::error::{Diagnose, ExitCode};
use crate::messaging::admin::{Admin, AdminError, ClusterInfo, TopicDescription};
use crate::report::Reporter;
use crate::spec::{ProbeSpec, ServiceName};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long one probe may take when run on its own (`check`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// One poll inside `wait_ready` takes at most this, so `alive()` is asked often.
const POLL_LIMIT: Duration = Duration::from_secs(1);
/// Even at the deadline a poll gets this long, so a probe is tried at least once.
const POLL_MIN: Duration = Duration::from_millis(100);
/// A four-letter answer larger than this is not ZooKeeper talking (`mntr` is ~20 KB).
const MAX_ANSWER: u64 = 1 << 20;
/// What ZooKeeper answers (instead of data) until it has joined a quorum or loaded its data.
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";
/// What ZooKeeper answers for a word missing from `4lw.commands.whitelist`.
const NOT_WHITELISTED: &str = "is not executed because it is not in the whitelist";

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("connection to {addr} refused (nothing listens there)")]
    Refused { addr: String },
    #[error("{addr} did not {stage} within {}", secs(*after))]
    Timeout {
        addr: String,
        stage: &'static str,
        after: Duration,
    },
    #[error("talking to {addr} failed")]
    Io {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error("ZooKeeper at {addr} is not serving requests yet")]
    NotServing { addr: String },
    #[error("ZooKeeper at {addr} refuses `{word}`: it is not in 4lw.commands.whitelist")]
    NotWhitelisted { addr: String, word: String },
    #[error("unexpected answer to `{word}` from {addr} ({reason}): {answer:?}")]
    Unparsable {
        addr: String,
        word: String,
        reason: String,
        answer: String,
    },
    #[error("Kafka at {bootstrap} did not answer: {reason}")]
    KafkaUnreachable { bootstrap: String, reason: String },
    #[error(
        "broker {node_id} is not listed in the metadata from {bootstrap} (listed: {listed:?})"
    )]
    BrokerNotListed {
        bootstrap: String,
        node_id: u32,
        listed: Vec<i32>,
    },
    #[error("topic `{topic}` does not exist")]
    TopicMissing { topic: String },
    #[error("topic `{topic}` has partitions without a leader: {partitions:?}")]
    NoLeader { topic: String, partitions: Vec<i32> },
    #[error(transparent)]
    Admin(AdminError),
}

impl Diagnose for ProbeError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::NotReady
    }
    fn help(&self) -> Option<String> {
        match self {
            ProbeError::NotWhitelisted { word, .. } => Some(format!(
                "add `{word}` to 4lw.commands.whitelist in zoo.cfg (kafkup renders srvr,ruok,mntr)"
            )),
            _ => {
                Some("`kafkup status` shows the services; `kafkup logs <service>` shows why".into())
            }
        }
    }
}

impl From<AdminError> for ProbeError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Request {
                bootstrap,
                error,
                cause,
                ..
            } => ProbeError::KafkaUnreachable {
                bootstrap,
                // librdkafka's last error says why ("Connection refused"); the request
                // error itself only says "timed out".
                reason: cause.unwrap_or_else(|| error.to_string()),
            },
            AdminError::UnknownTopic { topic } => ProbeError::TopicMissing { topic },
            other => ProbeError::Admin(other),
        }
    }
}

/// A probe that passed, for `status --json` and progress lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeOutcome {
    /// What was probed: "ZooKeeper at 127.0.0.1:2181".
    pub probe: String,
    /// What it said: "ZooKeeper 3.9.6 standalone, 5 nodes".
    pub description: String,
    #[serde(flatten)]
    pub details: ProbeDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProbeDetails {
    Zookeeper(ZkServerInfo),
    KafkaBroker(BrokerListed),
    Topic(TopicDescription),
}

/// The interesting lines of a `srvr` answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZkServerInfo {
    /// Release number: "3.9.6".
    pub version: String,
    /// The whole version line: "3.9.6-<commit>, built on <date>".
    pub build: String,
    pub mode: ZkMode,
    pub zxid: u64,
    pub node_count: u64,
    pub connections: Option<u64>,
    pub outstanding: Option<u64>,
    pub received: Option<u64>,
    pub sent: Option<u64>,
    /// Request latency in ms: min/avg/max.
    pub latency_ms: Option<[f64; 3]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZkMode {
    Standalone,
    Leader,
    Follower,
    Observer,
    ReadOnly,
}

impl ZkMode {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "standalone" => ZkMode::Standalone,
            "leader" => ZkMode::Leader,
            "follower" => ZkMode::Follower,
            "observer" => ZkMode::Observer,
            "read-only" => ZkMode::ReadOnly,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ZkMode::Standalone => "standalone",
            ZkMode::Leader => "leader",
            ZkMode::Follower => "follower",
            ZkMode::Observer => "observer",
            ZkMode::ReadOnly => "read-only",
        }
    }
}

impl ZkServerInfo {
    pub fn describe(&self) -> String {
        let nodes = if self.node_count == 1 {
            "node"
        } else {
            "nodes"
        };
        format!(
            "ZooKeeper {} {}, {} {nodes}",
            self.version,
            self.mode.as_str(),
            self.node_count
        )
    }
}

/// The broker as the cluster metadata lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerListed {
    pub node_id: u32,
    /// host:port the broker advertises.
    pub address: String,
    #[serde(flatten)]
    pub cluster: ClusterInfo,
}

impl BrokerListed {
    pub fn describe(&self) -> String {
        let mut s = format!("broker {} listed at {}", self.node_id, self.address);
        if let Some(id) = &self.cluster.cluster_id {
            s.push_str(&format!(", cluster {id}"));
        }
        s
    }
}

/// Connect and read limits of one four-letter word.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// From the word sent to the server closing the connection.
    pub read: Duration,
}

impl Timeouts {
    /// Both limits capped at `limit`.
    pub fn within(limit: Duration) -> Self {
        Timeouts {
            connect: limit.min(Duration::from_secs(2)),
            read: limit,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::within(DEFAULT_TIMEOUT)
    }
}

/// Sends a four-letter word and returns the whole answer (ZooKeeper closes the
/// connection after it). "Not serving" and "not in the whitelist" are errors.
pub async fn four_letter_word(
    host: &str,
    port: u16,
    word: &str,
    timeouts: Timeouts,
) -> Result<String, ProbeError> {
    let addr = format!("{host}:{port}");
    let io_err = |source: io::Error| match source.kind() {
        io::ErrorKind::ConnectionRefused => ProbeError::Refused { addr: addr.clone() },
        _ => ProbeError::Io {
            addr: addr.clone(),
            source,
        },
    };
    let mut stream = tokio::time::timeout(timeouts.connect, TcpStream::connect((host, port)))
        .await
        .map_err(|_| ProbeError::Timeout {
            addr: addr.clone(),
            stage: "accept a connection",
            after: timeouts.connect,
        })?
        .map_err(io_err)?;
    let exchange = async {
        stream.write_all(word.as_bytes()).await?;
        let mut answer = Vec::new();
        (&mut stream)
            .take(MAX_ANSWER)
            .read_to_end(&mut answer)
            .await?;
        Ok(answer)
    };
    let answer = tokio::time::timeout(timeouts.read, exchange)
        .await
        .map_err(|_| ProbeError::Timeout {
            addr: addr.clone(),
            stage: "answer",
            after: timeouts.read,
        })?
        .map_err(io_err)?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    refusal(&answer, word).map_err(|r| r.into_error(addr.clone(), word))?;
    Ok(answer)
}

/// `srvr`: version, mode, zxid, node count. The probe that always works (whitelisted by default).
pub async fn srvr(host: &str, port: u16, timeouts: Timeouts) -> Result<ZkServerInfo, ProbeError> {
    let answer = four_letter_word(host, port, "srvr", timeouts).await?;
    parse_srvr(&answer).map_err(|reason| unparsable(host, port, "srvr", reason, &answer))
}

/// `ruok` → `imok`. ZooKeeper says imok even while not serving, so this is liveness only.
pub async fn ruok(host: &str, port: u16, timeouts: Timeouts) -> Result<(), ProbeError> {
    let answer = four_letter_word(host, port, "ruok", timeouts).await?;
    match answer.trim() {
        "imok" => Ok(()),
        _ => Err(unparsable(
            host,
            port,
            "ruok",
            "expected `imok`".into(),
            &answer,
        )),
    }
}

/// `mntr`: every `zk_<key>` with its value, as ZooKeeper sent them (keys keep their `zk_`).
pub async fn mntr(
    host: &str,
    port: u16,
    timeouts: Timeouts,
) -> Result<BTreeMap<String, String>, ProbeError> {
    let answer = four_letter_word(host, port, "mntr", timeouts).await?;
    parse_mntr(&answer).map_err(|reason| unparsable(host, port, "mntr", reason, &answer))
}

fn unparsable(host: &str, port: u16, word: &str, reason: String, answer: &str) -> ProbeError {
    // Enough of the answer to recognise it, not a screenful.
    let answer: String = answer.chars().take(200).collect();
    ProbeError::Unparsable {
        addr: format!("{host}:{port}"),
        word: word.to_string(),
        reason,
        answer,
    }
}

/// The two answers with which ZooKeeper declines a word.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    NotServing,
    NotWhitelisted,
}

impl Refusal {
    fn into_error(self, addr: String, word: &str) -> ProbeError {
        match self {
            Refusal::NotServing => ProbeError::NotServing { addr },
            Refusal::NotWhitelisted => ProbeError::NotWhitelisted {
                addr,
                word: word.to_string(),
            },
        }
    }
}

fn refusal(answer: &str, word: &str) -> Result<(), Refusal> {
    let answer = answer.trim();
    if answer.starts_with(NOT_SERVING) {
        Err(Refusal::NotServing)
    } else if answer.starts_with(word) && answer.contains(NOT_WHITELISTED) {
        Err(Refusal::NotWhitelisted)
    } else {
        Ok(())
    }
}

/// Parses a `srvr` answer; version, mode, zxid and node count are required.
pub fn parse_srvr(answer: &str) -> Result<ZkServerInfo, String> {
    let mut fields = BTreeMap::new();
    for line in answer.lines() {
        if let Some((key, value)) = line.split_once(':') {
            fields.insert(key.trim(), value.trim());
        }
    }
    let field = |key: &str| {
        fields
            .get(key)
            .copied()
            .ok_or_else(|| format!("no `{key}:` line"))
    };
    let number = |key: &str| fields.get(key).and_then(|v| v.parse::<u64>().ok());

    let build = field("Zookeeper version")?.to_string();
    // "3.9.6-<commit>, built on …" → "3.9.6"
    let version = build
        .split(['-', ','])
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if version.is_empty() {
        return Err("empty version".into());
    }
    let mode_text = field("Mode")?;
    let mode = ZkMode::parse(mode_text).ok_or_else(|| format!("unknown mode `{mode_text}`"))?;
    let zxid_text = field("Zxid")?;
    let zxid = zxid_text
        .strip_prefix("0x")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .ok_or_else(|| format!("bad zxid `{zxid_text}`"))?;
    let node_count = number("Node count").ok_or("no valid `Node count:` line")?;
    let latency_ms = fields.get("Latency min/avg/max").and_then(|v| {
        let parts: Vec<f64> = v.split('/').filter_map(|p| p.parse().ok()).collect();
        <[f64; 3]>::try_from(parts).ok()
    });
    Ok(ZkServerInfo {
        version,
        build,
        mode,
        zxid,
        node_count,
        connections: number("Connections"),
        outstanding: number("Outstanding"),
        received: number("Received"),
        sent: number("Sent"),
        latency_ms,
    })
}

/// Parses a `mntr` answer: `zk_<key>\t<value>` lines, keys in any order, new keys welcome.
pub fn parse_mntr(answer: &str) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for line in answer.lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) = line
            .split_once('\t')
            .ok_or_else(|| format!("line without a tab: {line:?}"))?;
        if !key.starts_with("zk_") {
            return Err(format!("key without `zk_`: {key:?}"));
        }
        values.insert(key.to_string(), value.to_string());
    }
    if !values.contains_key("zk_server_state") {
        return Err("no zk_server_state".into());
    }
    Ok(values)
}

/// The broker `node_id` is listed in the metadata `bootstrap` answers with.
pub async fn broker_listed(
    bootstrap: &str,
    node_id: u32,
    timeout: Duration,
) -> Result<BrokerListed, ProbeError> {
    let admin = Admin::new(bootstrap, timeout)?;
    let cluster = admin.cluster().await;
    admin.close().await;
    let cluster = cluster?;
    let broker = cluster
        .brokers
        .iter()
        .find(|b| i64::from(b.id) == i64::from(node_id))
        .ok_or_else(|| ProbeError::BrokerNotListed {
            bootstrap: bootstrap.to_string(),
            node_id,
            listed: cluster.brokers.iter().map(|b| b.id).collect(),
        })?;
    Ok(BrokerListed {
        node_id,
        address: format!("{}:{}", broker.host, broker.port),
        cluster: cluster.clone(),
    })
}

/// The topic exists and every partition has a leader.
pub async fn topic_ready(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<TopicDescription, ProbeError> {
    let admin = Admin::new(bootstrap, timeout)?;
    let ready = topic_ready_with(&admin, topic).await;
    admin.close().await;
    ready
}

/// Like [`topic_ready`], through an admin client the caller already has.
pub async fn topic_ready_with(admin: &Admin, topic: &str) -> Result<TopicDescription, ProbeError> {
    let description = admin.describe_topic(topic).await?;
    let leaderless = description.leaderless();
    if description.partitions.is_empty() || !leaderless.is_empty() {
        return Err(ProbeError::NoLeader {
            topic: topic.to_string(),
            partitions: leaderless,
        });
    }
    Ok(description)
}

/// What a probe looks at, in words.
pub fn probe_label(spec: &ProbeSpec) -> String {
    match spec {
        ProbeSpec::ZookeeperServing { host, port } => format!("ZooKeeper at {host}:{port}"),
        ProbeSpec::KafkaBrokerListed { bootstrap, node_id } => {
            format!("Kafka broker {node_id} at {bootstrap}")
        }
        ProbeSpec::KafkaTopicReady { bootstrap, topic } => {
            format!("topic {topic} led at {bootstrap}")
        }
    }
}

/// The service a probe belongs to (for `kafkup logs <service>`).
pub fn probe_service(spec: &ProbeSpec) -> ServiceName {
    match spec {
        ProbeSpec::ZookeeperServing { .. } => ServiceName::Zookeeper,
        ProbeSpec::KafkaBrokerListed { .. } | ProbeSpec::KafkaTopicReady { .. } => {
            ServiceName::Kafka
        }
    }
}

/// Runs one probe once.
pub async fn check(spec: &ProbeSpec) -> Result<ProbeOutcome, ProbeError> {
    check_within(spec, DEFAULT_TIMEOUT).await
}

async fn check_within(spec: &ProbeSpec, limit: Duration) -> Result<ProbeOutcome, ProbeError> {
    let probe = probe_label(spec);
    match spec {
        ProbeSpec::ZookeeperServing { host, port } => {
            let info = srvr(host, *port, Timeouts::within(limit)).await?;
            Ok(ProbeOutcome {
                probe,
                description: info.describe(),
                details: ProbeDetails::Zookeeper(info),
            })
        }
        ProbeSpec::KafkaBrokerListed { bootstrap, node_id } => {
            let listed = broker_listed(bootstrap, *node_id, limit).await?;
            Ok(ProbeOutcome {
                probe,
                description: listed.describe(),
                details: ProbeDetails::KafkaBroker(listed),
            })
        }
        ProbeSpec::KafkaTopicReady { bootstrap, topic } => {
            let ready = ensure_topic_ready(bootstrap, topic, limit).await?;
            Ok(ProbeOutcome {
                probe,
                description: format!(
                    "topic {topic}: {} partition(s), all led",
                    ready.partitions.len()
                ),
                details: ProbeDetails::Topic(ready),
            })
        }
    }
}

/// Creates `topic` (1 partition, replication 1) unless it exists, then checks its leaders.
pub async fn ensure_topic_ready(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<TopicDescription, ProbeError> {
    let admin = Admin::new(bootstrap, timeout)?;
    let ready = async {
        match admin.describe_topic(topic).await {
            Ok(_) => {}
            Err(crate::messaging::admin::AdminError::UnknownTopic { .. }) => {
                match admin.create_topic(topic, 1, 1).await {
                    Ok(()) | Err(crate::messaging::admin::AdminError::AlreadyExists { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
        topic_ready_with(&admin, topic).await
    }
    .await;
    admin.close().await;
    ready
}

/// A probe did not pass before the deadline, or its service died while we waited.
#[derive(Debug, thiserror::Error)]
#[error("{}", not_ready_message(self))]
pub struct NotReady {
    /// What was probed: "Kafka broker 1 at 127.0.0.1:9092".
    pub probe: String,
    pub service: ServiceName,
    /// From the start of `wait_ready`.
    pub waited: Duration,
    /// The last probe failure (none if the service died before the first try).
    #[source]
    pub last_error: Option<ProbeError>,
    /// Why the service is not running, if it stopped while we waited.
    pub died: Option<String>,
}

fn not_ready_message(e: &NotReady) -> String {
    match &e.died {
        // `alive()` checks every service, so the reason names the one that stopped.
        Some(why) => format!(
            "gave up waiting for {} after {}: {why}",
            e.probe,
            secs(e.waited)
        ),
        None => format!("{} was not ready after {}", e.probe, secs(e.waited)),
    }
}

impl NotReady {
    /// The service to look at: the one the death notice names, else the probed one.
    pub fn culprit(&self) -> ServiceName {
        [ServiceName::Zookeeper, ServiceName::Kafka]
            .into_iter()
            .find(|s| {
                self.died
                    .as_deref()
                    .is_some_and(|why| why.starts_with(s.as_str()))
            })
            .unwrap_or(self.service)
    }
}

impl Diagnose for NotReady {
    fn exit_code(&self) -> ExitCode {
        ExitCode::NotReady
    }
    fn help(&self) -> Option<String> {
        Some(format!(
            "`kafkup logs {}` shows what the service said",
            self.culprit()
        ))
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Polls each probe in order every `interval` until it passes, all inside one `deadline`.
/// Before every poll `alive()` is asked, so a service that died fails at once with its
/// reason instead of waiting out the deadline.
pub async fn wait_ready(
    probes: &[ProbeSpec],
    deadline: Instant,
    interval: Duration,
    alive: &(dyn Fn() -> Result<(), String> + Sync),
    reporter: &dyn Reporter,
) -> Result<Vec<ProbeOutcome>, NotReady> {
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(probes.len());
    for spec in probes {
        let label = probe_label(spec);
        reporter.step(&format!("waiting for {label}"));
        let not_ready = |last_error, died| NotReady {
            probe: label.clone(),
            service: probe_service(spec),
            waited: start.elapsed(),
            last_error,
            died,
        };
        let mut last_error = None;
        loop {
            if let Err(why) = alive() {
                return Err(not_ready(last_error, Some(why)));
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let limit = remaining.clamp(POLL_MIN, POLL_LIMIT);
            match check_within(spec, limit).await {
                Ok(outcome) => {
                    tracing::debug!("{label} ready after {:?}", start.elapsed());
                    reporter.step(&outcome.description);
                    outcomes.push(outcome);
                    break;
                }
                Err(err) => {
                    tracing::debug!("{label}: {err}");
                    last_error = Some(err);
                }
            }
            if Instant::now() + interval >= deadline {
                return Err(not_ready(last_error, None));
            }
            tokio::time::sleep(interval).await;
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Silent;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::net::TcpListener;

    // Real answers of ZooKeeper 3.8.4 (standalone), captured with `printf srvr | nc`.
    const SRVR_STANDALONE: &str = "Zookeeper version: 3.8.4-9316c2a7a97e1666d8f4593f34dd6fc36ecc436c, built on 2024-02-12 22:16 UTC
Latency min/avg/max: 0/0.0/0
Received: 1
Sent: 0
Connections: 1
Outstanding: 0
Zxid: 0x0
Mode: standalone
Node count: 5
";

    // An ensemble leader adds a "Proposal sizes" line.
    const SRVR_LEADER: &str = "Zookeeper version: 3.9.3-c26634f34490bb0ea7a09cc51e05ede3b4e320ee, built on 2024-10-17 23:21 UTC
Latency min/avg/max: 0/0.4615/12
Received: 152
Sent: 151
Connections: 3
Outstanding: 0
Zxid: 0x10000001b
Mode: leader
Node count: 27
Proposal sizes last/min/max: 48/48/312
";

    const MNTR_START: &str =
        "zk_version\t3.8.4-9316c2a7a97e1666d8f4593f34dd6fc36ecc436c, built on 2024-02-12 22:16 UTC
zk_server_state\tstandalone
zk_ephemerals_count\t0
zk_num_alive_connections\t1
zk_avg_latency\t0.0
zk_outstanding_requests\t0
zk_znode_count\t5
zk_global_sessions\t0
zk_non_mtls_remote_conn_count\t0
zk_last_client_response_size\t-1
zk_max_file_descriptor_count\t20000
zk_approximate_data_size\t44
zk_avg_snapshottime\t11.0
zk_min_time_waiting_empty_pool_in_commit_processor_read_ms\t0
";

    #[test]
    fn srvr_standalone() {
        let info = parse_srvr(SRVR_STANDALONE).unwrap();
        assert_eq!(info.version, "3.8.4");
        assert!(info.build.ends_with("built on 2024-02-12 22:16 UTC"));
        assert_eq!(info.mode, ZkMode::Standalone);
        assert_eq!(info.zxid, 0);
        assert_eq!(info.node_count, 5);
        assert_eq!(info.connections, Some(1));
        assert_eq!(info.received, Some(1));
        assert_eq!(info.sent, Some(0));
        assert_eq!(info.latency_ms, Some([0.0, 0.0, 0.0]));
        assert_eq!(info.describe(), "ZooKeeper 3.8.4 standalone, 5 nodes");
    }

    #[test]
    fn srvr_leader() {
        let info = parse_srvr(SRVR_LEADER).unwrap();
        assert_eq!(info.version, "3.9.3");
        assert_eq!(info.mode, ZkMode::Leader);
        assert_eq!(info.zxid, 0x1_0000_001b);
        assert_eq!(info.node_count, 27);
        assert_eq!(info.latency_ms, Some([0.0, 0.4615, 12.0]));
    }

    #[test]
    fn srvr_every_mode() {
        for mode in ["standalone", "leader", "follower", "observer", "read-only"] {
            let answer = SRVR_STANDALONE.replace("Mode: standalone", &format!("Mode: {mode}"));
            assert_eq!(parse_srvr(&answer).unwrap().mode.as_str(), mode);
        }
    }

    #[test]
    fn srvr_broken() {
        let no_mode = SRVR_STANDALONE.replace("Mode: standalone\n", "");
        assert!(parse_srvr(&no_mode).unwrap_err().contains("Mode"));
        let odd_mode = SRVR_STANDALONE.replace("standalone", "dancing");
        assert!(parse_srvr(&odd_mode).unwrap_err().contains("dancing"));
        let bad_zxid = SRVR_STANDALONE.replace("0x0", "zero");
        assert!(parse_srvr(&bad_zxid).unwrap_err().contains("zxid"));
        assert!(parse_srvr("").is_err());
        assert!(parse_srvr("imok").is_err());
    }

    #[test]
    fn mntr_keeps_every_key() {
        let values = parse_mntr(MNTR_START).unwrap();
        assert_eq!(values.len(), 14);
        assert_eq!(values["zk_server_state"], "standalone");
        assert_eq!(values["zk_znode_count"], "5");
        assert!(values["zk_version"].starts_with("3.8.4-"));
        let newer = format!("{MNTR_START}zk_brand_new_metric\t42\n");
        assert_eq!(parse_mntr(&newer).unwrap()["zk_brand_new_metric"], "42");
    }

    #[test]
    fn mntr_broken() {
        assert!(parse_mntr("zk_version 3.8.4\n").is_err());
        assert!(parse_mntr("version\t3.8.4\nzk_server_state\tleader\n").is_err());
        assert!(parse_mntr("").is_err());
    }

    #[test]
    fn refusals() {
        let not_serving = "This ZooKeeper instance is not currently serving requests\n";
        assert_eq!(refusal(not_serving, "srvr"), Err(Refusal::NotServing));
        let not_listed = "mntr is not executed because it is not in the whitelist.\n";
        assert_eq!(refusal(not_listed, "mntr"), Err(Refusal::NotWhitelisted));
        assert_eq!(refusal(SRVR_STANDALONE, "srvr"), Ok(()));
        assert_eq!(refusal("imok", "ruok"), Ok(()));
    }

    #[test]
    fn outcome_json() {
        let info = parse_srvr(SRVR_STANDALONE).unwrap();
        let outcome = ProbeOutcome {
            probe: "ZooKeeper at 127.0.0.1:2181".into(),
            description: info.describe(),
            details: ProbeDetails::Zookeeper(info),
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json["kind"], "zookeeper");
        assert_eq!(json["mode"], "standalone");
        assert_eq!(json["node_count"], 5);
        assert_eq!(json["description"], "ZooKeeper 3.8.4 standalone, 5 nodes");
    }

    /// A port where nothing listens (bound, then released).
    async fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    /// A fake ZooKeeper that answers "not serving" to the first `not_serving` connections,
    /// then a real `srvr` answer. Returns its port and a connection counter.
    async fn fake_zookeeper(not_serving: usize) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let mut word = [0u8; 4];
                if socket.read_exact(&mut word).await.is_err() {
                    continue;
                }
                let answer = match &word {
                    _ if n < not_serving => format!("{NOT_SERVING}\n"),
                    b"srvr" => SRVR_STANDALONE.to_string(),
                    b"ruok" => "imok".to_string(),
                    other => format!(
                        "{} is not executed because it is not in the whitelist.\n",
                        String::from_utf8_lossy(other)
                    ),
                };
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (port, count)
    }

    fn zk(port: u16) -> ProbeSpec {
        ProbeSpec::ZookeeperServing {
            host: "127.0.0.1".into(),
            port,
        }
    }

    fn always_alive() -> Result<(), String> {
        Ok(())
    }

    #[tokio::test]
    async fn words_against_fake_server() {
        let (port, _) = fake_zookeeper(0).await;
        let t = Timeouts::default();
        assert_eq!(srvr("127.0.0.1", port, t).await.unwrap().node_count, 5);
        ruok("127.0.0.1", port, t).await.unwrap();
        let err = mntr("127.0.0.1", port, t).await.unwrap_err();
        assert!(
            matches!(&err, ProbeError::NotWhitelisted { word, .. } if word == "mntr"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn refused() {
        let port = closed_port().await;
        let err = srvr("127.0.0.1", port, Timeouts::default())
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::Refused { .. }), "{err}");
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        // Accepts (the kernel completes the handshake) but never answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let t = Timeouts::within(Duration::from_millis(200));
        let err = srvr("127.0.0.1", port, t).await.unwrap_err();
        assert!(
            matches!(
                err,
                ProbeError::Timeout {
                    stage: "answer",
                    ..
                }
            ),
            "{err}"
        );
        drop(listener);
    }

    #[tokio::test]
    async fn not_serving_is_distinct() {
        let (port, _) = fake_zookeeper(usize::MAX).await;
        let err = check(&zk(port)).await.unwrap_err();
        assert!(matches!(err, ProbeError::NotServing { .. }), "{err}");
    }

    #[tokio::test]
    async fn waits_until_serving() {
        let (port, count) = fake_zookeeper(3).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let outcomes = wait_ready(
            &[zk(port)],
            deadline,
            Duration::from_millis(20),
            &always_alive,
            &Silent,
        )
        .await
        .unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(
            outcomes[0].description,
            "ZooKeeper 3.8.4 standalone, 5 nodes"
        );
        assert_eq!(count.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn deadline_keeps_last_error() {
        let port = closed_port().await;
        let started = Instant::now();
        let err = wait_ready(
            &[zk(port)],
            started + Duration::from_millis(500),
            Duration::from_millis(50),
            &always_alive,
            &Silent,
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(err.died.is_none());
        assert!(matches!(err.last_error, Some(ProbeError::Refused { .. })));
        assert_eq!(err.service, ServiceName::Zookeeper);
        assert_eq!(err.exit_code(), ExitCode::NotReady);
        assert!(err.help().unwrap().contains("kafkup logs zookeeper"));
    }

    #[tokio::test]
    async fn dead_service_fails_at_once() {
        let port = closed_port().await;
        let started = Instant::now();
        let polls = AtomicUsize::new(0);
        let alive = || {
            if polls.fetch_add(1, Ordering::SeqCst) < 2 {
                Ok(())
            } else {
                Err("zookeeper exited with status 1; last log lines: boom".to_string())
            }
        };
        let err = wait_ready(
            &[zk(port)],
            started + Duration::from_secs(60),
            Duration::from_millis(10),
            &alive,
            &Silent,
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.died.as_deref().unwrap().contains("boom"));
        assert!(
            err.to_string()
                .starts_with("gave up waiting for ZooKeeper at"),
            "{err}"
        );
        assert!(err.help().unwrap().contains("kafkup logs zookeeper"));
        assert!(matches!(err.last_error, Some(ProbeError::Refused { .. })));
    }

    #[test]
    fn help_names_the_service_that_died() {
        let err = NotReady {
            probe: "ZooKeeper at 127.0.0.1:2181".into(),
            service: ServiceName::Zookeeper,
            waited: Duration::from_secs(3),
            last_error: None,
            died: Some("kafka exited with status 1; last log lines: …".into()),
        };
        assert_eq!(err.culprit(), ServiceName::Kafka);
        assert_eq!(
            err.to_string(),
            "gave up waiting for ZooKeeper at 127.0.0.1:2181 after 3.0 s: \
             kafka exited with status 1; last log lines: …"
        );
    }

    #[tokio::test]
    async fn probes_run_in_order() {
        // The second probe never passes: the first one's outcome is not enough.
        let (port, _) = fake_zookeeper(0).await;
        let closed = closed_port().await;
        let err = wait_ready(
            &[zk(port), zk(closed)],
            Instant::now() + Duration::from_millis(300),
            Duration::from_millis(50),
            &always_alive,
            &Silent,
        )
        .await
        .unwrap_err();
        assert_eq!(err.probe, format!("ZooKeeper at 127.0.0.1:{closed}"));
    }

    #[tokio::test]
    async fn kafka_refused_is_unreachable() {
        let port = closed_port().await;
        let bootstrap = format!("127.0.0.1:{port}");
        let err = broker_listed(&bootstrap, 1, Duration::from_millis(500))
            .await
            .unwrap_err();
        match &err {
            ProbeError::KafkaUnreachable { reason, .. } => {
                assert!(reason.contains("refused"), "{reason}")
            }
            other => panic!("unexpected {other}"),
        }
    }
}
