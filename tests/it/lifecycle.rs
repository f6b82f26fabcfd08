//! End to end, real ZooKeeper and Kafka from the fixture tarballs, process runner:
//! setup → status → kcat interop → idempotent re-run → stop/start → teardown → reuse → purge.

use crate::env::{
    kcat_consume_all, kcat_produce, kill_and_wait, lines, pid_alive, pid_of, pids, port_open,
    TestEnv,
};

fn full_lifecycle(mode: &str) {
    let env = TestEnv::new();
    let out = env.setup(mode, &[]);
    assert!(
        out.contains(&env.bootstrap()),
        "setup names the bootstrap server: {out}"
    );
    env.assert_render_is_the_install("process", &["--mode", mode]);

    let (code, status) = env.status_json();
    assert_eq!(code, 0);
    assert_eq!(status["all_ready"], true, "{status:#}");
    let expected_services = if mode == "zookeeper" { 2 } else { 1 };
    assert_eq!(
        status["services"].as_array().unwrap().len(),
        expected_services
    );
    let cluster_id = status["cluster_id"]
        .as_str()
        .expect("cluster id known")
        .to_string();
    let first_pids = pids(&status);
    let log = env.ok(&["logs", "kafka", "-n", "5"]);
    assert_eq!(
        log.lines().count(),
        5,
        "logs -n 5 prints the last five lines: {log}"
    );

    // An independent client produces to and reads back from the broker kafkup set up.
    let sent = lines("first", 50);
    kcat_produce(&env.bootstrap(), "interop", &sent);
    assert_eq!(kcat_consume_all(&env.bootstrap(), "interop"), sent);

    // A second setup with the same settings restarts nothing, and its dry run says so first.
    let dry = env.setup(mode, &["--dry-run"]);
    assert!(dry.contains("\n  nothing to change\n"), "{dry}");
    assert!(!dry.contains("start "), "{dry}");
    env.setup(mode, &[]);
    let (_, status) = env.status_json();
    assert_eq!(
        pids(&status),
        first_pids,
        "second setup must not restart anything"
    );

    // stop/start keeps data.
    env.ok(&["stop"]);
    for (_, pid) in &first_pids {
        assert!(!pid_alive(*pid as u32), "pid {pid} still alive after stop");
    }
    assert!(!port_open(env.kafka_port));
    env.ok(&["start"]);
    assert_eq!(kcat_consume_all(&env.bootstrap(), "interop"), sent);

    // teardown keeps data; a later setup reuses it with the same cluster id.
    env.ok(&["teardown"]);
    assert!(!port_open(env.kafka_port));
    assert!(
        env.root().join("data/kafka").is_dir(),
        "teardown without --purge keeps data"
    );
    env.setup(mode, &["--no-selftest"]);
    let (_, status) = env.status_json();
    assert_eq!(
        status["cluster_id"].as_str(),
        Some(cluster_id.as_str()),
        "cluster id survives teardown"
    );
    assert_eq!(kcat_consume_all(&env.bootstrap(), "interop"), sent);

    // --purge leaves no process, no port, no file of kafkup's outside the cache.
    let (_, status) = env.status_json();
    let last_pids = pids(&status);
    env.ok(&["teardown", "--purge"]);
    for (_, pid) in &last_pids {
        assert!(!pid_alive(*pid as u32), "pid {pid} still alive after purge");
    }
    assert!(!port_open(env.kafka_port));
    if mode == "zookeeper" {
        assert!(!port_open(env.zookeeper_port));
    } else {
        assert!(!port_open(env.controller_port));
    }
    let left: Vec<String> = std::fs::read_dir(env.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec!["cache".to_string()],
        "only the cache remains after purge"
    );
}

#[test]
fn zookeeper_mode_full_lifecycle() {
    full_lifecycle("zookeeper");
}

#[test]
fn kraft_mode_full_lifecycle() {
    full_lifecycle("kraft");
}

#[test]
fn a_killed_broker_is_recovered_by_start_with_every_acknowledged_message() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let sent = lines("acked", 500);
    kcat_produce(&env.bootstrap(), "durable", &sent);
    // Gone means: no live process and its listener closed (its threads finish after the main one).
    kill_and_wait(pid_of(&env, "kafka"), env.kafka_port);
    let (code, status) = env.status_json();
    assert_ne!(code, 0, "status reports the dead broker");
    assert_eq!(status["services"][0]["ready"], false);
    env.ok(&["start"]);
    assert_eq!(kcat_consume_all(&env.bootstrap(), "durable"), sent);
}

