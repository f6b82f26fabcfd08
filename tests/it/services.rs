//! Probes, topic admin and the self-test against real JVMs: a KRaft broker and ZooKeeper,
//! started here from directories of jars on loopback ports, killed when the test ends.
//!
//! Needs `java` (JAVA_HOME or PATH) and directories of jars (the classpath is `DIR/*`):
//! - `KAFKUP_TEST_KAFKA_LIBS`: a Kafka distribution's `libs/` (4.x, or 3.9.x), run in KRaft mode;
//! - `KAFKUP_TEST_KAFKA39_LIBS`: a Kafka 3.9.x `libs/`, run in ZooKeeper mode with the
//!   ZooKeeper server those jars contain;
//! - `KAFKUP_TEST_ZOOKEEPER_LIBS`: a ZooKeeper distribution's `lib/`.
//!
//! A missing variable fails the test: nothing here is skipped silently.

use crate::env::free_port;
use kafkup::messaging::admin::{Admin, AdminError};
use kafkup::probe::{self, ProbeError, Timeouts, TopicAccess};
use kafkup::report::Silent;
use kafkup::runner::NotRunning;
use kafkup::spec::ProbeSpec;
use kafkup::vocab::NodeId;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

fn jars_from_env(var: &str) -> PathBuf {
    let dir = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{var} is not set: it must name a directory of jars (scripts/test.sh sets it)")
    });
    let has_jars = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{var}={}: {e}", dir.display()))
        .any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "jar")));
    assert!(has_jars, "{var}={} holds no jars", dir.display());
    dir
}

fn java() -> PathBuf {
    std::env::var_os("JAVA_HOME")
        .map(|home| PathBuf::from(home).join("bin/java"))
        .unwrap_or_else(|| PathBuf::from("java"))
}

/// A JVM we started; killed on drop.
struct Jvm {
    name: &'static str,
    child: Mutex<Child>,
    log: PathBuf,
    spawned: Instant,
    _dir: tempfile::TempDir,
}

