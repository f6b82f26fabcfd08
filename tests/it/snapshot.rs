//! Snapshots on real ZooKeeper and Kafka: what a snapshot holds comes back exactly — topics,
//! messages and a group's committed offsets — after the data changed; the services that ran
//! run again; a snapshot of another environment is refused.

use crate::env::{kcat_consume_all, kcat_produce, lines, TestEnv};

/// The next messages group `g` gets from `topic` (it commits what it read).
fn next_of_group(env: &TestEnv, topic: &str, n: usize) -> Vec<String> {
    let n = n.to_string();
    let args = [
        "consume",
        topic,
        "--group",
        "g",
        "--from-beginning",
        "--max-messages",
        &n,
        "--timeout",
        "20",
    ];
    env.ok(&args).lines().map(str::to_string).collect()
}

#[test]
fn a_restored_snapshot_brings_back_messages_and_committed_offsets() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    let first = lines("first", 10);
    kcat_produce(&env.bootstrap(), "kept", &first);
    assert_eq!(next_of_group(&env, "kept", 4), first[..4]);
    let said = env.ok(&["snapshot", "save", "before"]);
    assert!(said.contains("saved snapshot before"), "{said}");
    let (_, status) = env.status_json();
    assert_eq!(
        status["all_ready"], true,
        "the services run again after a save"
    );

    // The data changes: more messages, the group reads on, a topic goes.
    kcat_produce(&env.bootstrap(), "kept", &lines("later", 5));
    kcat_produce(&env.bootstrap(), "gone", &lines("gone", 3));
    assert_eq!(next_of_group(&env, "kept", 6), first[4..]);
    env.ok(&["topic", "delete", "gone"]);

    let said = env.ok(&["snapshot", "restore", "before"]);
    assert!(said.contains("restored snapshot before"), "{said}");
    assert_eq!(
        kcat_consume_all(&env.bootstrap(), "kept"),
        first,
        "exactly the messages then"
    );
    assert_eq!(
        next_of_group(&env, "kept", 6),
        first[4..],
        "the group's offset then"
    );
    let listed = env.ok(&["topic", "list"]);
    assert!(!listed.contains("gone"), "{listed}");

    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["--json", "snapshot", "list"])).unwrap();
    assert_eq!(json["snapshots"][0]["name"], "before");
    let out = env.run(&["snapshot", "save", "before"]);
    assert_eq!(out.status.code(), Some(1), "a name is taken once");

    // Another environment refuses it: another cluster.
    let other = TestEnv::new();
    other.setup("zookeeper", &["--no-selftest"]);
    let theirs = other.root().join("data/snapshots");
    std::fs::create_dir_all(&theirs).unwrap();
    let copied = std::process::Command::new("cp")
        .args(["-a"])
        .arg(env.root().join("data/snapshots/before"))
        .arg(&theirs)
        .status()
        .unwrap();
    assert!(copied.success());
    let out = other.run(&["snapshot", "restore", "before"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("of another cluster"));
    other.ok(&["teardown", "--purge"]);

    env.ok(&["snapshot", "delete", "before"]);
    assert!(env.ok(&["snapshot", "list"]).contains("no snapshots"));
    env.ok(&["snapshot", "save", "again"]);
    env.ok(&["teardown", "--purge"]);
    assert!(
        !env.root().join("data/snapshots").exists(),
        "--purge removes the snapshots"
    );
}
