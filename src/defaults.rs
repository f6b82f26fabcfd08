//! Every default value, in one place: settings, help texts, templates and commands read
//! them from here.

use crate::vocab::{Role, SourceChoice};
use std::time::Duration;

/// Kafka in ZooKeeper mode, as in the guide (3.9.x is the last line that has it).
pub const KAFKA_VERSION_ZOOKEEPER_MODE: &str = "3.9.2";
/// The newest Kafka 4.x whose jars resolve on Maven Central.
pub const KAFKA_VERSION_KRAFT_MODE: &str = "4.4.0";
/// The newest ZooKeeper 3.9.x that resolves on Maven Central (3.9.6's jars are there, but its
/// parent POM is not, so Maven cannot resolve it).
pub const ZOOKEEPER_VERSION: &str = "3.9.5";
/// Kafka 4.x is built for Scala 2.13 only, and 2.13 is the usual choice for 3.x.
pub const SCALA_VERSION: &str = "2.13";

/// Bases serving the tarballs, tried in order (the CDN, then the archive of retired releases).
pub const MIRRORS: &[&str] = &[
    "https://dlcdn.apache.org",
    "https://archive.apache.org/dist",
];
/// Bases serving checksums, signatures and KEYS: the ASF's own sites, never a mirror.
pub const DISTS: &[&str] = &[
    "https://downloads.apache.org",
    "https://archive.apache.org/dist",
];

/// Where the distributions come from: Apache first, Maven when Apache's sites do not answer.
pub const SOURCE: SourceChoice = SourceChoice::Auto;
/// Maven repositories the jars are fetched from, tried in order (a proxy can stand in).
pub const MAVEN_REPOS: &[&str] = &["https://repo.maven.apache.org/maven2"];
/// Jars downloaded at once per distribution: a closure is ~60 small files, and one connection
/// at a time would spend most of its time waiting for answers.
pub const MAVEN_PARALLEL_DOWNLOADS: usize = 8;

pub const KAFKA_PORT: u16 = 9092;
pub const ZOOKEEPER_PORT: u16 = 2181;
/// With one broker on the default port: the controller listener takes the port after the
/// brokers' ports.
pub const CONTROLLER_PORT: u16 = 9093;
/// Dedicated KRaft controllers' node ids start after this (brokers are 1 … N).
pub const CONTROLLER_ID_BASE: u32 = 100;

/// The distributions' own script defaults, for one broker and one ZooKeeper.
pub const KAFKA_HEAP: &str = "1g";
pub const ZOOKEEPER_HEAP: &str = "512m";
/// Each of several brokers, each server of a ZooKeeper ensemble, and a dedicated KRaft
/// controller: three brokers, three controllers and their JVMs' own memory fit a laptop.
pub const CLUSTER_KAFKA_HEAP: &str = "512m";
pub const ENSEMBLE_ZOOKEEPER_HEAP: &str = "256m";
pub const CONTROLLER_HEAP: &str = "256m";

/// How many brokers `--brokers` allows: each is a JVM on this one machine.
pub const MAX_BROKERS: u8 = 9;
/// The ports a ZooKeeper ensemble's servers talk to each other on (the n-th server: +n-1).
pub const ZOOKEEPER_QUORUM_PORT: u16 = 2888;
pub const ZOOKEEPER_ELECTION_PORT: u16 = 3888;

/// How long `setup` and `start` wait for readiness.
pub const READY_TIMEOUT_SECS: u64 = 120;
/// `probe` without `--wait`: one look, short enough that a down service fails fast.
pub const PROBE_ONCE_SECS: u64 = 2;
/// How long `kafkup selftest` may take.
pub const SELFTEST_TIMEOUT_SECS: u64 = 60;
/// How long each admin request of setup's declared topics may take (create, raise, configure).
pub const TOPIC_ADMIN_TIMEOUT_SECS: u64 = 30;
/// How many messages the self-test sends (`setup`'s and `kafkup selftest`'s).
pub const SELFTEST_MESSAGES: u32 = 100;

/// How long a service gets to shut down after SIGTERM before it is killed: a broker flushes
/// logs and closes segments. Every runner uses these (the unit's `TimeoutStopSec=` too).
pub const KAFKA_STOP_GRACE: Duration = Duration::from_secs(30);
pub const ZOOKEEPER_STOP_GRACE: Duration = Duration::from_secs(15);

