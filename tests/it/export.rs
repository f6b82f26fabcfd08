//! `kafkup export strimzi` through the real binary: what it writes validates against Strimzi
//! 1.2.0's CRD schemas (tests/strimzi/validate.py, which also rejects a broken document), no
//! secret is in it, and a ZooKeeper-mode environment gets a clear refusal and no file.

use crate::env::{output_text, TestEnv};
use std::path::{Path, PathBuf};

fn crds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/strimzi-1.2.0")
}

/// The CRD check of `files`: its exit status and what it printed.
fn validate(files: &[&Path]) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/strimzi/validate.py");
    let out = std::process::Command::new(crate::messaging::python())
        .arg(script)
        .arg(crds())
        .args(files)
        .output()
        .unwrap();
    (out.status.success(), output_text(&out))
}

/// `export strimzi --out DIR` with `extra` setup flags: the file written and what was said.
fn export(env: &TestEnv, extra: &[&str]) -> (PathBuf, String) {
    let out_dir = env.root().join("export");
    let dir = out_dir.display().to_string();
    let args = [
        &["export", "strimzi", "--out", &dir, "--name", "demo"][..],
        extra,
    ]
    .concat();
    let out = env.run(&args);
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    (out_dir.join("demo.yaml"), said)
}

#[test]
fn exports_validate_against_strimzis_crds_and_hold_no_secret() {
    let env = TestEnv::new();
    let (written, _) = export(&env, &["--mode", "kraft"]);
    let one = env.root().join("one.yaml");
    std::fs::rename(&written, &one).unwrap();
    let one_yaml = std::fs::read_to_string(&one).unwrap();
    assert!(one_yaml.contains("kind: KafkaNodePool"), "{one_yaml}");
    let (ok, said) = validate(&[&one]);
    assert!(ok, "{said}");

    let config = env.root().join("topics.toml");
    let topics = "[[topics]]\nname = \"orders\"\npartitions = 6\nconfigs = { \"retention.ms\" = 86400000 }\n\n[[topics]]\nname = \"Audit_log\"\n";
    std::fs::write(&config, topics).unwrap();
    let cluster = [
        "--mode",
        "kraft",
        "--brokers",
        "3",
        "--controllers",
        "3",
        "--security",
        "scram",
    ];
    let config_arg = ["--config", config.to_str().unwrap()];
    let args = [&config_arg[..], &cluster].concat();
    let renamed = env.root().join("cluster.yaml");
    let (file, said) = export(&env, &args);
    std::fs::rename(&file, &renamed).unwrap();
    let yaml = std::fs::read_to_string(&renamed).unwrap();
    for expected in [
        "kind: KafkaUser",
        "type: scram-sha-512",
        "topicName: Audit_log",
        "name: orders",
        "exported as 4.3.1",
    ] {
        assert!(yaml.contains(expected), "{expected:?} in {yaml}");
    }
    assert!(
        said.contains("no password, key or certificate is exported"),
        "{said}"
    );
    assert!(
        !yaml.to_lowercase().contains("password:"),
        "no secret: {yaml}"
    );
    let (ok, said) = validate(&[&one, &renamed]);
    assert!(ok, "{said}");

    // The check can fail: a node pool without its replicas, a listener port below 9092.
    let broken = env.root().join("broken.yaml");
    let bad = yaml
        .replacen("replicas: 3", "replicas: three", 1)
        .replace("port: 9093", "port: 80");
    std::fs::write(&broken, bad).unwrap();
    let (ok, said) = validate(&[&broken]);
    assert!(!ok, "a broken document is rejected: {said}");
    assert!(said.contains("FAIL"), "{said}");
}

#[test]
fn a_zookeeper_mode_environment_is_refused_with_no_half_export() {
    let env = TestEnv::new();
    let dir = env.root().join("export");
    let out = env.run(&[
        "export",
        "strimzi",
        "--mode",
        "zookeeper",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let said = output_text(&out);
    assert!(said.contains("Strimzi 1.2.0 runs KRaft only"), "{said}");
    assert!(!dir.exists(), "nothing written");
    let bad = env.run(&[
        "export",
        "strimzi",
        "--mode",
        "kraft",
        "--name",
        "Not_A_Name",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

/// `export properties`: each node's files and the client's, with every line that holds this
/// machine's paths or loopback addresses marked, and nothing else marked.
#[test]
fn exported_properties_mark_what_is_true_only_of_this_machine() {
    let env = TestEnv::new();
    let dir = env.root().join("props");
    let args = [
        "export",
        "properties",
        "--mode",
        "zookeeper",
        "--brokers",
        "2",
    ];
    let out = env.run(&[&args[..], &["--out", dir.to_str().unwrap()]].concat());
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    let root = env.root().display().to_string();
    for file in [
        "zookeeper/zoo.cfg",
        "kafka-1/server.properties",
        "kafka-2/server.properties",
        "clients/client.properties",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(!text.contains("Do not edit"), "{file}: {text}");
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let specific =
                !line.starts_with('#') && (line.contains(&root) || line.contains("127.0.0.1"));
            let marked = n > 0 && lines[n - 1].starts_with("# CHANGE:");
            assert_eq!(specific, marked, "{file} line {}: {line}", n + 1);
        }
    }
    let server = std::fs::read_to_string(dir.join("kafka-2/server.properties")).unwrap();
    assert!(
        server.contains("# CHANGE: a path on the machine kafkup ran on\nlog.dirs="),
        "{server}"
    );
}
