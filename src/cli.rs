//! The command line. Doc comments are the help text.

use crate::defaults as d;
use crate::messaging::outgoing::{self, ValueFormat};
use crate::messaging::segment;
use crate::settings::Layer;
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

const WAIT_AS_SETUP_HELP: &str = "Seconds to wait for readiness [default: as long as setup waited]";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch, verify, configure, start and self-test ZooKeeper + Kafka (idempotent).
    Setup {
        #[command(flatten)]
        settings: Layer,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where no Java is found and apt is at hand: install openjdk-17-jre-headless with
        /// apt-get (without this flag kafkup asks on a terminal, and otherwise stops).
        #[arg(long)]
        install_java: bool,
    },
    /// Move the environment to another Kafka (or ZooKeeper) release with its data: the release
    /// fetched and verified before anything stops, a snapshot, then one node at a time
    /// (ZooKeeper, controllers, brokers), each ready again before the next, and proof that no
    /// topic, message or committed offset was lost. Setup's flags choose the release and its
    /// source (--kafka-version, --zookeeper-version, --source, --mirror, --dist, --maven-repo,
    /// --keys); other changes are setup's.
    Upgrade {
        #[command(flatten)]
        settings: Layer,
        /// Print the steps and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// KRaft: raise metadata.version to the new release's without asking (the older release
        /// cannot start on the data afterwards; the snapshot can bring it back). Alone, it
        /// raises it for a release already rolled out.
        #[arg(long, conflicts_with = "no_finalize")]
        finalize: bool,
        /// KRaft: leave metadata.version where it is, without asking.
        #[arg(long)]
        no_finalize: bool,
        /// Take no snapshot before the first node stops.
        #[arg(long)]
        no_snapshot: bool,
    },
    /// Move a ZooKeeper-mode environment on Kafka 3.9 to KRaft (KIP-866), keeping its data:
    /// dedicated controllers beside ZooKeeper, the brokers rolled into migration mode, the
    /// metadata copied, the brokers rolled into KRaft mode, then ZooKeeper retired (its data
    /// kept). A snapshot first; proof after each phase; run it again to resume.
    Migrate {
        /// The mode to move to.
        #[arg(long, value_enum, required_unless_present = "rollback")]
        to: Option<MigrateTo>,
        /// Back to ZooKeeper mode from any phase before the migration is finalized: the
        /// controllers and their data go, the brokers return to ZooKeeper mode.
        #[arg(long, conflicts_with_all = ["to", "controllers"])]
        rollback: bool,
        /// Dedicated KRaft controllers, 1 or 3 [default: 1]
        #[arg(long, value_name = "K", value_parser = clap::value_parser!(u8).range(1..=3))]
        controllers: Option<u8>,
        /// Print the phases and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Take no snapshot before the first phase.
        #[arg(long)]
        no_snapshot: bool,
    },
    /// Download, verify and unpack the distributions; prints their paths. Starts nothing.
    Fetch {
        #[command(flatten)]
        settings: Layer,
    },
    /// Write every config file and unit that setup would install into DIR; installs nothing.
    Render {
        #[command(flatten)]
        settings: Layer,
        /// Output directory (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Start the services (all, or one: zookeeper, kafka, kafka-2, …); a paused one continues.
    Start {
        service: Option<String>,
        #[arg(long, value_name = "SECS", help = WAIT_AS_SETUP_HELP)]
        wait: Option<u64>,
    },
    /// Stop the services (all, or one) gracefully, then kill after a timeout.
    Stop { service: Option<String> },
    /// Stop, then start.
    Restart {
        service: Option<String>,
        #[arg(long, value_name = "SECS", help = WAIT_AS_SETUP_HELP)]
        wait: Option<u64>,
    },
    /// Kill a node at once, as a crash would: SIGKILL (systemd: `systemctl kill -s KILL`, which
    /// restarts it; docker: the Engine's kill). `kafkup start NODE` brings it back.
    Kill {
        /// A node: zookeeper, kafka (kafka-2, controller-1, … where a role has several).
        node: String,
    },
    /// Freeze a node where it is, a hung node: its ports stay open and nothing answers (SIGSTOP
    /// of its processes; docker: the Engine's pause). `kafkup resume NODE` continues it.
    Pause {
        /// A node: zookeeper, kafka (kafka-2, controller-1, … where a role has several).
        node: String,
    },
    /// Continue a paused node (SIGCONT; docker: the Engine's unpause).
    Resume {
        /// A node: zookeeper, kafka (kafka-2, controller-1, … where a role has several).
        node: String,
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
    /// Print a ready client configuration of the environment's secured listener (the files
    /// are kept in its config directory's clients/USER/).
    ClientConfig {
        /// java: client.properties (Java clients, Kafka's tools); librdkafka: kcat -F, librdkafka
        /// and confluent-kafka; python: kafka-python and confluent-kafka settings.
        #[arg(long, value_enum, default_value = "java")]
        format: crate::security::clients::Format,
        /// developer (topics, groups, transactions) or admin (a super user).
        #[arg(long, default_value = crate::security::DEVELOPER,
            value_parser = clap::builder::PossibleValuesParser::new(crate::security::USERS))]
        user: String,
    },
    /// Save, restore, list or delete snapshots of the environment's data (taken and put back
    /// with the services stopped, and started again if they ran).
    Snapshot {
        #[command(subcommand)]
        action: SnapshotAction,
    },
    /// Write the environment (or the settings of a setup not run yet) as resources of the
    /// engine a team moves to when one machine is not enough.
    Export {
        #[command(subcommand)]
        target: ExportTarget,
    },
    /// Find and explain the traps of a local Kafka: the environment under --root, or any
    /// cluster through --bootstrap-server (exit 1 when a check finds a problem).
    Doctor {
        #[command(flatten)]
        client: ClientArgs,
        /// Free space (MiB) under which a data directory's disk is a problem.
        #[arg(long, value_name = "MIB", default_value_t = crate::doctor::MIN_FREE_MIB)]
        min_free_mib: u64,
    },
    /// Show the users of a secured environment: their passwords (scram) or certificates (mtls).
    Credentials,
    /// Show a service's log.
    Logs {
        /// A node: zookeeper or kafka (kafka-2, … where there are several).
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
    /// message or bad JSON, 405 for another method, 408 for a body that stalls, 413 over
    /// --max-body or over what the broker takes (--chunk-size sends it), 415 for a body that
    /// is not JSON, 500 with the broker's error, 503 when the broker did not answer within
    /// --delivery-timeout. Every error is JSON.
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
    /// librdkafka properties for that cluster (`security.protocol`, `ssl.*`, `sasl.*`; a
    /// `kafkup client-config --format librdkafka` file); its `bootstrap.servers` serves when
    /// --bootstrap-server is not given.
    #[arg(long, value_name = "FILE")]
    pub client_config: Option<std::path::PathBuf>,
}