/// The grace period of a node of `role`.
pub fn stop_grace(role: Role) -> Duration {
    match role {
        Role::Zookeeper => ZOOKEEPER_STOP_GRACE,
        Role::Controller | Role::Kafka => KAFKA_STOP_GRACE,
    }
}

/// `logs` without `-n`.
pub const LOG_LINES: usize = 100;

/// The dedicated system user the systemd runner runs services as.
pub const SERVICE_USER: &str = "kafkup";

/// Four-letter words ZooKeeper answers: the ones our probes use, nothing more.
pub const FOUR_LETTER_WORDS: &str = "srvr,ruok,mntr";

/// The interface every listener binds to and advertises on the host.
pub const HOST: &str = "127.0.0.1";

/// The system-wide layout, used as root (`--root` and the XDG directories otherwise).
pub const SYSTEM_INSTALL: &str = "/opt/kafkup";
pub const SYSTEM_DATA: &str = "/var/lib/kafkup/data";
pub const SYSTEM_CONFIG: &str = "/etc/kafkup";
pub const SYSTEM_CACHE: &str = "/var/cache/kafkup";
pub const SYSTEM_STATE: &str = "/var/lib/kafkup/state";

/// Directories the system empties (on boot or by age): data there would be lost.
pub const TEMP_DIRS: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];

/// Where systemd looks for units an administrator installed.
pub const SYSTEMD_UNIT_DIR: &str = "/etc/systemd/system";

/// What a command line names as Java where none could be looked at (a dry run before the
/// runner's Java is known, `render` on a machine without Java).
pub const FALLBACK_JAVA: &str = "/usr/bin/java";

/// Where things are inside a service's container (the same for every image).
pub mod container {
    pub const INSTALL: &str = "/opt/kafkup";
    pub const CONFIG: &str = "/etc/kafkup";
    pub const DATA: &str = "/var/lib/kafkup/data";
    /// The host's class-archive directory, bind-mounted read-write.
    pub const CLASS_ARCHIVES: &str = "/var/cache/kafkup/class-archives";
    /// Inside its own network namespace a service listens on every interface.
    pub const LISTEN_ALL: &str = "0.0.0.0";
    /// The broker listener for the environment's network (other brokers, containers there):
    /// the same port in every broker's container, never published.
    pub const INTERNAL_PORT: u16 = 19092;
}

/// The JRE image the docker runner runs the services from (any JRE 17+ image works: the
/// distribution comes from the verified tarball, bind-mounted).
pub const IMAGE: &str = "eclipse-temurin:17-jre";

/// Where `kafkup serve` listens: loopback, the guide's Flask port.
pub const SERVE_BIND: &str = "127.0.0.1:5000";

/// How long `produce` and `serve` wait for the broker to acknowledge a message.
pub const DELIVERY_TIMEOUT_SECS: u64 = 30;
/// The largest request body `serve` reads (1 MiB).
pub const SERVE_MAX_BODY: usize = 1024 * 1024;
/// How long `serve` waits for more of a request body before it drops the request (408).
pub const SERVE_BODY_READ_TIMEOUT_SECS: u64 = 10;
/// The largest record batch a broker takes by default (Kafka's `message.max.bytes`: 1 MiB
/// and 12 bytes of log overhead); kafkup's brokers keep that default. `produce` and `serve`
/// send no record that would not fit a batch of its own of this size.
pub const KAFKA_MAX_BATCH_BYTES: usize = 1_048_588;
/// What `consume --reassemble` holds of incomplete messages, at most: bytes, and how long
/// one waits for its other segments.
pub const REASSEMBLE_MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;
pub const REASSEMBLE_MAX_AGE_SECS: u64 = 60;
#[cfg(test)]
mod tests {
    use super::*;

    /// The test fixtures are built for the default versions (fixtures/versions.sh).
    #[test]
    fn the_fixtures_are_built_for_the_defaults() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/versions.sh");
        let text = std::fs::read_to_string(path).unwrap();
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{key} missing from {path}"))
                .to_string()
        };
        assert_eq!(
            value("FIXTURE_KAFKA_ZOOKEEPER_MODE"),
            KAFKA_VERSION_ZOOKEEPER_MODE
        );
        assert_eq!(value("FIXTURE_KAFKA_KRAFT_MODE"), KAFKA_VERSION_KRAFT_MODE);
        assert_eq!(value("FIXTURE_ZOOKEEPER"), ZOOKEEPER_VERSION);
        assert_eq!(value("FIXTURE_SCALA"), SCALA_VERSION);
    }
}
