//! Settings: flags > `KAFKUP_*` environment > TOML config file > defaults, validated once.
//! Every setting is declared once, in the table below: its help text, flag and variable (clap
//! merges flags with the environment), config key (serde), default and check side by side.
//! Adding one is adding a row.

mod check;
mod declare;
mod file;

pub use check::absolute;
pub use file::{load_config_file, parse_config};

use crate::catalog;
use crate::defaults as d;
use crate::error::{Diagnose, ExitCode};
use crate::paths::Paths;
use crate::topics::TopicDecl;
use crate::vocab::{Backend, MigrationPhase, Mode, Security, SourceChoice};
use check::{
    count, count_given, given, jvm_options, maybe_version, one_of, or, or_str, path, paths, port,
    some_heap, some_port, topics, urls, version,
};
use const_format::formatcp;
use declare::declare_settings;
use std::path::PathBuf;
use url::Url;

declare_settings! {
    /// One directory for install, data, config, cache and state (config key; the flag is the
    /// global --root).
    #[arg(skip)]
    root: PathBuf => Option<PathBuf> = path();
    /// zookeeper (Kafka 3.9.x + ZooKeeper, as in the guide) or kraft (Kafka 4.x alone).
    #[arg(long, env = "KAFKUP_MODE", value_enum)]
    mode: Mode => Mode = or(Mode::Zookeeper), kept;
    /// How to run the services.
    #[arg(long, env = "KAFKUP_BACKEND", value_enum)]
    backend: Backend => Backend = or(Backend::Auto);
    #[arg(long, env = "KAFKUP_KAFKA_VERSION", value_name = "VERSION", help = formatcp!(
        "Kafka release [default: {} in zookeeper mode, {} in kraft mode]",
        d::KAFKA_VERSION_ZOOKEEPER_MODE, d::KAFKA_VERSION_KRAFT_MODE))]
    kafka_version: String => Option<String> = maybe_version("Kafka version"), kept;
    #[arg(long, env = "KAFKUP_ZOOKEEPER_VERSION", value_name = "VERSION",
        help = formatcp!("ZooKeeper release [default: {}]", d::ZOOKEEPER_VERSION))]
    zookeeper_version: String => String = version("ZooKeeper version", d::ZOOKEEPER_VERSION), kept;
    /// The Scala build of Kafka (config file only).
    #[arg(skip)]
    scala_version: String => String = version("Scala version", d::SCALA_VERSION), kept;
    #[arg(long, env = "KAFKUP_SOURCE", value_enum, value_name = "SOURCE",
        help = formatcp!("Where the distributions come from: apache (release tarballs from --mirror), \
            maven (assembled from jars in --maven-repo, pinned by kafkup's locks) or auto (apache, \
            then maven when Apache's sites do not answer) [default: {}]", d::SOURCE.as_str()))]
    source: SourceChoice => SourceChoice = or(d::SOURCE);
    #[arg(long = "mirror", env = "KAFKUP_MIRROR", value_name = "URL", value_delimiter = ',',
        help = formatcp!("Base URL serving the tarballs, tried in order (repeatable; \
            KAFKUP_MIRROR is comma-separated) [default: {}, {}]", d::MIRRORS[0], d::MIRRORS[1]))]
    mirrors: Vec<String> => Vec<Url> = urls("mirror", d::MIRRORS);
    #[arg(long = "dist", env = "KAFKUP_DIST", value_name = "URL", value_delimiter = ',',
        help = formatcp!("Base URL serving .sha512, .asc and KEYS, never the mirror's copy \
            (repeatable) [default: {}, {}]", d::DISTS[0], d::DISTS[1]))]
    dists: Vec<String> => Vec<Url> = urls("dist", d::DISTS);
    #[arg(long = "maven-repo", env = "KAFKUP_MAVEN_REPO", value_name = "URL", value_delimiter = ',',
        help = formatcp!("Maven repository serving the jars (Maven Central or a proxy of it), tried in \
            order (repeatable; KAFKUP_MAVEN_REPO is comma-separated) [default: {}]", d::MAVEN_REPOS[0]))]
    maven_repos: Vec<String> => Vec<Url> = urls("maven repo", d::MAVEN_REPOS);
    /// KEYS file to check Apache jars' signatures against when no dist site answers, instead of
    /// the copy built into kafkup (repeatable; KAFKUP_KEYS is comma-separated).
    #[arg(long = "keys", env = "KAFKUP_KEYS", value_name = "FILE", value_delimiter = ',')]
    keys: Vec<PathBuf> => Vec<PathBuf> = paths();
    /// Directory of extra Maven lock files (written by scripts/lock-maven.sh), for versions kafkup
    /// has no built-in lock for; a lock for a built-in version must pin exactly the same jars.
    #[arg(long, env = "KAFKUP_MAVEN_LOCK_DIR", value_name = "DIR")]
    maven_lock_dir: PathBuf => Option<PathBuf> = path();
    /// Skip the OpenPGP signature check (the SHA-512 check, or from Maven the lock's SHA-256, still runs).
    #[arg(long = "no-verify-signature", num_args = 0, default_missing_value = "false",
        value_parser = clap::value_parser!(bool))]
    verify_signature: bool => bool = or(true);
    #[arg(long, env = "KAFKUP_KAFKA_PORT", value_name = "PORT",
        help = formatcp!("Kafka broker port on {} [default: {}]", d::HOST, d::KAFKA_PORT))]
    kafka_port: u16 => u16 = port(d::KAFKA_PORT), kept;
    #[arg(long, env = "KAFKUP_ZOOKEEPER_PORT", value_name = "PORT",
        help = formatcp!("ZooKeeper client port on {} [default: {}]", d::HOST, d::ZOOKEEPER_PORT))]
    zookeeper_port: u16 => u16 = port(d::ZOOKEEPER_PORT), kept;
    #[arg(long, env = "KAFKUP_CONTROLLER_PORT", value_name = "PORT",
        help = formatcp!("KRaft controller port on {} [default: the port after the brokers' ({} with one \
            broker on {})]", d::HOST, d::CONTROLLER_PORT, d::KAFKA_PORT))]
    controller_port: u16 => Option<u16> = some_port(), kept;
    /// Do not run the produce/consume self-test at the end.
    #[arg(long = "no-selftest", num_args = 0, default_missing_value = "false",
        value_parser = clap::value_parser!(bool))]
    selftest: bool => bool = or(true);
    /// Directory whose templates override the built-in ones by file name.
    #[arg(long, env = "KAFKUP_TEMPLATES", value_name = "DIR")]
    templates: PathBuf => Option<PathBuf> = path(), kept;
    /// Each broker's JVM heap [default: 1g for one broker, less for each of several] (config
    /// file only).
    #[arg(skip)]
    kafka_heap: String => Option<String> = some_heap(), kept;
    /// Each ZooKeeper server's JVM heap [default: 512m, less in an ensemble] (config file only).
    #[arg(skip)]
    zookeeper_heap: String => Option<String> = some_heap(), kept;
    #[arg(long, env = "KAFKUP_BROKERS", value_name = "N",
        help = formatcp!("Kafka brokers, 1 to {} [default: 1]", d::MAX_BROKERS))]
    brokers: u8 => u8 = count(1, 1, d::MAX_BROKERS), kept;
    /// KRaft mode: dedicated controller nodes, 1 or 3 [default: none, the brokers are the
    /// controllers]
    #[arg(long, env = "KAFKUP_CONTROLLERS", value_name = "K")]
    controllers: u8 => u8 = one_of(0, &[0, 1, 3]), kept;
    /// ZooKeeper mode: ZooKeeper servers, 1 or 3 (an ensemble) [default: 1]
    #[arg(long, env = "KAFKUP_ZOOKEEPERS", value_name = "N")]
    zookeepers: u8 => u8 = one_of(1, &[1, 3]), kept;
    /// KRaft mode without dedicated controllers: how many of the brokers vote in the quorum
    /// (recorded when an environment is first set up: the brokers added later only serve).
    #[arg(skip)]
    voters: u8 => Option<u8> = count_given(1, d::MAX_BROKERS), kept;
    /// Replicas of new topics and of the internal topics [default: the brokers, at most 3]
    #[arg(long, env = "KAFKUP_REPLICATION_FACTOR", value_name = "R")]
    replication_factor: u8 => Option<u8> = count_given(1, d::MAX_BROKERS), kept;
    /// Replicas that must acknowledge a write with acks=all [default: one less than the
    /// replication factor, at least 1]
    #[arg(long, env = "KAFKUP_MIN_INSYNC_REPLICAS", value_name = "N")]
    min_insync_replicas: u8 => Option<u8> = count_given(1, d::MAX_BROKERS), kept;
    /// JVM options after kafkup's for the broker, one per entry (config file only).
    #[arg(skip)]
    kafka_jvm_options: Vec<String> => Vec<String> = jvm_options(), kept;
    /// JVM options after kafkup's for ZooKeeper, one per entry (config file only).
    #[arg(skip)]
    zookeeper_jvm_options: Vec<String> => Vec<String> = jvm_options(), kept;
    /// Java installation to use [default: JAVA_HOME, then java on PATH].
    #[arg(long, value_name = "DIR")]
    java_home: PathBuf => Option<PathBuf> = path(), kept;
    #[arg(long = "wait", value_name = "SECS", help = formatcp!(
        "Seconds to wait for the services to become ready [default: {}]", d::READY_TIMEOUT_SECS))]
    ready_timeout_secs: u64 => u64 = or(d::READY_TIMEOUT_SECS);
    #[arg(long, env = "KAFKUP_IMAGE", value_name = "IMAGE",
        help = formatcp!("The JRE 17+ image the docker runner runs the services from [default: {}]", d::IMAGE))]
    image: String => String = or_str(d::IMAGE), kept;
    /// Start the JVMs without class-data archives (by default the first start records the
    /// classes it loads into the cache and later starts map them, and start sooner).
    #[arg(long = "no-class-archive", num_args = 0, default_missing_value = "false",
        value_parser = clap::value_parser!(bool))]
    class_archive: bool => bool = or(true);
    /// What the brokers' client listener speaks: plaintext, tls, mtls (clients present a
    /// certificate) or scram (SASL/SCRAM-SHA-512 over TLS); with mtls and scram ACLs apply
    /// (see "Secured listeners" in the README) [default: plaintext]
    #[arg(long, env = "KAFKUP_SECURITY", value_enum)]
    security: Security => Security = or(Security::Plaintext), kept;
    /// The phase of a migration from ZooKeeper to KRaft under way (recorded by `kafkup
    /// migrate`; not a setting to give).
    #[arg(skip)]
    migration: MigrationPhase => Option<MigrationPhase> = given(), kept;
    /// ZooKeeper mode: the inter.broker.protocol.version the brokers speak while an upgrade
    /// to a new minor release rolls through them (recorded by `kafkup upgrade`, lifted by
    /// `kafkup upgrade --finalize`; not a setting to give).
    #[arg(skip)]
    inter_broker_protocol: String => Option<String> = given(), kept;
    /// A topic setup makes sure of: created where missing, partitions raised, configs set (in
    /// the config file [[topics]] with name, partitions, replication_factor and configs); never
    /// deleted (repeatable; KAFKUP_TOPICS is comma-separated; the list replaces the config
    /// file's).
    #[arg(long = "topic", env = "KAFKUP_TOPICS", value_name = "NAME[:PARTITIONS[:REPLICATION]]",
        value_delimiter = ',')]
    topics: Vec<TopicDecl> => Vec<TopicDecl> = topics(), kept;
}

