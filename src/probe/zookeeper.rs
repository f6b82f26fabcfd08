//! ZooKeeper's four-letter words over TCP: the client, and parsers for `srvr` and `mntr`.

use super::ProbeError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A four-letter answer larger than this is not ZooKeeper talking (`mntr` is ~20 KB).
const MAX_ANSWER: u64 = 1 << 20;
/// What ZooKeeper answers (instead of data) until it has joined a quorum or loaded its data.
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";
/// What ZooKeeper answers for a word missing from `4lw.commands.whitelist`.
const NOT_WHITELISTED: &str = "is not executed because it is not in the whitelist";

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
        Timeouts::within(super::DEFAULT_TIMEOUT)
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

#[cfg(test)]
pub(crate) mod testing {
    //! A fake ZooKeeper for the probe tests.
    use super::NOT_SERVING;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    // Real answers of ZooKeeper 3.8.4 (standalone), captured with `printf srvr | nc`.
    pub const SRVR_STANDALONE: &str = "Zookeeper version: 3.8.4-9316c2a7a97e1666d8f4593f34dd6fc36ecc436c, built on 2024-02-12 22:16 UTC
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

    /// A port where nothing listens (bound, then released).
    pub async fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    /// A fake ZooKeeper that answers "not serving" to the first `not_serving` connections,
    /// then a real `srvr` answer. Returns its port and a connection counter.
    pub async fn fake_zookeeper(not_serving: usize) -> (u16, Arc<AtomicUsize>) {
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
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use tokio::net::TcpListener;

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
}
