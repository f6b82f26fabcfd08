//! `kafkup doctor` on a real environment: healthy is all ok (exit 0); then each trap is
//! planted for real, one at a time, and doctor names it (exit 1) — and it is gone again once
//! the trap is.

use crate::env::TestEnv;
use std::path::Path;

/// doctor's exit code and what it printed (the text report).
fn doctor(env: &TestEnv, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["doctor"];
    args.extend_from_slice(extra);
    let out = env.run(&args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap(), text)
}

/// The report's line of the check `name`, which must have `verdict`.
fn line_of(report: &str, verdict: &str, name: &str) -> String {
    let prefix = format!("{verdict:<8} {name}");
    report
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` in:\n{report}"))
        .to_string()
}

fn assert_healthy(env: &TestEnv) {
    let (code, report) = doctor(env, &[]);
    assert_eq!(code, 0, "{report}");
    assert!(!report.contains("\nproblem "), "{report}");
}

/// Replaces `from` by `to` in a file (a config edited by hand).
fn edit(path: &Path, from: &str, to: &str) -> String {
    let was = std::fs::read_to_string(path).unwrap();
    assert!(was.contains(from), "{} has no {from}", path.display());
    std::fs::write(path, was.replace(from, to)).unwrap();
    was
}

#[test]
fn a_healthy_environment_is_all_ok_and_each_planted_trap_is_named() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    assert_healthy(&env);
    let json = env.ok(&["--json", "doctor"]);
    let value: serde_json::Value = serde_json::from_str(&json).expect("doctor --json is JSON");
    let names: Vec<&str> = value["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in [
        "java",
        "node zookeeper",
        "node kafka",
        "cluster id",
        "controller",
        "partitions",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }

    // The four-letter words the probes need, edited out of zoo.cfg.
    let zoo_cfg = env.root().join("config/zookeeper/zoo.cfg");
    let was = edit(
        &zoo_cfg,
        "4lw.commands.whitelist=srvr,",
        "4lw.commands.whitelist=",
    );
    let (code, report) = doctor(&env, &[]);
    assert_eq!(code, 1);
    assert!(line_of(&report, "problem", "four-letter words of zookeeper").contains("lacks srvr"));
    std::fs::write(&zoo_cfg, was).unwrap();

    // A disk under the threshold.
    let (code, report) = doctor(&env, &["--min-free-mib", "100000000"]);
    assert_eq!(code, 1);
    line_of(&report, "problem", "disk of data kafka");

    // A node killed.
    env.ok(&["kill", "kafka"]);
    let (code, report) = doctor(&env, &[]);
    assert_eq!(code, 1);
    line_of(&report, "problem", "node kafka");

    // Its port taken by another process before it starts.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", env.kafka_port)).unwrap();
    let (_, report) = doctor(&env, &[]);
    let port = format!("port {} of kafka", env.kafka_port);
    assert!(line_of(&report, "problem", &port).contains(&format!("pid {}", std::process::id())));
    drop(squatter);

    // A data directory of another cluster (a half-wiped and reused one).
    let meta = env.root().join("data/kafka/meta.properties");
    let was = edit(&meta, "cluster.id=", "cluster.id=AnotherClusterXXXXXXXX");
    let (_, report) = doctor(&env, &[]);
    line_of(&report, "problem", "cluster id");
    std::fs::write(&meta, was).unwrap();
    env.ok(&["start", "kafka"]);
    assert_healthy(&env);
}

/// advertised.listeners edited to a name this host cannot resolve, then to a port nothing
/// listens on: the broker runs and answers, but clients are sent nowhere. KRaft: the broker
/// gets its metadata from the quorum and lists itself as advertised (in ZooKeeper mode the
/// controller cannot reach it there, and it lists no broker at all — doctor says that too).
#[test]
fn advertised_listeners_clients_cannot_dial_are_named() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let properties = env.root().join("config/kafka/server.properties");
    let right = format!(
        "advertised.listeners=PLAINTEXT://127.0.0.1:{}",
        env.kafka_port
    );
    let nowhere = format!(
        "advertised.listeners=PLAINTEXT://kafka-nowhere:{}",
        env.kafka_port
    );
    let was = edit(&properties, &right, &nowhere);
    env.run(&["restart", "kafka", "--wait", "15"]);
    let (code, report) = doctor(&env, &[]);
    assert_eq!(code, 1);
    let line = line_of(&report, "problem", "listener of broker 1 at kafka-nowhere");
    assert!(line.contains("does not resolve"), "{line}");
    let (code, report) = doctor(&env, &["--bootstrap-server", &env.bootstrap()]);
    assert_eq!(code, 1);
    line_of(&report, "ok", &format!("bootstrap {}", env.bootstrap()));
    line_of(&report, "problem", "listener of broker 1 at kafka-nowhere");

    let unused = crate::env::free_port();
    let elsewhere = format!("advertised.listeners=PLAINTEXT://127.0.0.1:{unused}");
    std::fs::write(&properties, was.replace(&right, &elsewhere)).unwrap();
    env.run(&["restart", "kafka", "--wait", "15"]);
    let (_, report) = doctor(&env, &[]);
    let name = format!("listener of broker 1 at 127.0.0.1:{unused}");
    assert!(line_of(&report, "problem", &name).contains("connection refused"));
    std::fs::write(&properties, was).unwrap();
    env.ok(&["restart", "kafka"]);
    assert_healthy(&env);
}
