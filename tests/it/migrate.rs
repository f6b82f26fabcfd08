//! `kafkup migrate --to kraft` on real Kafka 3.9 and ZooKeeper: the KIP-866 phases carried
//! out with the data, messages and committed offsets kept; a migration killed in its middle
//! rolled back to a working ZooKeeper-mode environment, or resumed; ZooKeeper retired with
//! its data kept; kcat and the guide's kafka-python consumer reading on; Kafka 4 afterwards.

use crate::env::{kcat_consume_all, kcat_produce, lines, output_text, port_open, TestEnv};
use crate::upgrade::group_reads;
use std::time::Duration;

/// The migration phase the environment records, if one is under way.
pub fn phase(env: &TestEnv) -> Option<String> {
    let text = std::fs::read_to_string(env.root().join("state/manifest.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    manifest["settings"]["migration"]
        .as_str()
        .map(str::to_string)
}

/// Starts `migrate --to kraft` and kills it (SIGKILL, as a crash would) once the
/// environment records `at`; bounded: fails the test if the phase never comes.
pub fn migrate_killed_at(env: &TestEnv, at: &str) {
    let mut child = env.command(&["migrate", "--to", "kraft"]).spawn().unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(240);
    while phase(env).as_deref() != Some(at) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "migrate ended before phase {at}"
        );
        assert!(std::time::Instant::now() < until, "phase {at} never came");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

fn roles(env: &TestEnv) -> Vec<String> {
    let (_, status) = env.status_json();
    let services = status["services"].as_array().unwrap().iter();
    services
        .map(|s| s["role"].as_str().unwrap().to_string())
        .collect()
}

/// The guide's kafka-python consumer reads `topic` as `expected` (sent as JSON values).
fn guide_reads(env: &TestEnv, topic: &str, expected: &[String]) {
    let stdin = expected.join("\n") + "\n";
    let args = ["produce", "--topic", topic, "--value-format", "json"];
    let out = env.kafkup(&args).write_stdin(stdin).output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    crate::messaging::guide_consumer_agrees(&env.bootstrap(), topic, "lines", expected);
}

#[test]
fn one_broker_rolls_back_from_the_middle_then_migrates_and_upgrades_to_kafka_4() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    let first = lines("first", 20);
    kcat_produce(&env.bootstrap(), "kept", &first);
    assert_eq!(group_reads(&env, "kept", 5), first[..5]);

    let plan = env.ok(&["migrate", "--to", "kraft", "--dry-run"]);
    for step in [
        "snapshot  before-kraft-migration",
        "phase     controllers",
        "phase     brokers",
        "phase     kraft",
        "finalize",
    ] {
        assert!(plan.contains(step), "{step:?} in {plan}");
    }
    assert_eq!(phase(&env), None, "a dry run changes nothing");

    // Killed with the broker in KRaft mode: the way back is still open.
    migrate_killed_at(&env, "kraft");
    let back = env.run(&["migrate", "--rollback"]);
    let said = output_text(&back);
    assert!(back.status.success(), "{said}");
    assert!(
        said.contains("deleted ZooKeeper's /migration and /controller"),
        "{said}"
    );
    assert!(said.contains("nothing lost"), "{said}");
    assert_eq!(phase(&env), None);
    assert_eq!(roles(&env), ["zookeeper", "kafka"]);
    assert!(
        !env.root().join("data/controller").exists(),
        "the migration's controller data went"
    );
    assert_eq!(kcat_consume_all(&env.bootstrap(), "kept"), first);
    assert_eq!(
        group_reads(&env, "kept", 1),
        first[5..6],
        "ZooKeeper mode reads on"
    );

    let zookeeper_port = env.zookeeper_port;
    let out = env.run(&["migrate", "--to", "kraft"]);
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("snapshot before-kraft-migration-2"),
        "a second snapshot: {said}"
    );
    assert!(said.contains("zookeeper stopped"), "{said}");
    let (code, status) = env.status_json();
    assert_eq!(
        (code, &status["mode"]),
        (0, &serde_json::json!("kraft")),
        "{status}"
    );
    assert_eq!(roles(&env), ["controller", "kafka"]);
    assert!(!port_open(zookeeper_port), "ZooKeeper is stopped");
    assert!(
        env.root().join("data/zookeeper/version-2").is_dir(),
        "ZooKeeper's data is kept"
    );
    assert_eq!(kcat_consume_all(&env.bootstrap(), "kept"), first);
    assert_eq!(
        group_reads(&env, "kept", 1),
        first[6..7],
        "the group's offset is kept"
    );
    guide_reads(&env, "guide", &lines("guide", 3));

    let again = env.run(&["migrate", "--to", "kraft"]);
    assert!(again.status.success());
    assert!(output_text(&again).contains("KRaft mode already"));
    let late = env.run(&["migrate", "--rollback"]);
    assert_eq!(
        late.status.code(),
        Some(2),
        "no way back after finalization"
    );
    assert!(output_text(&late).contains("finalized"));

    let out = env.run(&["upgrade", "--kafka-version", "4.4.0", "--no-finalize"]);
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("nothing lost"), "{said}");
    assert_eq!(kcat_consume_all(&env.bootstrap(), "kept"), first);
    assert_eq!(group_reads(&env, "kept", 1), first[7..8]);
    crate::messaging::guide_consumer_agrees(&env.bootstrap(), "guide", "lines", &lines("guide", 3));
}

