//! The command line. Doc comments are the help text.

use crate::catalog::Mode;
use crate::defaults as d;
use crate::fetch::SourceChoice;
use crate::messaging::outgoing::{self, ValueFormat};
use crate::messaging::segment;
use crate::runner::Backend;
use crate::settings::Overrides;
use clap::{Args, Parser, Subcommand};
use const_format::formatcp;
use std::path::PathBuf;

/// A verified, working ZooKeeper + Kafka environment with one command, gone with another.
#[derive(Debug, Parser)]
#[command(name = "kafkup", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML config file (keys as in the README); flags and KAFKUP_* variables override it.
    #[arg(long, global = true, env = "KAFKUP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// One directory for install, data, config, cache and state
    /// [default: /opt/kafkup, /var/lib/kafkup, /etc/kafkup, /var/cache/kafkup as root; XDG dirs otherwise].
    #[arg(long, global = true, env = "KAFKUP_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail (repeat for debug logs); also KAFKUP_LOG=debug.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// What to install and how: shared by `setup`, `fetch` and `render`.
#[derive(Debug, Args, Clone, Default)]
pub struct InstallArgs {
    /// zookeeper (Kafka 3.9.x + ZooKeeper, as in the guide) or kraft (Kafka 4.x alone).
    #[arg(long, env = "KAFKUP_MODE", value_enum)]
    pub mode: Option<Mode>,
    /// How to run the services.
    #[arg(long, env = "KAFKUP_BACKEND", value_enum)]
    pub backend: Option<Backend>,
    #[arg(long, env = "KAFKUP_KAFKA_VERSION", value_name = "VERSION", help = formatcp!(
        "Kafka release [default: {} in zookeeper mode, {} in kraft mode]",
        d::KAFKA_VERSION_ZOOKEEPER_MODE, d::KAFKA_VERSION_KRAFT_MODE))]
    pub kafka_version: Option<String>,
    #[arg(long, env = "KAFKUP_ZOOKEEPER_VERSION", value_name = "VERSION",
        help = formatcp!("ZooKeeper release [default: {}]", d::ZOOKEEPER_VERSION))]
    pub zookeeper_version: Option<String>,
    #[arg(long = "mirror", env = "KAFKUP_MIRROR", value_name = "URL", value_delimiter = ',',
        help = formatcp!("Base URL serving the tarballs, tried in order (repeatable; \
            KAFKUP_MIRROR is comma-separated) [default: {}, {}]", d::MIRRORS[0], d::MIRRORS[1]))]
    pub mirrors: Vec<String>,
    #[arg(long = "dist", env = "KAFKUP_DIST", value_name = "URL", value_delimiter = ',',
        help = formatcp!("Base URL serving .sha512, .asc and KEYS, never the mirror's copy \
            (repeatable) [default: {}, {}]", d::DISTS[0], d::DISTS[1]))]
    pub dists: Vec<String>,
    #[arg(long, env = "KAFKUP_SOURCE", value_enum, value_name = "SOURCE",
        help = formatcp!("Where the distributions come from: apache (release tarballs from --mirror), \
            maven (assembled from jars in --maven-repo, pinned by kafkup's locks) or auto (apache, \
            then maven when Apache's sites do not answer) [default: {}]", d::SOURCE_NAME))]
    pub source: Option<SourceChoice>,
    #[arg(long = "maven-repo", env = "KAFKUP_MAVEN_REPO", value_name = "URL", value_delimiter = ',',
        help = formatcp!("Maven repository serving the jars (Maven Central or a proxy of it), tried in \
            order (repeatable; KAFKUP_MAVEN_REPO is comma-separated) [default: {}]", d::MAVEN_REPOS[0]))]
    pub maven_repos: Vec<String>,
    /// KEYS file to check Apache jars' signatures against when no dist site answers, instead of
    /// the copy built into kafkup (repeatable; KAFKUP_KEYS is comma-separated).
    #[arg(
        long = "keys",
        env = "KAFKUP_KEYS",
        value_name = "FILE",
        value_delimiter = ','
    )]
    pub keys: Vec<PathBuf>,
    /// Directory of extra Maven lock files (written by scripts/lock-maven.sh), for versions kafkup
    /// has no built-in lock for; a lock for a built-in version must pin exactly the same jars.
    #[arg(long, env = "KAFKUP_MAVEN_LOCK_DIR", value_name = "DIR")]
    pub maven_lock_dir: Option<PathBuf>,
    /// Skip the OpenPGP signature check (the SHA-512 check, or from Maven the lock's SHA-256, still runs).
    #[arg(long)]
    pub no_verify_signature: bool,
    #[arg(long, env = "KAFKUP_KAFKA_PORT", value_name = "PORT",
        help = formatcp!("Kafka broker port on {} [default: {}]", d::HOST, d::KAFKA_PORT))]
    pub kafka_port: Option<u16>,
    #[arg(long, env = "KAFKUP_ZOOKEEPER_PORT", value_name = "PORT",
        help = formatcp!("ZooKeeper client port on {} [default: {}]", d::HOST, d::ZOOKEEPER_PORT))]
    pub zookeeper_port: Option<u16>,
    #[arg(long, env = "KAFKUP_CONTROLLER_PORT", value_name = "PORT",
        help = formatcp!("KRaft controller port on {} [default: {}]", d::HOST, d::CONTROLLER_PORT))]
    pub controller_port: Option<u16>,
    /// Directory whose templates override the built-in ones by file name.
    #[arg(long, env = "KAFKUP_TEMPLATES", value_name = "DIR")]
    pub templates: Option<PathBuf>,
    #[arg(long, env = "KAFKUP_IMAGE", value_name = "IMAGE",
        help = formatcp!("The JRE 17+ image the docker runner runs the services from [default: {}]", d::IMAGE))]
    pub image: Option<String>,
    /// Java installation to use [default: JAVA_HOME, then java on PATH].
    #[arg(long, value_name = "DIR")]
    pub java_home: Option<PathBuf>,
}

