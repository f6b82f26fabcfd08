//! The command line. Doc comments are the help text.

use crate::catalog::Mode;
use crate::settings::{Backend, Overrides};
use clap::{Args, Parser, Subcommand};
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
    /// Kafka release [default: 3.9.2 in zookeeper mode, 4.4.0 in kraft mode].
    #[arg(long, env = "KAFKUP_KAFKA_VERSION", value_name = "VERSION")]
    pub kafka_version: Option<String>,
    /// ZooKeeper release [default: 3.9.5].
    #[arg(long, env = "KAFKUP_ZOOKEEPER_VERSION", value_name = "VERSION")]
    pub zookeeper_version: Option<String>,
    /// Base URL serving the tarballs, tried in order (repeatable; KAFKUP_MIRROR is comma-separated)
    /// [default: https://dlcdn.apache.org, https://archive.apache.org/dist].
    #[arg(
        long = "mirror",
        env = "KAFKUP_MIRROR",
        value_name = "URL",
        value_delimiter = ','
    )]
    pub mirrors: Vec<String>,
    /// Base URL serving .sha512, .asc and KEYS, never the mirror's copy (repeatable)
    /// [default: https://downloads.apache.org, https://archive.apache.org/dist].
    #[arg(
        long = "dist",
        env = "KAFKUP_DIST",
        value_name = "URL",
        value_delimiter = ','
    )]
    pub dists: Vec<String>,
    /// Skip the OpenPGP signature check (the SHA-512 check still runs).
    #[arg(long)]
    pub no_verify_signature: bool,
    /// Kafka broker port on 127.0.0.1 [default: 9092].
    #[arg(long, env = "KAFKUP_KAFKA_PORT", value_name = "PORT")]
    pub kafka_port: Option<u16>,
    /// ZooKeeper client port on 127.0.0.1 [default: 2181].
    #[arg(long, env = "KAFKUP_ZOOKEEPER_PORT", value_name = "PORT")]
    pub zookeeper_port: Option<u16>,
    /// KRaft controller port on 127.0.0.1 [default: 9093].
    #[arg(long, env = "KAFKUP_CONTROLLER_PORT", value_name = "PORT")]
    pub controller_port: Option<u16>,
    /// Directory whose templates override the built-in ones by file name.
    #[arg(long, env = "KAFKUP_TEMPLATES", value_name = "DIR")]
    pub templates: Option<PathBuf>,
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
            mirrors: self.mirrors.clone(),
            dists: self.dists.clone(),
            no_verify_signature: self.no_verify_signature,
            kafka_port: self.kafka_port,
            zookeeper_port: self.zookeeper_port,
            controller_port: self.controller_port,
            templates: self.templates.clone(),
            java_home: self.java_home.clone(),
            ..Overrides::default()
        }
    }
}

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
        /// Seconds to wait for the services to become ready [default: 120].
        #[arg(long, value_name = "SECS")]
        wait: Option<u64>,
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
    Start { service: Option<String> },
    /// Stop the services gracefully, then kill after a timeout.
    Stop { service: Option<String> },
    /// Stop, then start.
    Restart { service: Option<String> },
    /// Each service: runner, pid, ports and probe results.
    Status,
    /// Run the readiness probes once, or until ready.
    Probe {
        /// Keep probing up to this many seconds.
        #[arg(long, value_name = "SECS")]
        wait: Option<u64>,
    },
    /// Produce/consume round trip on a temporary topic; prints latency.
    Selftest {
        #[command(flatten)]
        client: ClientArgs,
        /// Messages to send.
        #[arg(long, default_value_t = 100)]
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
        #[arg(short = 'n', long, default_value_t = 100)]
        lines: usize,
    },
    /// Create, list, describe or delete topics.
    Topic {
        #[command(subcommand)]
        action: TopicAction,
    },
    /// Send stdin lines as messages.
    Produce {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        topic: String,
        /// Key for every message.
        #[arg(long)]
        key: Option<String>,
        /// Split each message into segments of at most N bytes (reassembled by `consume --reassemble`).
        #[arg(long, value_name = "N")]
        chunk_size: Option<usize>,
    },
    /// Print messages of a topic.
    Consume {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        topic: String,
        /// Start at the earliest offset.
        #[arg(long)]
        from_beginning: bool,
        /// Consumer group [default: a fresh one].
        #[arg(long)]
        group: Option<String>,
        /// Stop after N messages.
        #[arg(long, value_name = "N")]
        max_messages: Option<u64>,
        /// Glue segmented messages back together.
        #[arg(long)]
        reassemble: bool,
    },
    /// HTTP producer API: POST /send_message {"message": "..."}.
    Serve {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long, default_value = "127.0.0.1:5000")]
        bind: String,
        #[arg(long)]
        topic: String,
        #[arg(long, value_name = "N")]
        chunk_size: Option<usize>,
    },
    /// Stop and remove what kafkup created; data stays unless --purge.
    Teardown {
        /// Also delete ZooKeeper and Kafka data and kafkup's state (both together).
        #[arg(long)]
        purge: bool,
    },
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
