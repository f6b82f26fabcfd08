//! Secured listeners (`setup --security tls|mtls|scram`) on real ZooKeeper and Kafka, checked
//! with independent clients: kcat with the librdkafka config kafkup writes, the guide's
//! kafka-python consumer with the Python snippet, Kafka's own ACL tool with the Java config.
//! (Debian's kcat links librdkafka 2.0, which cannot log in with SCRAM to Kafka 4.x — fixed in
//! librdkafka 2.6.1 — so SCRAM is checked with kcat on Kafka 3.9 and with kafka-python on 4.x.)

use crate::env::TestEnv;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn client_file(env: &TestEnv, user: &str, name: &str) -> PathBuf {
    env.root().join("config/clients").join(user).join(name)
}

fn kcat(config: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new("timeout")
        .args(["30", "kcat", "-F"])
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcat is installed (scripts/test.sh installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn produce(config: &Path, topic: &str, lines: &[&str]) {
    let out = kcat(
        config,
        &["-P", "-t", topic, "-X", "acks=all"],
        &(lines.join("\n") + "\n"),
    );
    assert!(
        out.status.success(),
        "kcat produce: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn consume(config: &Path, topic: &str) -> Vec<String> {
    let out = kcat(
        config,
        &["-C", "-t", topic, "-o", "beginning", "-e", "-q"],
        "",
    );
    crate::env::kcat_lines(out)
}

/// A client of `config` gets no metadata (refused, or cannot authenticate); its error.
fn refused(config: &Path) -> String {
    let out = kcat(config, &["-L", "-m", "8"], "");
    assert!(!out.status.success(), "{} was let in", config.display());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `config` with its lines that start with any of `drop` left out and `add` added.
fn variant(dir: &Path, config: &Path, drop: &[&str], add: &[String]) -> PathBuf {
    let text = std::fs::read_to_string(config).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !drop.iter().any(|d| l.starts_with(d)))
        .map(str::to_string)
        .collect();
    lines.extend(add.iter().cloned());
    let path = dir.join(format!("variant-{}.conf", lines.len()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// The developer's config with another password cannot log in.
fn assert_wrong_password_refused(dir: &Path, developer: &Path) {
    let wrong = variant(
        dir,
        developer,
        &["sasl.password"],
        &["sasl.password=wrong".into()],
    );
    assert!(refused(&wrong).contains("Authentication"));
}

/// The guide's kafka-python consumer, connected with the snippet kafkup wrote, reads `topic`.
fn guide_consumer_reads(env: &TestEnv, topic: &str, values: &[&str]) {
    let expected = env.root().join("expected.txt");
    let json: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    std::fs::write(&expected, values.join("\n") + "\n").unwrap();
    let snippet = client_file(env, "developer", "client.py");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/guide_consumer.py");
    let out = Command::new(crate::messaging::python())
        .arg(script)
        .args(["unused", topic, "lines"])
        .arg(&expected)
        .arg(&snippet)
        .output()
        .unwrap();
    let said = crate::env::output_text(&out);
    assert!(
        out.status.success(),
        "kafka-python with {}: {said} ({json:?})",
        snippet.display()
    );
}

/// Values as the guide's producer sends them (json.dumps), through kcat.
fn produce_json(config: &Path, topic: &str, values: &[&str]) {
    let json: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    let json: Vec<&str> = json.iter().map(String::as_str).collect();
    produce(config, topic, &json);
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Keys and passwords are the owner's alone (the node's key also its group's), and owned by
/// the user who ran setup (the process runner's service user).
fn assert_private(env: &TestEnv) {
    let secrets = env.root().join("state/secrets");
    assert_eq!(mode_of(&secrets), 0o700);
    assert_eq!(mode_of(&secrets.join("ca.key")), 0o600);
    let node_key = std::fs::read_dir(env.root().join("config"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("tls/node.pem"))
        .find(|p| p.exists())
        .expect("a node keystore");
    assert_eq!(mode_of(&node_key), 0o640, "{}", node_key.display());
    for name in ["client.properties", "librdkafka.conf", "client.py"] {
        assert_eq!(
            mode_of(&client_file(env, "developer", name)),
            0o600,
            "{name}"
        );
    }
    let uid = nix::unistd::getuid().as_raw();
    assert_eq!(std::fs::metadata(&node_key).unwrap().uid(), uid);
}

/// No password or private key in what status, setup --json and the services' logs show.
fn assert_nothing_leaks(env: &TestEnv, secrets: &[String]) {
    let mut shown = env.ok(&["status"]);
    shown += &env.ok(&["--json", "status"]);
    shown += &env.ok(&["--json", "setup", "--dry-run"]);
    // The services' own logs, as every runner shows them (all nodes here are solo), and
    // kafkup's own debug log of a setup that changes nothing.
    shown += &env.ok(&["logs", "kafka", "-n", "100000"]);
    if env.root().join("config/zookeeper").exists() {
        shown += &env.ok(&["logs", "zookeeper", "-n", "100000"]);
    }
    let out = env
        .kafkup(&["-vv", "setup", "--no-selftest"])
        .output()
        .unwrap();
    shown += &String::from_utf8_lossy(&out.stderr);
    assert!(!shown.contains("PRIVATE KEY"));
    for secret in secrets {
        assert!(!shown.contains(secret.as_str()), "a secret is shown");
    }
}

fn passwords(env: &TestEnv) -> Vec<String> {
    let out = env.ok(&["--json", "credentials"]);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    value["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["password"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn plaintext_then_tls_then_plaintext_keeps_every_message() {
    let env = TestEnv::new();
    env.setup("kraft", &["--no-selftest"]);
    let plain = env.root().join("plain.conf");
    std::fs::write(&plain, format!("bootstrap.servers={}\n", env.bootstrap())).unwrap();
    produce(&plain, "kept", &["one"]);

    let out = env.ok(&["setup", "--security", "tls", "--dry-run"]);
    assert!(out.contains("change    security plaintext → tls"), "{out}");
    assert!(
        out.contains("secure    make the local CA; certificates for kafka"),
        "{out}"
    );
    assert!(out.contains("restart   kafka"), "{out}");
    env.ok(&["setup", "--security", "tls"]);
    let tls = client_file(&env, "developer", "librdkafka.conf");
    assert_eq!(consume(&tls, "kept"), ["one"]);
    produce(&tls, "kept", &["two"]);
    let said = refused(&plain);
    assert!(said.contains("SSL") || said.contains("transport"), "{said}");
    produce_json(&tls, "guide", &["a", "b"]);
    guide_consumer_reads(&env, "guide", &["a", "b"]);
    assert_private(&env);
    let ca = std::fs::read(env.root().join("state/secrets/ca.pem")).unwrap();
    let again = env.ok(&["setup", "--dry-run"]);
    assert!(
        again.contains("nothing to change"),
        "a second setup keeps the CA and certificates: {again}"
    );

    // KRaft adds SCRAM users only when it formats: refused, with the way out.
    let out = env.run(&["setup", "--security", "scram", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("formatted without SCRAM users"));

    env.ok(&["setup", "--security", "plaintext"]);
    assert_eq!(consume(&plain, "kept"), ["one", "two"]);
    env.ok(&["setup", "--security", "tls", "--no-selftest"]);
    assert_eq!(
        std::fs::read(env.root().join("state/secrets/ca.pem")).unwrap(),
        ca,
        "the CA is kept"
    );
    assert_eq!(consume(&tls, "kept"), ["one", "two"]);
    env.ok(&["teardown", "--purge"]);
    assert!(
        !env.root().join("state/secrets").exists(),
        "--purge removes the CA"
    );
}

#[test]
fn scram_users_log_in_and_only_the_admin_changes_acls() {
    let env = TestEnv::new();
    let out = env.setup("zookeeper", &["--security", "scram"]);
    let secrets = passwords(&env);
    assert_eq!(secrets.len(), 2);
    assert!(
        out.contains(&secrets[0]),
        "the passwords are shown once: {out}"
    );
    let developer = client_file(&env, "developer", "librdkafka.conf");
    produce_json(&developer, "guide", &["x", "y"]);
    assert_eq!(consume(&developer, "guide"), ["\"x\"", "\"y\""]);
    guide_consumer_reads(&env, "guide", &["x", "y"]);

    let dir = env.root();
    assert_wrong_password_refused(dir, &developer);
    let plain = variant(
        dir,
        &developer,
        &["security.protocol", "sasl.", "ssl."],
        &[],
    );
    refused(&plain);

    let acl = |user: &str| {
        let config = client_file(&env, user, "client.properties");
        Command::new("java")
            .arg("-cp")
            .arg(format!(
                "{}/*",
                std::env::var("KAFKUP_TEST_KAFKA39_LIBS").expect("KAFKUP_TEST_KAFKA39_LIBS")
            ))
            .args([
                "kafka.admin.AclCommand",
                "--bootstrap-server",
                &env.bootstrap(),
                "--command-config",
            ])
            .arg(config)
            .args([
                "--add",
                "--allow-principal",
                "User:mallory",
                "--operation",
                "All",
                "--topic",
                "*",
            ])
            .output()
            .unwrap()
    };
    let out = acl("developer");
    let said = crate::env::output_text(&out);
    assert!(
        said.contains("ClusterAuthorizationException") || said.contains("not authorized"),
        "{said}"
    );
    let out = acl("admin");
    assert!(
        out.status.success(),
        "the admin may: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_private(&env);
    assert_nothing_leaks(&env, &secrets);
}

/// Another CA and a client certificate it signed, made with openssl.
fn foreign_client(dir: &Path) -> (PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "other-ca.key",
        "-out",
        "other-ca.pem",
        "-subj",
        "/CN=other CA",
        "-days",
        "2",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "other.key",
        "-out",
        "other.csr",
        "-subj",
        "/CN=developer",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "other.csr",
        "-CA",
        "other-ca.pem",
        "-CAkey",
        "other-ca.key",
        "-CAcreateserial",
        "-out",
        "other.pem",
        "-days",
        "2",
    ]);
    (dir.join("other.pem"), dir.join("other.key"))
}

#[test]
fn mtls_lets_in_only_certificates_of_its_own_ca() {
    let env = TestEnv::new();
    env.setup("kraft", &["--security", "mtls"]);
    let developer = client_file(&env, "developer", "librdkafka.conf");
    produce_json(&developer, "guide", &["m"]);
    assert_eq!(consume(&developer, "guide"), ["\"m\""]);
    guide_consumer_reads(&env, "guide", &["m"]);

    let dir = env.root();
    let without = variant(dir, &developer, &["ssl.certificate", "ssl.key"], &[]);
    refused(&without);
    let (cert, key) = foreign_client(dir);
    let foreign = variant(
        dir,
        &developer,
        &["ssl.certificate", "ssl.key"],
        &[
            format!("ssl.certificate.location={}", cert.display()),
            format!("ssl.key.location={}", key.display()),
        ],
    );
    refused(&foreign);
    assert_eq!(mode_of(&client_file(&env, "developer", "key.pem")), 0o600);
    assert_private(&env);
    let keys: Vec<String> =
        vec![std::fs::read_to_string(client_file(&env, "developer", "key.pem")).unwrap()];
    assert_nothing_leaks(&env, &keys);
}

#[test]
fn scram_on_kraft_serves_kafka_python_and_kafkups_own_commands() {
    let env = TestEnv::new();
    env.setup("kraft", &["--security", "scram"]);
    let out = env.ok(&["produce", "guide", "--value", "\"k\""]);
    assert!(out.is_empty() || !out.contains("error"));
    guide_consumer_reads(&env, "guide", &["k"]);
    let config = client_file(&env, "developer", "librdkafka.conf");
    let got = env.ok(&[
        "consume",
        "guide",
        "--from-beginning",
        "--max-messages",
        "1",
        "--client-config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(got.trim(), "\"k\"");
    let java = env.ok(&["client-config", "--format", "java"]);
    assert!(java.contains("security.protocol=SASL_SSL"), "{java}");
}

/// tls, then mtls, then scram on one environment in containers (ZooKeeper mode, where
/// Debian's kcat logs in with SCRAM): each a planned change that keeps every message, each
/// refusing the clients it must.
#[test]
fn tls_mtls_and_scram_in_turn_under_docker() {
    let env = TestEnv::new();
    let developer = client_file(&env, "developer", "librdkafka.conf");
    let plain = env.root().join("plain.conf");
    std::fs::write(&plain, format!("bootstrap.servers={}\n", env.bootstrap())).unwrap();
    for security in ["tls", "mtls", "scram"] {
        crate::docker::setup(&env, "zookeeper", &["--security", security]);
        produce(&developer, "kept", &[security]);
        refused(&plain);
        if security == "mtls" {
            let without = variant(env.root(), &developer, &["ssl.certificate", "ssl.key"], &[]);
            refused(&without);
        }
    }
    assert_eq!(consume(&developer, "kept"), ["tls", "mtls", "scram"]);
    produce_json(&developer, "guide", &["d"]);
    guide_consumer_reads(&env, "guide", &["d"]);
    assert_wrong_password_refused(env.root(), &developer);
    assert_nothing_leaks(&env, &passwords(&env));
    env.ok(&["teardown", "--purge"]);
}

/// Three brokers in containers speak mutual TLS to each other and to the quorum on the
/// environment's network (their certificates name their containers), and to the host's clients.
#[test]
fn three_kraft_brokers_with_mtls_under_docker() {
    use crate::cluster::{assert_all_ready, THREE_BROKERS};
    let env = TestEnv::cluster();
    crate::docker::setup(&env, "kraft", &["--brokers", "3", "--security", "mtls"]);
    assert_all_ready(&env, &THREE_BROKERS);
    let developer = client_file(&env, "developer", "librdkafka.conf");
    produce(&developer, "replicated", &["r1", "r2"]);
    assert_eq!(consume(&developer, "replicated"), ["r1", "r2"]);
    let without = variant(env.root(), &developer, &["ssl.certificate", "ssl.key"], &[]);
    refused(&without);
    env.ok(&["teardown", "--purge"]);
}
