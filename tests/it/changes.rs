//! Changing an environment that exists, through the real binary on real ZooKeeper and Kafka:
//! its recorded settings are the starting point, nothing stops before every port it needs is
//! free, data written in the other mode and JVMs nothing records are never hidden, and a
//! KRaft format cut off half-way is finished with the same cluster id.

use crate::env::{
    free_port, kcat_consume_all, kcat_produce, lines, pid_alive, pids, port_open, TestEnv,
};
use std::time::{Duration, Instant};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `kafkup ARGS` without the test's port variables: as a user who types only the flags.
fn plain(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let out = env
        .kafkup(args)
        .env_remove("KAFKUP_KAFKA_PORT")
        .env_remove("KAFKUP_ZOOKEEPER_PORT")
        .env_remove("KAFKUP_CONTROLLER_PORT")
        .output()
        .unwrap();
    crate::env::echo(args, out)
}

fn status_pids(env: &TestEnv) -> Vec<(String, u64)> {
    pids(&env.status_json().1)
}

#[test]
fn an_environment_keeps_its_settings_and_a_change_is_named() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    // Neither the mode nor the ports are given again: the environment's own are kept.
    let out = plain(&env, &["setup", "--dry-run"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("nothing to change"), "{said}");
    let before = status_pids(&env);
    let out = plain(&env, &["setup", "--no-selftest"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(status_pids(&env), before, "a plain setup restarted nothing");

    let moved = free_port();
    let flag = moved.to_string();
    let out = plain(&env, &["setup", "--dry-run", "--kafka-port", &flag]);
    let said = String::from_utf8_lossy(&out.stdout);
    let change = format!("change    kafka port {} → {moved}", env.kafka_port);
    assert!(said.contains(&change), "the plan names the setting: {said}");

    let out = plain(&env, &["setup", "--dry-run", "--mode", "zookeeper"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("leave out --mode"),
        "the way out keeps the data: {err}"
    );
}

#[test]
fn a_port_change_onto_a_busy_port_stops_nothing() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let before = status_pids(&env);
    let busy = free_port();
    let _holder = std::net::TcpListener::bind(("127.0.0.1", busy)).unwrap();
    let flag = busy.to_string();
    let dry = plain(&env, &["setup", "--dry-run", "--kafka-port", &flag]);
    assert!(!dry.status.success(), "the dry run ends where setup would");
    assert!(
        stderr_of(&dry).contains(&format!("port {busy}")),
        "{}",
        stderr_of(&dry)
    );
    let out = plain(&env, &["setup", "--kafka-port", &flag]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains(&format!("port {busy}")),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(status_pids(&env), before, "the working broker still runs");
    assert!(port_open(env.kafka_port));
    let (code, status) = env.status_json();
    assert_eq!(code, 0, "{status:#}");
    assert_eq!(
        status["bootstrap_server"],
        env.bootstrap(),
        "still pointed at its port"
    );
}

#[test]
fn data_of_the_other_mode_is_never_hidden() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    let sent = lines("zk-mode", 50);
    kcat_produce(&env.bootstrap(), "demo", &sent);
    // kafkup's own hint for a damaged manifest: remove it and run setup again.
    std::fs::remove_file(env.root().join("state/manifest.json")).unwrap();
    let out = env.run(&["setup", "--mode", "kraft", "--backend", "process"]);
    assert!(
        !out.status.success(),
        "a KRaft setup on ZooKeeper-mode data is refused"
    );
    let err = stderr_of(&out);
    assert!(err.contains("written in zookeeper mode"), "{err}");
    assert!(err.contains("--mode zookeeper"), "{err}");
    let data = env.root().join("data/kafka");
    let strays: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("stray"))
        .collect();
    assert!(
        strays.is_empty() && data.join("demo-0").is_dir(),
        "the topic's data is as it was"
    );
    // The mode it was made in takes the environment (and its running JVMs) back.
    env.setup("zookeeper", &["--no-selftest"]);
    assert_eq!(kcat_consume_all(&env.bootstrap(), "demo"), sent);
}

#[test]
fn jvms_nothing_records_are_found_not_forgotten() {
    let env = TestEnv::new();
    env.setup("zookeeper", &["--no-selftest"]);
    let running: Vec<u32> = status_pids(&env).iter().map(|(_, p)| *p as u32).collect();
    // Manifest and pid files gone: nothing records the two JVMs any more.
    std::fs::remove_file(env.root().join("state/manifest.json")).unwrap();
    std::fs::remove_dir_all(env.root().join("state/run")).unwrap();
    let out = env.run(&["setup", "--mode", "zookeeper", "--backend", "process"]);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    for pid in &running {
        assert!(err.contains(&format!("pid {pid}")), "names {pid}: {err}");
    }
    let out = env.run(&["teardown", "--purge"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    for pid in running {
        assert!(!pid_alive(pid), "teardown stopped {pid}");
    }
    assert!(!port_open(env.kafka_port) && !port_open(env.zookeeper_port));
}

/// The format JVM of a first KRaft setup, once it runs.
fn wait_for_the_format(env: &TestEnv) -> Option<u32> {
    let root = env.root().display().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let found = procfs::process::all_processes().ok()?.flatten().find(|p| {
            p.cmdline().is_ok_and(|args| {
                args.iter().any(|a| a == "kafka.tools.StorageTool")
                    && args.iter().any(|a| a.starts_with(&root))
            })
        });
        if let Some(p) = found {
            return Some(p.pid as u32);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

#[test]
fn a_killed_kraft_format_dies_with_kafkup_and_is_finished_with_the_same_id() {
    let env = TestEnv::new();
    let mut setup = env
        .command(&[
            "setup",
            "--mode",
            "kraft",
            "--backend",
            "process",
            "--no-class-archive",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let format = wait_for_the_format(&env);
    let _ = setup.kill();
    let _ = setup.wait();
    let format = format.expect("the format JVM was seen running");
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        !pid_alive(format)
    });
    assert!(gone, "the format JVM is gone");
    // Had it lived on, it would have finished within a few seconds and written its id.
    std::thread::sleep(Duration::from_secs(3));
    let meta = env.root().join("data/kafka/meta.properties");
    assert!(
        !meta.exists(),
        "the format JVM died with kafkup, before writing {}",
        meta.display()
    );
    let manifest = std::fs::read_to_string(env.root().join("state/manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let recorded = manifest["formatting"]
        .as_str()
        .or(manifest["cluster_id"].as_str())
        .expect("the id is recorded before the format")
        .to_string();
    env.setup("kraft", &["--no-selftest"]);
    let (code, status) = env.status_json();
    assert_eq!(code, 0, "{status:#}");
    assert_eq!(status["cluster_id"], recorded.as_str());
}

/// The trap of an older release on KRaft storage: 4.4.0's storage carries a metadata.version
/// 4.3.2 does not know. Refused before anything stops (before 4.3.2 is even fetched), with
/// the way back named; the running broker runs on.
#[test]
fn an_older_kafka_release_on_kraft_storage_is_refused_before_anything_stops() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let before = status_pids(&env);
    let out = env.run(&["setup", "--kafka-version", "4.3.2"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("metadata was written by Kafka 4.4.0; Kafka 4.3.2 cannot read it"),
        "{err}"
    );
    assert!(err.contains("kafkup snapshot restore"), "{err}");
    assert_eq!(status_pids(&env), before, "nothing stopped");
}