impl Jvm {
    fn spawn(
        name: &'static str,
        dir: tempfile::TempDir,
        libs: &Path,
        main: &str,
        args: &[&Path],
    ) -> Self {
        let log = dir.path().join(format!("{name}.log"));
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(java())
            .args(["-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-cp"])
            .arg(format!("{}/*", libs.display()))
            .arg(main)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} for {name}: {e}", java().display()));
        Jvm {
            name,
            child: Mutex::new(child),
            log,
            spawned: Instant::now(),
            _dir: dir,
        }
    }

    /// What `wait_ready` asks before every poll.
    fn alive(&self) -> Result<(), NotRunning> {
        let how = match self.child.lock().unwrap().try_wait() {
            Ok(None) => return Ok(()),
            Ok(Some(status)) => format!("exited with {status}"),
            Err(e) => e.to_string(),
        };
        Err(NotRunning {
            service: self.node(),
            how,
            log_tail: self.log_tail().lines().map(String::from).collect(),
            log_name: self.log.display().to_string(),
        })
    }

    /// The node this JVM plays (named like kafkup's nodes).
    fn node(&self) -> NodeId {
        NodeId::parse(self.name).expect("test JVMs are named after a node role")
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn kill(&self) {
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Jvm {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Kafka {
    jvm: Jvm,
    bootstrap: String,
}

/// A combined broker+controller (node 1) on free loopback ports, storage formatted first.
fn start_kafka() -> Kafka {
    let libs = jars_from_env("KAFKUP_TEST_KAFKA_LIBS");
    let dir = tempfile::Builder::new()
        .prefix("kafkup-it-kafka-")
        .tempdir()
        .unwrap();
    let (port, controller) = (free_port(), free_port());
    let props = dir.path().join("server.properties");
    fs::write(
        &props,
        format!(
            "process.roles=broker,controller
node.id=1
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.quorum.voters=1@127.0.0.1:{controller}
log.dirs={}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=1
",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    // A Kafka Uuid: 16 random bytes, base64url without padding.
    let cluster_id = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
    };
    let format = Command::new(java())
        .args(["-Xmx256m", "-cp"])
        .arg(format!("{}/*", libs.display()))
        .args(["kafka.tools.StorageTool", "format", "-t", &cluster_id, "-c"])
        .arg(&props)
        .output()
        .unwrap();
    assert!(
        format.status.success(),
        "StorageTool format failed:\n{}{}",
        String::from_utf8_lossy(&format.stdout),
        String::from_utf8_lossy(&format.stderr)
    );
    Kafka {
        jvm: Jvm::spawn("kafka", dir, &libs, "kafka.Kafka", &[&props]),
        bootstrap: format!("127.0.0.1:{port}"),
    }
}

/// A ZooKeeper-mode broker (id 1) of Kafka 3.9 registering in the ZooKeeper at `zk_port`.
fn start_kafka_on_zookeeper(libs: &Path, zk_port: u16) -> Kafka {
    let dir = tempfile::Builder::new()
        .prefix("kafkup-it-kafka-zk-")
        .tempdir()
        .unwrap();
    let port = free_port();
    let props = dir.path().join("server.properties");
    fs::write(
        &props,
        format!(
            "broker.id=1
zookeeper.connect=127.0.0.1:{zk_port}
listeners=PLAINTEXT://127.0.0.1:{port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
log.dirs={}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    Kafka {
        jvm: Jvm::spawn("kafka", dir, libs, "kafka.Kafka", &[&props]),
        bootstrap: format!("127.0.0.1:{port}"),
    }
}

/// A ZooKeeper on a free loopback port; `extra` goes into zoo.cfg.
fn start_zookeeper(extra: &str) -> (Jvm, u16) {
    start_zookeeper_from(&jars_from_env("KAFKUP_TEST_ZOOKEEPER_LIBS"), extra)
}

fn start_zookeeper_from(libs: &Path, extra: &str) -> (Jvm, u16) {
    let dir = tempfile::Builder::new()
        .prefix("kafkup-it-zk-")
        .tempdir()
        .unwrap();
    let port = free_port();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("myid"), "1\n").unwrap();
    let cfg = dir.path().join("zoo.cfg");
    fs::write(
        &cfg,
        format!(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={port}\n\
             clientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
             4lw.commands.whitelist=srvr,ruok,mntr\n{extra}",
            data.display()
        ),
    )
    .unwrap();
    let jvm = Jvm::spawn(
        "zookeeper",
        dir,
        libs,
        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        &[&cfg],
    );
    (jvm, port)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_probe_admin_and_selftest() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let kafka = start_kafka();
    let bootstrap = kafka.bootstrap.clone();
    let spec = ProbeSpec::KafkaBrokerListed {
        bootstrap: bootstrap.clone(),
        node_id: 1,
    };

    // Readiness from process start: refused, then listed.
    let outcomes = probe::wait_ready(
        &[(kafka.jvm.node(), &spec)],
        TopicAccess::CreateIfMissing,
        Instant::now() + Duration::from_secs(90),
        Duration::from_millis(100),
        || async { kafka.jvm.alive() },
        &Silent,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}: {:?}\n{}", e.last_error, kafka.jvm.log_tail()));
    eprintln!(
        "kafka: process start -> broker_listed: {}",
        ms(kafka.jvm.spawned.elapsed())
    );
    let expected = format!("broker 1 listed at {bootstrap}");
    assert!(
        outcomes[0].description.starts_with(&expected),
        "{}",
        outcomes[0].description
    );
    let json = serde_json::to_value(&outcomes[0]).unwrap();
    assert_eq!(json["kind"], "kafka_broker");
    assert_eq!(json["address"], bootstrap);
    assert!(json["cluster_id"].is_string(), "{json}");

    // A node id the cluster does not have.
    let err = probe::broker_listed(&bootstrap, 7, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProbeError::BrokerNotListed { listed, .. } if listed == &[1]),
        "{err}"
    );

    // Topic administration.
    let admin = Admin::new(&bootstrap, Duration::from_secs(30)).unwrap();
    let err = probe::topic_ready(&bootstrap, "kafkup-it-absent", Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, ProbeError::TopicMissing { .. }), "{err}");

    admin.create_topic("kafkup-it-orders", 3, 1).await.unwrap();
    let err = admin
        .create_topic("kafkup-it-orders", 3, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::AlreadyExists { .. }), "{err}");
    let err = admin.create_topic("kafkup-it-rf3", 1, 3).await.unwrap_err();
    assert!(matches!(err, AdminError::Rejected { .. }), "{err}");

    let started = Instant::now();
    let description = loop {
        match probe::topic_ready(&bootstrap, "kafkup-it-orders", Duration::from_secs(5)).await {
            Ok(d) => break d,
            Err(e) if started.elapsed() < Duration::from_secs(30) => {
                eprintln!("waiting for leaders: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(description.partitions.len(), 3);
    for p in &description.partitions {
        assert_eq!(p.leader, Some(1));
        assert_eq!(p.replicas, [1]);
        assert_eq!(p.isr, [1]);
    }
    assert!(admin
        .list_topics()
        .await
        .unwrap()
        .contains(&"kafkup-it-orders".to_string()));

    admin.delete_topic("kafkup-it-orders").await.unwrap();
    let err = admin.delete_topic("kafkup-it-never").await.unwrap_err();
    assert!(matches!(err, AdminError::UnknownTopic { .. }), "{err}");

    // The self-test, twice: the second run must not see the first one's topic or group.
    for run in 1..=2 {
        let report = kafkup::selftest::run(&bootstrap, 100, Duration::from_secs(60), &Silent)
            .await
            .unwrap_or_else(|e| panic!("{e}: {:?}\n{}", e, kafka.jvm.log_tail()));
        eprintln!(
            "selftest run {run}: {}; topic ready {:.0} ms, total {:.0} ms\n{}",
            report.summary(),
            report.topic_ready_ms,
            report.total_ms,
            serde_json::to_string(&report).unwrap()
        );
        assert_eq!(report.messages, 100);
        assert!(report.topic_deleted);
    }

    // A dead broker fails the wait at once, with the reason.
    kafka.jvm.kill();
    let started = Instant::now();
    let err = probe::wait_ready(
        &[(kafka.jvm.node(), &spec)],
        TopicAccess::CreateIfMissing,
        Instant::now() + Duration::from_secs(60),
        Duration::from_millis(100),
        || async { kafka.jvm.alive() },
        &Silent,
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        err.died
            .as_ref()
            .unwrap()
            .to_string()
            .contains("kafka exited"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_four_letter_words() {
    let (zk, port) = start_zookeeper("");
    let spec = ProbeSpec::ZookeeperServing {
        host: "127.0.0.1".into(),
        port,
    };
    let outcomes = probe::wait_ready(
        &[(zk.node(), &spec)],
        TopicAccess::CreateIfMissing,
        Instant::now() + Duration::from_secs(60),
        Duration::from_millis(100),
        || async { zk.alive() },
        &Silent,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}: {:?}\n{}", e.last_error, zk.log_tail()));
    eprintln!(
        "zookeeper: process start -> srvr: {} ({})",
        ms(zk.spawned.elapsed()),
        outcomes[0].description
    );
    assert!(outcomes[0].description.contains(" standalone, "));

    let t = Timeouts::default();
    let info = probe::srvr("127.0.0.1", port, t).await.unwrap();
    assert_eq!(info.mode, probe::ZkMode::Standalone);
    probe::ruok("127.0.0.1", port, t).await.unwrap();
    let values = probe::mntr("127.0.0.1", port, t).await.unwrap();
    assert_eq!(values["zk_server_state"], "standalone");
    assert!(values.len() > 20, "{values:?}");
    let err = probe::four_letter_word("127.0.0.1", port, "stat", t)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProbeError::NotWhitelisted { word, .. } if word == "stat"),
        "{err}"
    );

    // One member of a two-server ensemble never gets a quorum: it answers, but does not serve.
    let peers = format!(
        "server.1=127.0.0.1:{}:{}\nserver.2=127.0.0.1:{}:{}\n",
        free_port(),
        free_port(),
        free_port(),
        free_port()
    );
    let (lonely, lonely_port) = start_zookeeper(&peers);
    let started = Instant::now();
    let err = loop {
        let err = probe::srvr(
            "127.0.0.1",
            lonely_port,
            Timeouts::within(Duration::from_secs(2)),
        )
        .await
        .unwrap_err();
        // Refused until it listens; a timeout while its JVM is still starting on a loaded machine.
        let starting = matches!(err, ProbeError::Refused { .. } | ProbeError::Timeout { .. });
        if !starting || started.elapsed() > Duration::from_secs(60) {
            break err;
        }
        assert!(lonely.alive().is_ok(), "{}", lonely.log_tail());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        matches!(err, ProbeError::NotServing { .. }),
        "{err}\n{}",
        lonely.log_tail()
    );
}

/// The default mode as setup runs it: ZooKeeper, then a broker on it, both probes in order
/// inside one deadline, then a short self-test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_mode_probes_in_order() {
    let libs = jars_from_env("KAFKUP_TEST_KAFKA39_LIBS");
    let (zk, zk_port) = start_zookeeper_from(&libs, "");
    // The broker starts at once and retries ZooKeeper itself, as under a runner.
    let kafka = start_kafka_on_zookeeper(&libs, zk_port);
    let probes = [
        ProbeSpec::ZookeeperServing {
            host: "127.0.0.1".into(),
            port: zk_port,
        },
        ProbeSpec::KafkaBrokerListed {
            bootstrap: kafka.bootstrap.clone(),
            node_id: 1,
        },
    ];
    let alive = || async { zk.alive().and_then(|()| kafka.jvm.alive()) };
    let outcomes = probe::wait_ready(
        &[(zk.node(), &probes[0]), (kafka.jvm.node(), &probes[1])],
        TopicAccess::CreateIfMissing,
        Instant::now() + Duration::from_secs(90),
        Duration::from_millis(100),
        alive,
        &Silent,
    )
    .await
    .unwrap_or_else(|e| {
        panic!(
            "{e}: {:?}\n{}\n{}",
            e.last_error,
            zk.log_tail(),
            kafka.jvm.log_tail()
        )
    });
    eprintln!(
        "zookeeper mode: processes start -> {} / {}: {}",
        outcomes[0].description,
        outcomes[1].description,
        ms(kafka.jvm.spawned.elapsed())
    );
    assert_eq!(outcomes.len(), 2);
    let report = kafkup::selftest::run(&kafka.bootstrap, 20, Duration::from_secs(60), &Silent)
        .await
        .unwrap_or_else(|e| panic!("{e}: {e:?}\n{}", kafka.jvm.log_tail()));
    eprintln!("zookeeper mode selftest: {}", report.summary());
    assert!(report.topic_deleted);
}