impl InstallArgs {
    pub fn overrides(&self, root: Option<PathBuf>) -> Overrides {
        Overrides {
            root,
            mode: self.mode,
            backend: self.backend,
            kafka_version: self.kafka_version.clone(),
            zookeeper_version: self.zookeeper_version.clone(),
            source: self.source,
            mirrors: self.mirrors.clone(),
            dists: self.dists.clone(),
            maven_repos: self.maven_repos.clone(),
            keys: self.keys.clone(),
            maven_lock_dir: self.maven_lock_dir.clone(),
            no_verify_signature: self.no_verify_signature,
            kafka_port: self.kafka_port,
            zookeeper_port: self.zookeeper_port,
            controller_port: self.controller_port,
            templates: self.templates.clone(),
            java_home: self.java_home.clone(),
            image: self.image.clone(),
            ..Overrides::default()
        }
    }
}

const WAIT_HELP: &str = formatcp!(
    "Seconds to wait for the services to become ready [default: {}]",
    d::READY_TIMEOUT_SECS
);
const WAIT_AS_SETUP_HELP: &str = "Seconds to wait for readiness [default: as long as setup waited]";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch, verify, configure, start and self-test ZooKeeper + Kafka (idempotent).
    Setup {
        #[command(flatten)]
        install: InstallArgs,
        /// Do not run the produce/consume self-test at the end.
        #[arg(long)]
        no_selftest: bool,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_name = "SECS", help = WAIT_HELP)]
        wait: Option<u64>,
        /// Where no Java is found and apt is at hand: install openjdk-17-jre-headless with
        /// apt-get (without this flag kafkup asks on a terminal, and otherwise stops).
        #[arg(long)]
        install_java: bool,
        /// Start the JVMs without class-data archives (by default the first start records the
        /// classes it loads into the cache and later starts map them: ~40 % faster).
        #[arg(long)]
        no_class_archive: bool,
    },
    /// Download, verify and unpack the distributions; prints their paths. Starts nothing.
    Fetch {
        #[command(flatten)]
        install: InstallArgs,
    },
    /// Write every config file and unit that setup would install into DIR; installs nothing.
    Render {
        #[command(flatten)]
        install: InstallArgs,
        /// Output directory (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Start the services (all, or one).
    Start {
        service: Option<String>,
        #[arg(long, value_name = "SECS", help = WAIT_AS_SETUP_HELP)]
        wait: Option<u64>,
    },
    /// Stop the services gracefully, then kill after a timeout.
    Stop { service: Option<String> },
    /// Stop, then start.
    Restart {
        service: Option<String>,
        #[arg(long, value_name = "SECS", help = WAIT_AS_SETUP_HELP)]
        wait: Option<u64>,
    },
    /// Each service: runner, pid, ports and probe results.
    Status,
    /// Run the readiness probes once, or until ready.
    Probe {
        #[arg(long, value_name = "SECS", help = formatcp!(
            "Keep probing up to this many seconds [default: one look of {} s]", d::PROBE_ONCE_SECS))]
        wait: Option<u64>,
    },
    /// Produce/consume round trip on a temporary topic; prints latency.
    Selftest {
        #[command(flatten)]
        client: ClientArgs,
        /// Messages to send.
        #[arg(long, default_value_t = d::SELFTEST_MESSAGES)]
        messages: u32,
    },
    /// Show a service's log.
    Logs {
        /// zookeeper or kafka.
        service: String,
        /// Keep printing new lines.
        #[arg(short, long)]
        follow: bool,
        /// Lines from the end.
        #[arg(short = 'n', long, default_value_t = d::LOG_LINES)]
        lines: usize,
    },
    /// Create, list, describe or delete topics.
    Topic {
        #[command(subcommand)]
        action: TopicAction,
    },
    /// Send messages: each stdin line one, or --value (acks=all, idempotent).
    ///
    /// Exits once every message is acknowledged, non-zero with the broker's error otherwise.
    /// A topic that does not exist yet is created by the broker, if it creates topics on
    /// first use (kafkup's does).
    Produce {
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        topic: TopicArg,
        /// Send this one message instead of reading stdin.
        #[arg(long, value_name = "TEXT")]
        value: Option<String>,
        /// Key of every message (not with --chunk-size: segments are keyed by message id).
        #[arg(long, conflicts_with = "chunk_size")]
        key: Option<String>,
        /// A header on every message (repeatable).
        #[arg(long = "header", value_name = "NAME=VALUE", value_parser = outgoing::parse_header)]
        headers: Vec<(String, String)>,
        /// How each line is sent (json: as a JSON string).
        #[arg(long, value_enum, default_value_t = ValueFormat::Raw)]
        value_format: ValueFormat,
        #[command(flatten)]
        chunk: ChunkArg,
        #[arg(long, value_name = "SECS", default_value_t = d::DELIVERY_TIMEOUT_SECS,
            help = DELIVERY_TIMEOUT_HELP)]
        delivery_timeout: u64,
    },
    /// Print the messages of a topic, one a line (--json: one object a line).
    ///
    /// Starts at the end unless --from-beginning. Without --group nothing is committed; with
    /// one, offsets are committed once the messages are written. Ctrl-C or SIGTERM stop
    /// cleanly.
    Consume {
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        topic: TopicArg,
        /// Start at the earliest offset (the guide's auto.offset.reset=earliest); with
        /// --group, only where the group has no committed offset.
        #[arg(long)]
        from_beginning: bool,
        /// Consumer group: continue where it left off, and commit.
        #[arg(long, value_name = "GROUP")]
        group: Option<String>,
        /// Stop after N messages.
        #[arg(long, value_name = "N")]
        max_messages: Option<u64>,
        /// Stop after this many seconds without a message.
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
        /// Print segmented messages (produce/serve --chunk-size) whole, once all their
        /// segments arrived; plain messages pass through.
        #[arg(long)]
        reassemble: bool,
    },
    /// HTTP producer API, as the guide's Flask app: POST /send_message {"message": ...}.
    ///
    /// Answers 200 once the broker acknowledged the message; 400 for a missing or empty
    /// message or bad JSON, 413 over --max-body, 415 for a body that is not JSON, 500 with
    /// the broker's error, 503 when the broker did not answer within --delivery-timeout.
    /// GET /healthz reports whether the broker answers. SIGTERM finishes requests in flight.
    Serve {
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        topic: TopicArg,
        #[arg(long, value_name = "ADDR", default_value = d::SERVE_BIND,
            help = "Address to listen on (loopback by default, never debug mode)")]
        bind: String,
        /// How the message is sent (raw: a string as it is, other JSON values still as JSON).
        #[arg(long, value_enum, default_value_t = ValueFormat::Json)]
        value_format: ValueFormat,
        #[command(flatten)]
        chunk: ChunkArg,
        #[arg(long, value_name = "BYTES", default_value_t = d::SERVE_MAX_BODY,
            help = "Largest request body, in bytes (larger: 413)")]
        max_body: usize,
        #[arg(long, value_name = "SECS", default_value_t = d::DELIVERY_TIMEOUT_SECS,
            help = DELIVERY_TIMEOUT_HELP)]
        delivery_timeout: u64,
    },
    /// Stop and remove what kafkup created; data stays unless --purge.
    Teardown {
        /// Also delete ZooKeeper and Kafka data and kafkup's state (both together).
        #[arg(long)]
        purge: bool,
    },
}

