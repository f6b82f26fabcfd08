//! Failures on purpose (`kill`, `pause`, `resume`, `stop`/`start` of one node), through the
//! real binary on real JVMs with the process runner: what `status` says of each, that the
//! node comes back, and that `setup` and `teardown` deal with a paused node.

use crate::env::{kcat_consume_all, kcat_produce, lines, pid_alive, pid_of, TestEnv};
use std::time::{Duration, Instant};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `node`'s entry in `status --json`, with status's exit code.
pub fn node_status(env: &TestEnv, node: &str) -> (i32, serde_json::Value) {
    let (code, status) = env.status_json();
    let entry = status["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == node)
        .unwrap_or_else(|| panic!("{node} in {status:#}"))
        .clone();
    (code, entry)
}

/// Whether a kcat metadata request answers within a few seconds.
pub fn metadata_answers(bootstrap: &str) -> bool {
    std::process::Command::new("timeout")
        .args(["15", "kcat", "-b", bootstrap, "-L", "-m", "4"])
        .output()
        .unwrap()
        .status
        .success()
}

/// Metadata answers again within `limit` (a continued broker's clients reconnect first).
pub fn answers_within(bootstrap: &str, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if metadata_answers(bootstrap) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

/// A crash on purpose: status calls the node failed, `start kafka` brings it back, and every
/// acknowledged message is there.
#[test]
fn a_killed_broker_reads_as_failed_and_start_brings_it_back() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let sent = lines("before-kill", 50);
    kcat_produce(&env.bootstrap(), "nodes", &sent);
    let pid = pid_of(&env, "kafka");
    let said = env.ok(&["kill", "kafka"]);
    assert!(said.contains("killed kafka"), "{said}");
    assert!(!pid_alive(pid), "the JVM is gone at once");
    let log = std::fs::read_to_string(env.root().join("state/logs/kafka.log")).unwrap();
    assert!(
        !log.contains("Terminating process due to signal"),
        "a crash, not a clean stop"
    );
    let (code, kafka) = node_status(&env, "kafka");
    assert_eq!(code, 4, "not ready");
    assert_eq!(kafka["state"]["state"], "failed", "{kafka:#}");
    assert_eq!(kafka["ready"], false);
    let said = env.ok(&["kill", "kafka"]);
    assert!(said.contains("nothing to kill"), "a second kill: {said}");

    env.ok(&["start", "kafka"]);
    assert_ne!(pid_of(&env, "kafka"), pid, "a new process");
    let more = lines("after-kill", 50);
    kcat_produce(&env.bootstrap(), "nodes", &more);
    let all: Vec<String> = sent.into_iter().chain(more).collect();
    assert_eq!(kcat_consume_all(&env.bootstrap(), "nodes"), all);
    assert_eq!(env.status_json().0, 0, "ready again");
}

/// A hung node on purpose: status calls it paused, clients get no answer, `resume` continues
/// the same process; `setup` continues a paused node instead of calling its ports busy.
#[test]
fn a_paused_broker_answers_nothing_until_resumed_or_set_up_again() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let bootstrap = env.bootstrap();
    assert!(metadata_answers(&bootstrap));
    let pid = pid_of(&env, "kafka");
    env.ok(&["pause", "kafka"]);
    let (code, kafka) = node_status(&env, "kafka");
    assert_eq!(code, 4, "not ready");
    assert_eq!(kafka["state"]["state"], "paused", "{kafka:#}");
    assert_eq!(kafka["state"]["pid"], pid, "{kafka:#}");
    let out = env.run(&["status"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("kafkup resume kafka"), "{said}");
    assert!(
        !metadata_answers(&bootstrap),
        "a paused broker answers nothing"
    );

    env.ok(&["resume", "kafka"]);
    assert!(answers_within(&bootstrap, Duration::from_secs(30)));
    assert_eq!(pid_of(&env, "kafka"), pid, "the same process goes on");

    env.ok(&["pause", "kafka"]);
    let dry = env.ok(&[
        "setup",
        "--mode",
        "kraft",
        "--backend",
        "process",
        "--dry-run",
    ]);
    assert!(dry.contains("resume    kafka (paused)"), "{dry}");
    env.setup("kraft", &["--no-selftest"]);
    assert_eq!(
        pid_of(&env, "kafka"),
        pid,
        "setup continued it, not a new one"
    );
    assert!(metadata_answers(&bootstrap));
}

/// Teardown of paused nodes: each is continued, then stops cleanly (a frozen JVM would sit out
/// its grace period and be killed), and no process of the environment is left.
#[test]
fn teardown_stops_paused_nodes_cleanly() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    let kafka = pid_of(&env, "kafka");
    let zookeeper = pid_of(&env, "zookeeper");
    env.ok(&["pause", "kafka"]);
    env.ok(&["pause", "zookeeper"]);
    let (_, zk) = node_status(&env, "zookeeper");
    assert_eq!(zk["state"]["state"], "paused", "{zk:#}");
    let began = Instant::now();
    let out = env.run(&["teardown", "--purge"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = stderr_of(&out);
    assert!(!said.contains("killed"), "stopped, not killed: {said}");
    for node in ["kafka", "zookeeper"] {
        let stopped = said
            .lines()
            .any(|l| l.ends_with(&format!("{node} stopped")));
        assert!(stopped, "{node} stopped cleanly: {said}");
    }
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
    assert!(
        !pid_alive(kafka) && !pid_alive(zookeeper),
        "no process left"
    );
    assert!(!env.root().join("data/kafka").exists(), "purged");
}
