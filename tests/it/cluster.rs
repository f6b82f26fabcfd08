//! Clusters (issue 19): several brokers, a controller quorum or a ZooKeeper ensemble, proven
//! with kcat through every broker's own address.

use crate::env::{
    kcat_consume_all, kcat_produce, kill_and_wait, lines, pid_of, wait_exit, TestEnv,
};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Three brokers, as `status` lists them (name, role).
pub const THREE_BROKERS: [(&str, &str); 3] = [
    ("kafka-1", "kafka"),
    ("kafka-2", "kafka"),
    ("kafka-3", "kafka"),
];

/// A ZooKeeper ensemble and three brokers, as `status` lists them.
pub const ENSEMBLE_AND_THREE_BROKERS: [(&str, &str); 6] = [
    ("zookeeper-1", "zookeeper"),
    ("zookeeper-2", "zookeeper"),
    ("zookeeper-3", "zookeeper"),
    ("kafka-1", "kafka"),
    ("kafka-2", "kafka"),
    ("kafka-3", "kafka"),
];

/// Status lists every node ready, with its role, and one active controller.
pub fn assert_all_ready(env: &TestEnv, nodes: &[(&str, &str)]) -> Value {
    let (code, status) = env.status_json();
    assert_eq!(code, 0, "every node ready: {status}");
    let services = status["services"].as_array().unwrap();
    let listed: Vec<(&str, &str)> = services
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["role"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, nodes, "{status}");
    assert!(services.iter().all(|s| s["ready"] == true), "{status}");
    let active = services.iter().filter(|s| s["active_controller"] == true);
    assert_eq!(active.count(), 1, "one active controller: {status}");
    status
}

/// A topic replicated on all 3 brokers takes messages through one broker and gives them back
/// through each of the others.
pub fn assert_replicated_through_every_broker(env: &TestEnv) {
    let brokers = env.brokers(3);
    env.ok(&[
        "topic",
        "create",
        "replicated",
        "--partitions",
        "3",
        "--replication-factor",
        "3",
    ]);
    let sent = lines("replicated", 30);
    kcat_produce(&brokers[0], "replicated", &sent);
    for broker in &brokers {
        let mut got = kcat_consume_all(broker, "replicated");
        got.sort();
        let mut want = sent.clone();
        want.sort();
        assert_eq!(got, want, "read back through {broker}");
    }
}

#[test]
fn three_combined_kraft_nodes_on_processes() {
    let env = TestEnv::cluster();
    let out = env.setup("kraft", &["--brokers", "3"]);
    assert!(
        out.contains(&env.brokers(3).join(",")),
        "bootstrap list printed: {out}"
    );
    let nodes = THREE_BROKERS;
    let status = assert_all_ready(&env, &nodes);
    assert_eq!(status["bootstrap_server"], env.brokers(3).join(","));
    assert_replicated_through_every_broker(&env);
    env.ok(&["teardown", "--purge"]);
}

#[test]
fn three_brokers_on_a_zookeeper_ensemble_on_processes() {
    let _ensemble = crate::env::one_ensemble_at_a_time();
    let env = TestEnv::cluster();
    env.setup("zookeeper", &["--brokers", "3", "--zookeepers", "3"]);
    let nodes = ENSEMBLE_AND_THREE_BROKERS;
    assert_all_ready(&env, &nodes);
    assert_replicated_through_every_broker(&env);
    env.ok(&["teardown", "--purge"]);
}

#[test]
fn three_brokers_beside_three_dedicated_controllers() {
    let env = TestEnv::cluster();
    env.setup("kraft", &["--brokers", "3", "--controllers", "3"]);
    let nodes = [
        ("controller-1", "controller"),
        ("controller-2", "controller"),
        ("controller-3", "controller"),
        ("kafka-1", "kafka"),
        ("kafka-2", "kafka"),
        ("kafka-3", "kafka"),
    ];
    let status = assert_all_ready(&env, &nodes);
    let active = status["controller"].as_str().unwrap();
    assert!(active.starts_with("controller-"), "{status}");
    assert_replicated_through_every_broker(&env);
    env.ok(&["teardown", "--purge"]);
}

/// Each partition's in-sync replicas, as kcat (an independent client) reads the metadata.
fn isr_sizes(bootstrap: &str, topic: &str) -> Vec<usize> {
    let out = std::process::Command::new("timeout")
        .args(["30", "kcat", "-b", bootstrap, "-L", "-t", topic])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| {
            l.split_once("isrs: ")
                .map(|(_, isr)| isr.split(',').count())
        })
        .collect()
}