const DELIVERY_TIMEOUT_HELP: &str =
    "Seconds the broker has to acknowledge a message before it counts as failed";

/// The topic, as `kafkup topic create` takes it: positional, or `--topic`.
#[derive(Debug, Args, Clone)]
#[group(required = true, multiple = false)]
pub struct TopicArg {
    /// The topic.
    #[arg(value_name = "TOPIC")]
    topic_name: Option<String>,
    /// The topic (instead of the positional TOPIC).
    #[arg(long = "topic", value_name = "TOPIC")]
    topic_flag: Option<String>,
}

impl TopicArg {
    pub fn name(&self) -> &str {
        self.topic_name
            .as_deref()
            .or(self.topic_flag.as_deref())
            .expect("clap requires one of them")
    }
}

#[derive(Debug, Args, Clone)]
pub struct ChunkArg {
    /// Send each message as segments of at most N bytes, cut on UTF-8 character boundaries
    /// (`consume --reassemble` glues them back, byte for byte).
    #[arg(long, value_name = "N",
        value_parser = clap::value_parser!(u32).range(segment::MIN_CHUNK_SIZE as i64..))]
    pub chunk_size: Option<u32>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ClientArgs {
    /// Talk to this broker instead of the environment under --root.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TopicAction {
    Create {
        #[command(flatten)]
        client: ClientArgs,
        name: String,
        #[arg(long, default_value_t = 1)]
        partitions: i32,
        #[arg(long, default_value_t = 1)]
        replication_factor: i32,
    },
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    Describe {
        #[command(flatten)]
        client: ClientArgs,
        name: String,
    },
    Delete {
        #[command(flatten)]
        client: ClientArgs,
        name: String,
    },
}

impl Command {
    /// The command's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Setup { .. } => "setup",
            Command::Fetch { .. } => "fetch",
            Command::Render { .. } => "render",
            Command::Start { .. } => "start",
            Command::Stop { .. } => "stop",
            Command::Restart { .. } => "restart",
            Command::Status => "status",
            Command::Probe { .. } => "probe",
            Command::Selftest { .. } => "selftest",
            Command::Logs { .. } => "logs",
            Command::Topic { .. } => "topic",
            Command::Produce { .. } => "produce",
            Command::Consume { .. } => "consume",
            Command::Serve { .. } => "serve",
            Command::Teardown { .. } => "teardown",
        }
    }
}

impl TopicAction {
    pub fn client(&self) -> &ClientArgs {
        match self {
            TopicAction::Create { client, .. }
            | TopicAction::List { client }
            | TopicAction::Describe { client, .. }
            | TopicAction::Delete { client, .. } => client,
        }
    }
}