/// Three brokers, replication 3, the whole way: a ZooKeeper-mode upgrade to a new minor
/// release under a producer (inter.broker.protocol.version held during the roll, then lifted;
/// nothing acknowledged lost), a migration killed in its middle and resumed, then Kafka 4.
#[test]
fn three_brokers_upgrade_under_a_producer_resume_a_killed_migration_and_reach_kafka_4() {
    use crate::upgrade::{assert_all_acked_are_there, BackgroundProducer};
    let _one = crate::env::one_ensemble_at_a_time();
    let env = TestEnv::cluster();
    let cluster = [
        "--brokers",
        "3",
        "--replication-factor",
        "3",
        "--min-insync-replicas",
        "2",
    ];
    let args = [&cluster[..], &["--kafka-version", "3.8.1", "--no-selftest"]].concat();
    env.setup("zookeeper", &args);
    let first = lines("first", 30);
    kcat_produce(&env.bootstrap(), "kept", &first);
    assert_eq!(group_reads(&env, "kept", 10), first[..10]);

    let producer = BackgroundProducer::start(env.bootstrap(), "kept");
    std::thread::sleep(Duration::from_secs(2));
    let upgrade = [
        "upgrade",
        "--kafka-version",
        "3.9.2",
        "--no-snapshot",
        "--finalize",
    ];
    let out = env.run(&upgrade);
    let acked = producer.finish();
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    for step in [
        "inter.broker.protocol.version held at 3.8",
        "every partition's replicas are in sync",
        "inter.broker.protocol.version 3.8 lifted",
    ] {
        assert!(said.contains(step), "{step:?} in {said}");
    }
    let props = env.root().join("config/kafka-2/server.properties");
    let props = std::fs::read_to_string(props).unwrap();
    assert!(!props.contains("inter.broker.protocol.version"), "{props}");
    assert!(acked.len() >= 10, "the producer ran during the upgrade");
    let all = [first.clone(), acked].concat();
    assert_all_acked_are_there(&env, "kept", &all);

    migrate_killed_at(&env, "brokers");
    let out = env.run(&["migrate", "--to", "kraft", "--no-snapshot"]);
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("migration phase: brokers"),
        "resumed where it stopped: {said}"
    );
    assert!(!said.contains("phase: KRaft controllers"), "{said}");
    assert_eq!(roles(&env), ["controller", "kafka", "kafka", "kafka"]);
    assert_all_acked_are_there(&env, "kept", &all);
    assert_eq!(group_reads(&env, "kept", 1), first[10..11]);
    let described = env.ok(&["topic", "describe", "kept", "--json"]);
    let topic: serde_json::Value = serde_json::from_str(&described).unwrap();
    let replicas = topic["partitions"][0]["replicas"].as_array().unwrap().len();
    assert_eq!(replicas, 3, "{topic}");

    let out = env.run(&[
        "upgrade",
        "--kafka-version",
        "4.4.0",
        "--no-snapshot",
        "--no-finalize",
    ]);
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("nothing lost"), "{said}");
    assert_all_acked_are_there(&env, "kept", &all);
    assert_eq!(group_reads(&env, "kept", 1), first[11..12]);
}