#[test]
fn zookeeper_stopped_under_a_running_broker_is_reported() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    env.ok(&["stop", "zookeeper"]);
    let (code, status) = env.status_json();
    assert_eq!(code, 4, "not ready → exit 4");
    let services = status["services"].as_array().unwrap();
    let zk = services.iter().find(|s| s["name"] == "zookeeper").unwrap();
    let kafka = services.iter().find(|s| s["name"] == "kafka").unwrap();
    assert_eq!(zk["ready"], false);
    assert_eq!(zk["state"]["state"], "stopped");
    assert_eq!(kafka["ready"], false);
    let warnings = kafka["warnings"].to_string();
    assert!(
        warnings.contains("zookeeper"),
        "kafka's status names its missing ZooKeeper: {warnings}"
    );
    let human = env.run(&["status"]);
    assert!(String::from_utf8_lossy(&human.stdout)
        .contains("zookeeper, which it requires, is not ready"));
}

#[test]
fn a_busy_port_is_named_before_anything_starts() {
    let env = TestEnv::new();
    let _holder = std::net::TcpListener::bind(("127.0.0.1", env.kafka_port)).unwrap();
    let out = env.run(&["setup", "--mode", "kraft", "--backend", "process"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&env.kafka_port.to_string()), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "names the holder: {err}"
    );
    assert!(err.contains("help:"), "{err}");
    assert!(
        !env.root().join("state/run/kafka.pid").exists(),
        "nothing started"
    );
}

#[test]
fn missing_java_is_a_clear_error_and_nothing_starts() {
    let env = TestEnv::new();
    let out = env
        .kafkup(&["setup", "--mode", "kraft", "--backend", "process"])
        .env("PATH", "/nonexistent")
        .env_remove("JAVA_HOME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no Java runtime found"), "{err}");
    assert!(
        err.contains("apt-get install openjdk-17-jre-headless"),
        "{err}"
    );
    for made in [
        "state/manifest.json",
        "state/run",
        "data",
        "config",
        "install",
    ] {
        assert!(
            !env.root().join(made).exists(),
            "nothing was set up, but {made} exists"
        );
    }
    assert!(!port_open(env.kafka_port));
}

#[test]
fn changed_settings_restart_only_the_service_they_touch() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    let (_, status) = env.status_json();
    let before = pids(&status);

    let config = env.root().join("kafkup.toml");
    std::fs::write(&config, "kafka_heap = \"768m\"\n").unwrap();
    let dry = env.ok(&[
        "--config",
        config.to_str().unwrap(),
        "setup",
        "--mode",
        "zookeeper",
        "--backend",
        "process",
        "--no-selftest",
        "--dry-run",
    ]);
    assert!(
        dry.contains(
            "restart   kafka: its command line changed: -Xms1g -Xmx1g → -Xms768m -Xmx768m"
        ),
        "the dry run names the change: {dry}"
    );
    assert!(!dry.contains("zookeeper:"), "{dry}");
    assert_eq!(
        pids(&env.status_json().1),
        before,
        "a dry run changes nothing"
    );
    let out = env.run(&[
        "--config",
        config.to_str().unwrap(),
        "setup",
        "--mode",
        "zookeeper",
        "--backend",
        "process",
        "--no-selftest",
    ]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("kafka will be restarted"),
        "setup says what changes: {said}"
    );
    assert!(!said.contains("zookeeper will be restarted"), "{said}");

    let (code, status) = env.status_json();
    assert_eq!(code, 0);
    let after = pids(&status);
    let pid_of =
        |list: &[(String, u64)], name: &str| list.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(
        pid_of(&before, "zookeeper"),
        pid_of(&after, "zookeeper"),
        "ZooKeeper untouched"
    );
    assert_ne!(
        pid_of(&before, "kafka"),
        pid_of(&after, "kafka"),
        "Kafka restarted with the new heap"
    );
    let log = std::fs::read_to_string(env.root().join("state/run/kafka.pid")).unwrap();
    let pid = log.lines().next().unwrap();
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(cmdline.contains("-Xmx768m"), "the new heap is in effect");
}