/// A setting an environment recorded, and the value a new `setup` gives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub key: &'static str,
    pub was: String,
    pub now: String,
}

impl Change {
    fn new<T: serde::Serialize>(key: &'static str, was: &T, now: &T) -> Change {
        let text = |v: &T| serde_json::to_value(v).map_or_else(|_| "?".into(), |v| said(&v));
        Change {
            key,
            was: text(was),
            now: text(now),
        }
    }
}

/// A value in words: lists joined by `; `, tables as `key=value` pairs (`name=orders
/// partitions=3`), an empty list as `none`.
fn said(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => items.iter().map(said).collect::<Vec<_>>().join("; "),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| match v {
                Value::Object(_) => format!("{k}={{{}}}", said(v)),
                _ => format!("{k}={}", said(v)),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// "kafka port 22094 → 9092".
impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = self.key.replace('_', " ");
        write!(f, "{key} {} → {}", self.was, self.now)
    }
}

/// A resolved value as the layer it would be given in (what an environment records).
pub trait Keep<I> {
    fn keep(&self) -> Option<I>;
}

impl<T: Clone> Keep<T> for T {
    fn keep(&self) -> Option<T> {
        Some(self.clone())
    }
}

impl<T: Clone> Keep<T> for Option<T> {
    fn keep(&self) -> Option<T> {
        self.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config file {path}: {reason}")]
    ConfigUnreadable {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    ConfigInvalid { path: PathBuf, message: String },
    #[error("{what} {value:?} is not a usable URL: {reason}")]
    BadUrl {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("port {port} is used twice ({first} and {second})")]
    PortClash {
        port: u16,
        first: String,
        second: String,
    },
    #[error("{what} must be a port between 1 and 65535, not 0")]
    PortZero { what: String },
    #[error("heap size {value:?} is not a JVM size like 512m or 1g")]
    BadHeap { value: String },
    #[error("{key} entry {value:?} is not a JVM option (one option per entry, starting with -)")]
    BadJvmOption { key: &'static str, value: String },
    #[error("{what}")]
    Invalid { what: String, help: String },
    #[error("{0}")]
    BadTopic(String),
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
}

impl Diagnose for SettingsError {
    fn exit_code(&self) -> ExitCode {
        match self {
            SettingsError::ConfigUnreadable { .. } => ExitCode::Error,
            _ => ExitCode::Usage,
        }
    }
    fn help(&self) -> Option<String> {
        match self {
            SettingsError::ConfigUnreadable { .. } => Some("check the path given with --config or KAFKUP_CONFIG".into()),
            SettingsError::ConfigInvalid { .. } => Some("fix that key; `kafkup --help` and the README list the keys and their types".into()),
            SettingsError::BadUrl { .. } => Some("use https:// (http:// only for 127.0.0.1/localhost), or file:// for a local directory".into()),
            SettingsError::PortClash { .. } | SettingsError::PortZero { .. } => Some("choose distinct ports with --kafka-port, --zookeeper-port and --controller-port".into()),
            SettingsError::BadHeap { .. } => None,
            SettingsError::BadJvmOption { .. } => Some("for example kafka_jvm_options = [\"-XX:TieredStopAtLevel=4\", \"-Dsome.property=value\"]".into()),
            SettingsError::BadTopic(_) => Some("--topic NAME[:PARTITIONS[:REPLICATION]], or [[topics]] tables with name, partitions, replication_factor and configs in the config file".into()),
            SettingsError::Catalog(e) => Diagnose::help(e),
            SettingsError::Invalid { help, .. } => Some(help.clone()),
        }
    }
}

impl Layer {
    /// An environment's record under a `mode` asked for above it: the Kafka release it
    /// recorded belongs to its own mode, and another mode gets that mode's default.
    pub fn for_mode(mut self, mode: Option<Mode>) -> Layer {
        if mode.is_some_and(|m| Some(m) != self.mode) {
            self.kafka_version = None;
        }
        self
    }
}

impl Settings {
    /// Resolves the layers, highest first (flags and environment, then the config file), and
    /// checks what no single setting can check alone.
    pub fn resolve(layers: impl IntoIterator<Item = Layer>) -> Result<Settings, SettingsError> {
        let merged = layers
            .into_iter()
            .fold(None, |upper: Option<Layer>, lower| {
                Some(match upper {
                    Some(upper) => upper.over(lower),
                    None => lower,
                })
            });
        let mut settings = Settings::from_layer(merged.unwrap_or_default())?;
        // Decided now, so that an environment records the release it runs.
        let version = catalog::default_kafka_version(settings.mode);
        settings
            .kafka_version
            .get_or_insert_with(|| version.to_string());
        catalog::check_mode(settings.mode, &settings.chosen_kafka_version())?;
        settings.check_shape()?;
        settings.settle_quorum();
        Ok(settings)
    }

    /// Decided now, so that an environment records its KRaft quorum: the voters and their
    /// port stay when brokers are added later (a static quorum cannot grow in place).
    fn settle_quorum(&mut self) {
        if self.mode != Mode::Kraft && self.migration.is_none() {
            return;
        }
        if self.controllers == 0 {
            self.voters.get_or_insert(self.brokers);
        }
        let after_brokers = self.kafka_port.saturating_add(u16::from(self.brokers));
        self.controller_port.get_or_insert(after_brokers);
    }

    /// Nodes of a kind the mode does not have, and replication the brokers cannot hold.
    fn check_shape(&self) -> Result<(), SettingsError> {
        let invalid = |what: String, help: &str| {
            Err(SettingsError::Invalid {
                what,
                help: help.into(),
            })
        };
        // A migration has both: controllers beside ZooKeeper until it is finalized.
        let migrating = self.migration.is_some();
        if self.mode == Mode::Zookeeper && self.controllers > 0 && !migrating {
            return invalid(
                "--controllers is for KRaft mode: in ZooKeeper mode ZooKeeper holds the metadata"
                    .into(),
                "use --mode kraft, or --zookeepers 3 for a ZooKeeper ensemble",
            );
        }
        if self.mode == Mode::Kraft && self.zookeepers > 1 && !migrating {
            return invalid(
                "--zookeepers is for ZooKeeper mode: KRaft mode has no ZooKeeper".into(),
                "use --controllers 3 for a dedicated controller quorum",
            );
        }
        let replication = self.replication_factor.unwrap_or(1);
        if replication > self.brokers {
            let brokers = self.brokers;
            return invalid(
                format!(
                    "a replication factor of {replication} needs as many brokers, not {brokers}"
                ),
                "ask for more brokers with --brokers, or fewer replicas",
            );
        }
        let min_isr = self.min_insync_replicas.unwrap_or(1);
        if min_isr > self.replication_factor.unwrap_or(self.brokers.min(3)) {
            return invalid(
                format!("min.insync.replicas {min_isr} is more than the replicas there are"),
                "give --min-insync-replicas at most the replication factor",
            );
        }
        Ok(())
    }

    /// The Kafka release: the one asked for, else the mode's default.
    pub fn chosen_kafka_version(&self) -> String {
        let default = || catalog::default_kafka_version(self.mode).to_string();
        self.kafka_version.clone().unwrap_or_else(default)
    }

    /// Where the environment lives: `root`, else the default layout for this user.
    pub fn paths(&self) -> Paths {
        match &self.root {
            Some(root) => Paths::under_root(root),
            None => Paths::default_for_current_user(),
        }
    }

    /// Where the distributions come from, and how they are proven.
    pub fn sources(&self) -> crate::fetch::Sources {
        crate::fetch::Sources {
            choice: self.source,
            mirrors: self.mirrors.clone(),
            dists: self.dists.clone(),
            verify_signature: self.verify_signature,
            maven: crate::fetch::MavenSources {
                repos: self.maven_repos.clone(),
                keys_files: self.keys.clone(),
                lock_dir: self.maven_lock_dir.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests;