/// Where `kafkup migrate` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MigrateTo {
    /// KRaft mode: the metadata in Kafka's own controllers, no ZooKeeper.
    Kraft,
}

#[derive(Debug, Subcommand)]
pub enum ExportTarget {
    /// Strimzi 1.2.0 resources (Kafka in KRaft mode, KafkaNodePools, a KafkaTopic per topic, a
    /// KafkaUser per user with its ACLs) for `kubectl apply -f`; what does not carry over is
    /// said on stderr and at the top of the YAML. No secret is written.
    Strimzi {
        #[command(flatten)]
        settings: Layer,
        /// A directory to write NAME.yaml into, or - for standard output.
        #[arg(long, value_name = "DIR|-", default_value = "-")]
        out: PathBuf,
        /// The Kafka resource's name (lowercase letters, digits, '-').
        #[arg(long, default_value = "kafkup")]
        name: String,
        /// The namespace every resource names (none: the one kubectl applies to).
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Each node's server.properties (and zoo.cfg) and the clients' properties, for plain
    /// machines and your own automation; every line that holds this machine's paths or a
    /// loopback address is marked `# CHANGE:`.
    Properties {
        #[command(flatten)]
        settings: Layer,
        /// The directory to write them into (node/… and clients/…).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SnapshotAction {
    /// Copy every node's data (and the manifest and config) into snapshots/NAME.
    Save {
        name: String,
    },
    /// Put every node's data back as snapshot NAME holds it (same cluster, nodes and mode; a
    /// Kafka release no newer than the one installed).
    Restore {
        name: String,
    },
    /// The snapshots, oldest first, with their size, cluster, mode and release.
    List,
    Delete {
        name: String,
    },
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
