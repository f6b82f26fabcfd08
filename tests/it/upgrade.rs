//! `kafkup upgrade` on real Kafka releases (the fixtures' 3.9.1 → 3.9.2 in ZooKeeper mode,
//! 4.3.2 → 4.4.0 in KRaft): one node at a time under a running producer, nothing acknowledged
//! lost, committed offsets kept, metadata.version raised only when asked, and the way back.

use crate::env::{kcat_consume_all, kcat_produce, lines, output_text, TestEnv};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Whether kcat had every line acknowledged (acks=all, idempotent): it exits 0 only then.
fn kcat_produce_acked(bootstrap: &str, topic: &str, lines: &[String]) -> bool {
    use std::io::Write;
    let child = std::process::Command::new("timeout")
        .args(["60", "kcat", "-b", bootstrap, "-P", "-t", topic])
        .args(["-X", "acks=all", "-X", "enable.idempotence=true"])
        .args(["-X", "message.timeout.ms=30000"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return false };
    let mut stdin = child.stdin.take().unwrap();
    let written = lines.iter().all(|l| writeln!(stdin, "{l}").is_ok());
    drop(stdin);
    written && child.wait().is_ok_and(|s| s.success())
}

/// A producer that sends batches until stopped; the lines of every acknowledged batch.
pub struct BackgroundProducer {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl BackgroundProducer {
    pub fn start(bootstrap: String, topic: &'static str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut acked = Vec::new();
            // Bounded: 600 batches at most, even if nobody stops it.
            for batch in 0..600 {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let sent = lines(&format!("during-{batch}"), 10);
                if kcat_produce_acked(&bootstrap, topic, &sent) {
                    acked.extend(sent);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            acked
        });
        BackgroundProducer { stop, thread }
    }

    pub fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// The next `n` messages group `g` reads from `topic` (committing them).
pub fn group_reads(env: &TestEnv, topic: &str, n: usize) -> Vec<String> {
    let n = n.to_string();
    let args = ["consume", topic, "--group", "g", "--from-beginning"];
    let args = [&args[..], &["--max-messages", &n, "--timeout", "30"]].concat();
    env.ok(&args).lines().map(str::to_string).collect()
}

pub fn assert_all_acked_are_there(env: &TestEnv, topic: &str, acked: &[String]) {
    let read: BTreeSet<String> = kcat_consume_all(&env.bootstrap(), topic)
        .into_iter()
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|l| !read.contains(*l)).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
}

#[test]
fn three_kraft_brokers_roll_to_4_4_under_a_producer_and_lose_nothing() {
    let env = TestEnv::cluster();
    let rf = ["--replication-factor", "3", "--min-insync-replicas", "2"];
    let args = [
        &[
            "--brokers",
            "3",
            "--kafka-version",
            "4.3.2",
            "--no-selftest",
        ][..],
        &rf,
    ]
    .concat();
    env.setup("kraft", &args);
    let first = lines("first", 20);
    kcat_produce(&env.bootstrap(), "orders", &first);
    assert_eq!(group_reads(&env, "orders", 5), first[..5]);

    let producer = BackgroundProducer::start(env.bootstrap(), "orders");
    std::thread::sleep(Duration::from_secs(2));
    let out = env.run(&["upgrade", "--kafka-version", "4.4.0", "--finalize"]);
    let acked = producer.finish();
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    for step in [
        "saved snapshot before-kafka-4.4.0",
        "every partition's replicas are in sync",
        "nothing lost:",
        "metadata.version raised from",
    ] {
        assert!(said.contains(step), "{step:?} in {said}");
    }
    // One node at a time: kafka-1 was ready again before kafka-2 stopped.
    let ready_1 = said.find("kafka-1 is ready").expect("kafka-1 ready");
    let stop_2 = said.rfind("kafka-2 stopped").expect("kafka-2 stopped");
    assert!(ready_1 < stop_2, "{said}");
    assert!(acked.len() >= 10, "the producer ran during the upgrade");

    assert_all_acked_are_there(&env, "orders", &[first.clone(), acked].concat());
    assert_eq!(
        group_reads(&env, "orders", 1),
        first[5..6],
        "committed offset kept"
    );
    assert!(env.root().join("install/kafka_2.13-4.4.0").is_dir());
    let older = env.run(&["setup", "--kafka-version", "4.3.2"]);
    assert_eq!(
        older.status.code(),
        Some(2),
        "4.3.2 cannot read 4.4's metadata now"
    );
    env.ok(&["teardown", "--purge"]);
}

#[test]
fn a_zookeeper_mode_patch_upgrade_keeps_the_data_and_the_snapshot_is_the_way_back() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--kafka-version", "3.9.1", "--no-selftest"]);
    let first = lines("first", 10);
    kcat_produce(&env.bootstrap(), "kept", &first);
    assert_eq!(group_reads(&env, "kept", 4), first[..4]);

    let plan = env.ok(&["upgrade", "--kafka-version", "3.9.2", "--dry-run"]);
    assert!(plan.contains("snapshot  before-kafka-3.9.2"), "{plan}");
    assert!(plan.contains("restart   kafka"), "{plan}");
    assert!(
        !env.root().join("install/kafka_2.13-3.9.2").exists(),
        "a dry run fetches nothing"
    );

    let out = env.run(&["upgrade", "--kafka-version", "3.9.2"]);
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    // kept, and kafkup's own kafkup-health.
    assert!(said.contains("nothing lost: 2 topic(s)"), "{said}");
    assert!(
        !said.contains("metadata.version"),
        "no features in ZooKeeper mode: {said}"
    );
    let again = env.run(&["upgrade", "--kafka-version", "3.9.2"]);
    let again_said = String::from_utf8_lossy(&again.stderr);
    assert!(again_said.contains("nothing to roll"), "{again_said}");

    let older = env.run(&["upgrade", "--kafka-version", "3.9.1"]);
    assert_eq!(older.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&older.stderr).contains("upgrade moves forward only"));

    // The way back: the snapshot of 3.9.1's data, then 3.9.1 itself.
    kcat_produce(&env.bootstrap(), "kept", &lines("after", 3));
    env.ok(&["snapshot", "restore", "before-kafka-3.9.2"]);
    env.ok(&["setup", "--kafka-version", "3.9.1", "--no-selftest"]);
    assert_eq!(kcat_consume_all(&env.bootstrap(), "kept"), first);
    assert_eq!(group_reads(&env, "kept", 1), first[4..5]);
}