/// Waits (at most 90 s) until `ok` holds for `status --json`.
fn until_status(env: &TestEnv, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (_, status) = env.status_json();
        if ok(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "{what}: {status}");
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// `kafkup produce` (acks=all, idempotent) on every broker's address, a line every 20 ms;
/// `during` runs after 2 s of lines, then 3 s more follow. Returns the lines sent once the
/// producer said every one was acknowledged.
fn produce_through(env: &TestEnv, topic: &str, during: impl FnOnce()) -> Vec<String> {
    use std::io::Write;
    let brokers = env.brokers(3).join(",");
    let args = ["produce", topic, "--bootstrap-server", &brokers];
    let mut producer = env.command(&args);
    producer.args(["--delivery-timeout", "120", "-q"]);
    let mut producer = producer
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = producer.stdin.take().unwrap();
    let mut sent = Vec::new();
    let mut send_for = |secs: u64, sent: &mut Vec<String>| {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until {
            let line = format!("во время сбоя {}", sent.len());
            writeln!(stdin, "{line}").unwrap();
            sent.push(line);
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    send_for(2, &mut sent);
    during();
    send_for(3, &mut sent);
    drop(stdin);
    let status = wait_exit(&mut producer, Duration::from_secs(150));
    assert!(status.success(), "every line was acknowledged: {status}");
    sent
}

/// With min.insync.replicas 2 of 3, a SIGKILLed broker costs no acknowledged line; started
/// again, it rejoins every ISR. Then the active controller dies and another is elected.
#[test]
fn a_killed_broker_loses_nothing_and_a_killed_controller_is_replaced() {
    let env = TestEnv::cluster();
    env.setup("kraft", &["--brokers", "3"]);
    let (bootstrap, topic) = (env.brokers(3)[0].clone(), "during-kill");
    env.ok(&[
        "topic",
        "create",
        topic,
        "--partitions",
        "3",
        "--replication-factor",
        "3",
    ]);
    let victim = pid_of(&env, "kafka-2");
    let mut sent = produce_through(&env, topic, || kill_and_wait(victim, env.kafka_port + 1));
    env.ok(&["start", "kafka-2"]);
    let mut got = kcat_consume_all(&bootstrap, topic);
    got.sort();
    sent.sort();
    assert_eq!(got, sent, "every acknowledged line, once");
    let deadline = Instant::now() + Duration::from_secs(90);
    while isr_sizes(&bootstrap, topic) != [3, 3, 3] {
        assert!(Instant::now() < deadline, "kafka-2 did not rejoin the ISRs");
        std::thread::sleep(Duration::from_secs(1));
    }

    let (_, status) = env.status_json();
    let leader = status["controller"]
        .as_str()
        .expect("a controller")
        .to_string();
    let index: u16 = leader.trim_start_matches("kafka-").parse().unwrap();
    kill_and_wait(pid_of(&env, &leader), env.kafka_port + index - 1);
    let status = until_status(&env, "another controller elected", |s| {
        s["controller"].as_str().is_some_and(|c| c != leader)
    });
    let new = status["controller"].as_str().unwrap();
    let said = String::from_utf8(env.run(&["status"]).stdout).unwrap();
    let line = said.lines().skip_while(|l| !l.starts_with(new)).nth(2);
    assert!(
        line.is_some_and(|l| l.contains("active controller")),
        "{new}: {said}"
    );
    env.ok(&["start", &leader]);
    until_status(&env, "all ready again", |s| s["all_ready"] == true);
    env.ok(&["teardown", "--purge"]);
}

/// One broker grown to three keeps its messages (its partitions stay on kafka-1); fewer
/// brokers are refused, and nothing changes.
#[test]
fn one_broker_grows_to_three_with_its_data_and_shrinking_is_refused() {
    let env = TestEnv::cluster();
    env.setup("kraft", &[]);
    let sent = lines("before-growing", 50);
    kcat_produce(&env.bootstrap(), "demo", &sent);
    let plan = env.ok(&["setup", "--brokers", "3", "--dry-run"]);
    assert!(plan.contains("change    brokers 1 → 3"), "{plan}");
    assert!(plan.contains("rename    kafka to kafka-1"), "{plan}");
    let out = env.run(&["setup", "--brokers", "3"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("kafka-reassign-partitions"), "{said}");
    assert!(!env.root().join("data/kafka").exists(), "the data moved");
    assert_all_ready(&env, &THREE_BROKERS);
    for broker in env.brokers(3) {
        assert_eq!(kcat_consume_all(&broker, "demo"), sent, "through {broker}");
    }

    let out = env.run(&["setup", "--brokers", "1"]);
    assert_eq!(out.status.code(), Some(2), "a smaller cluster is refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has 3 kafka node(s)"), "{err}");
    assert!(err.contains("kafka-reassign-partitions"), "{err}");
    assert_all_ready(&env, &THREE_BROKERS);
    env.ok(&["teardown", "--purge"]);
}
