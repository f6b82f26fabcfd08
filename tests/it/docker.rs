//! The docker runner against a real Docker Engine (Debian's docker.io, started by
//! `scripts/docker-engine.sh`) with the locally built JRE image (`scripts/test-images.sh`):
//! containers from the fixture distributions, ports on 127.0.0.1, kcat on the host.
//! The `docker` CLI is used only to look and to break things, never by kafkup.

use crate::env::{free_port, kcat_consume_all, kcat_produce, lines, TestEnv};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// The image the tests run services from (built locally: no registry is reachable).
fn image() -> String {
    std::env::var("KAFKUP_TEST_IMAGE").unwrap_or_else(|_| "kafkup-test/jre:17".into())
}

fn docker(args: &[&str]) -> Output {
    let out = Command::new("timeout")
        .args(["120", "docker"])
        .args(args)
        .output()
        .expect("the docker CLI is installed (scripts/test.sh installs docker.io)");
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn docker_text(args: &[&str]) -> String {
    String::from_utf8_lossy(&docker(args).stdout)
        .trim()
        .to_string()
}

/// What carries this environment's labels: containers, volumes, networks.
fn labelled(env: &TestEnv) -> (Vec<String>, Vec<String>, Vec<String>) {
    let filter = format!(
        "label=io.kafkup.root={}",
        env.root().join("state").display()
    );
    let list = |args: &[&str]| -> Vec<String> {
        docker_text(args)
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    };
    (
        list(&["ps", "-a", "-q", "--filter", &filter]),
        list(&["volume", "ls", "-q", "--filter", &filter]),
        list(&["network", "ls", "-q", "--filter", &filter]),
    )
}

fn container_id(env: &TestEnv, service: &str) -> String {
    let filter = format!(
        "label=io.kafkup.root={}",
        env.root().join("state").display()
    );
    let service = format!("label=io.kafkup.service={service}");
    docker_text(&[
        "ps",
        "-a",
        "-q",
        "--no-trunc",
        "--filter",
        &filter,
        "--filter",
        &service,
    ])
}

/// A container's command line, and whether its JVM mapped the archive the command names.
fn class_archive_of(id: &str) -> (String, bool) {
    let cmd = docker_text(&["inspect", "-f", "{{json .Config.Cmd}}", id]);
    let pid = docker_text(&["inspect", "-f", "{{.State.Pid}}", id]);
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", pid.trim())).unwrap();
    let used = cmd
        .split('"')
        .find_map(|a| a.strip_prefix("-XX:SharedArchiveFile="));
    let mapped = used.is_some_and(|u| maps.contains(u));
    (cmd, mapped)
}

/// The hardening the README states, as the Engine reports it: read-only root file system, no
/// capabilities, no privilege gain, and every published port on 127.0.0.1 (at least one).
fn check_hardening(service: &str, id: &str) {
    let host: serde_json::Value =
        serde_json::from_str(&docker_text(&["inspect", "-f", "{{json .HostConfig}}", id])).unwrap();
    assert_eq!(host["ReadonlyRootfs"], true, "{service}: {host:#}");
    assert_eq!(
        host["CapDrop"],
        serde_json::json!(["ALL"]),
        "{service}: {host:#}"
    );
    assert!(
        host["CapAdd"].as_array().is_none_or(|a| a.is_empty()),
        "{service}: {host:#}"
    );
    let security = host["SecurityOpt"].to_string();
    assert!(
        security.contains("no-new-privileges"),
        "{service}: {security}"
    );
    assert_eq!(host["Privileged"], false, "{service}");
    let bindings: Vec<&serde_json::Value> = host["PortBindings"]
        .as_object()
        .map(|ports| ports.values().flat_map(|b| b.as_array().unwrap()).collect())
        .unwrap_or_default();
    assert!(
        !bindings.is_empty(),
        "{service} publishes its port: {host:#}"
    );
    for binding in bindings {
        assert_eq!(binding["HostIp"], "127.0.0.1", "{service}: {binding}");
    }
    // And live: what the running container really publishes.
    let ports = docker_text(&["port", id]);
    assert!(!ports.is_empty(), "{service} publishes nothing");
    for line in ports.lines() {
        assert!(line.contains("-> 127.0.0.1:"), "{service}: {ports}");
    }
}

pub fn setup(env: &TestEnv, mode: &str, extra: &[&str]) -> String {
    let image = image();
    let mut args = vec![
        "setup",
        "--mode",
        mode,
        "--backend",
        "docker",
        "--image",
        &image,
    ];
    args.extend_from_slice(extra);
    let out = env.run(&args);
    assert!(out.status.success(), "setup under docker failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn under_docker(mode: &str) {
    let env = TestEnv::new();
    let said = setup(&env, mode, &[]);
    assert!(said.contains("self-test passed"), "{said}");
    env.assert_render_is_the_install("docker", &["--mode", mode, "--image", &image()]);
    let services = if mode == "zookeeper" {
        vec!["zookeeper", "kafka"]
    } else {
        vec!["kafka"]
    };
    for s in &services {
        let (cmd, _) = class_archive_of(&container_id(&env, s));
        assert!(
            cmd.contains("-XX:ArchiveClassesAtExit="),
            "{s} records: {cmd}"
        );
    }
    for s in &services {
        check_hardening(s, &container_id(&env, s));
    }

    // kcat on the host and the broker in its container, both ways.
    let sent = lines("docker", 200);
    kcat_produce(&env.bootstrap(), "acked", &sent);
    assert_eq!(kcat_consume_all(&env.bootstrap(), "acked"), sent);
    let read = env.ok(&[
        "consume",
        "acked",
        "--from-beginning",
        "--max-messages",
        "200",
    ]);
    assert_eq!(
        read.lines().collect::<Vec<_>>(),
        sent,
        "kafkup reads what kcat produced"
    );
    env.ok(&["produce", "from-kafkup", "--value", "привет из kafkup"]);
    assert_eq!(
        kcat_consume_all(&env.bootstrap(), "from-kafkup"),
        ["привет из kafkup"]
    );
    crate::commands::logs_follow_sees_new_lines(&env, |topic| {
        env.ok(&["topic", "create", topic]);
    });

    // A killed broker container shows as failed; start brings it back with its data.
    docker(&["kill", &container_id(&env, "kafka")]);
    let (code, status) = env.status_json();
    assert_eq!(code, 4, "{status:#}");
    let kafka = status["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "kafka")
        .unwrap()
        .clone();
    assert_eq!(kafka["state"]["state"], "failed", "{kafka:#}");
    env.ok(&["start"]);
    assert_eq!(kcat_consume_all(&env.bootstrap(), "acked"), sent);

    // A second setup recreates nothing.
    let ids: Vec<String> = services.iter().map(|s| container_id(&env, s)).collect();
    let said = setup(&env, mode, &[]);
    assert!(said.contains("nothing to change"), "{said}");
    let again: Vec<String> = services.iter().map(|s| container_id(&env, s)).collect();
    assert_eq!(ids, again, "same containers");

    // teardown keeps the volumes; setup reuses them.
    let cluster = env.status_json().1["cluster_id"]
        .as_str()
        .unwrap()
        .to_string();
    env.ok(&["teardown"]);
    let (containers, volumes, networks) = labelled(&env);
    assert!(
        containers.is_empty() && networks.is_empty(),
        "{containers:?} {networks:?}"
    );
    assert_eq!(volumes.len(), services.len(), "the data volumes stay");
    setup(&env, mode, &["--no-selftest"]);
    assert_eq!(
        env.status_json().1["cluster_id"].as_str(),
        Some(cluster.as_str())
    );
    // teardown stopped them cleanly: the new containers map the archives they wrote.
    for s in &services {
        let (cmd, mapped) = class_archive_of(&container_id(&env, s));
        assert!(mapped, "{s} maps its archive: {cmd}");
    }
    let archives = env.root().join("cache/class-archives");
    let mut names: Vec<String> = std::fs::read_dir(archives)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // One archive per service: the KRaft storage format maps the broker's, records none.
    let expected: Vec<&str> = services.clone();
    // `<name>-<key>.jsa` once a start has adopted `<name>-<key>.recording-<env>.jsa`.
    let stems: Vec<&str> = names
        .iter()
        .map(|n| n.split('.').next().unwrap().rsplit_once('-').unwrap().0)
        .collect();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(stems, expected_sorted, "{names:?}");
    assert_eq!(kcat_consume_all(&env.bootstrap(), "acked"), sent);

    env.ok(&["teardown", "--purge"]);
    let (containers, volumes, networks) = labelled(&env);
    assert!(
        containers.is_empty() && volumes.is_empty() && networks.is_empty(),
        "nothing labelled is left: {containers:?} {volumes:?} {networks:?}"
    );
}

#[test]
fn zookeeper_mode_under_docker() {
    under_docker("zookeeper");
}

#[test]
fn kraft_mode_under_docker() {
    under_docker("kraft");
}

/// `kill`, `pause` and `resume` through the Engine: a killed container exited 137 and reads as
/// failed until `start`; a paused one is frozen (the Engine says so, clients get no answer)
/// until `resume`; teardown unpauses before it stops, so the broker stops cleanly.
#[test]
fn kill_pause_and_resume_under_docker() {
    use crate::nodes::{answers_within, metadata_answers, node_status};
    let env = TestEnv::new();
    setup(&env, "kraft", &["--no-selftest"]);
    let bootstrap = env.bootstrap();
    let id = container_id(&env, "kafka");
    env.ok(&["pause", "kafka"]);
    assert_eq!(
        docker_text(&["inspect", "-f", "{{.State.Paused}}", &id]),
        "true"
    );
    let (code, kafka) = node_status(&env, "kafka");
    assert_eq!(
        (code, &kafka["state"]["state"]),
        (4, &"paused".into()),
        "{kafka:#}"
    );
    assert!(
        !metadata_answers(&bootstrap),
        "a paused broker answers nothing"
    );
    env.ok(&["resume", "kafka"]);
    assert!(answers_within(&bootstrap, Duration::from_secs(30)));

    let sent = lines("docker-kill", 50);
    kcat_produce(&bootstrap, "nodes", &sent);
    env.ok(&["kill", "kafka"]);
    assert_eq!(
        docker_text(&["inspect", "-f", "{{.State.ExitCode}}", &id]),
        "137"
    );
    let (code, kafka) = node_status(&env, "kafka");
    assert_eq!(
        (code, &kafka["state"]["state"]),
        (4, &"failed".into()),
        "{kafka:#}"
    );
    env.ok(&["start", "kafka"]);
    assert_eq!(kcat_consume_all(&bootstrap, "nodes"), sent);

    env.ok(&["pause", "kafka"]);
    let out = env.run(&["teardown", "--purge"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("killed"), "stopped, not killed: {said}");
    let stopped = said.lines().any(|l| l.ends_with("kafka stopped"));
    assert!(stopped, "stopped cleanly, not removed as it was: {said}");
    let (containers, volumes, networks) = labelled(&env);
    assert!(
        containers.is_empty() && volumes.is_empty() && networks.is_empty(),
        "nothing labelled is left: {containers:?} {volumes:?} {networks:?}"
    );
}

/// Removes a container when the test ends, whatever happened.
struct Squatter(String);

impl Drop for Squatter {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

#[test]
fn a_port_another_container_publishes_is_named_before_anything_is_created() {
    let env = TestEnv::new();
    let name = format!("kafkup-it-squatter-{}", std::process::id());
    let publish = format!("127.0.0.1:{}:80", env.kafka_port);
    let _squatter = Squatter(name.clone());
    docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "-p",
        &publish,
        &image(),
        "sleep",
        "120",
    ]);
    let image = image();
    let out = env.run(&[
        "setup",
        "--mode",
        "kraft",
        "--backend",
        "docker",
        "--image",
        &image,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("port {}", env.kafka_port)), "{err}");
    assert!(
        err.contains(&format!("Docker container {name}")),
        "names the container: {err}"
    );
    let (containers, volumes, networks) = labelled(&env);
    assert!(containers.is_empty() && volumes.is_empty() && networks.is_empty());
}

#[test]
fn a_missing_image_and_a_silent_daemon_are_clear_errors() {
    let env = TestEnv::new();
    // A registry address on loopback where nothing listens: the Engine's pull fails at once,
    // and never reaches a public registry.
    let nowhere = format!("127.0.0.1:{}/kafkup-test/no-such-image:0", free_port());
    let out = env.run(&["setup", "--backend", "docker", "--image", &nowhere]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{nowhere} is not here and could not be pulled")),
        "{err}"
    );
    assert!(err.contains("--image"), "{err}");

    let socket = env.root().join("nobody-serves-this.sock");
    let _listener_gone = std::os::unix::net::UnixListener::bind(&socket).map(drop);
    let out = env
        .kafkup(&["setup", "--backend", "docker"])
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .output()
        .unwrap();
    let out = crate::env::echo(
        &["setup", "--backend", "docker", "(DOCKER_HOST: dead socket)"],
        out,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no Docker Engine answers"), "{err}");
    assert!(err.contains("DOCKER_HOST"), "{err}");
    let left: Vec<_> = std::fs::read_dir(env.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".sock"))
        .collect();
    assert!(left.is_empty(), "nothing was created: {left:?}");
}

/// Stops the test registry when the test ends.
struct Registry(u16, std::path::PathBuf);

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Command::new(script("local-registry.sh"))
            .args(["stop", &self.0.to_string()])
            .arg(&self.1)
            .output();
    }
}

fn script(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

/// An image that is not here is pulled from a registry that answers (Debian's
/// docker-registry on 127.0.0.1, holding the locally built JRE image).
#[test]
fn a_missing_image_is_pulled_where_a_registry_answers() {
    let env = TestEnv::new();
    let port = free_port();
    let data = env.root().join("registry");
    let out = Command::new(script("local-registry.sh"))
        .args(["start", &port.to_string()])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _registry = Registry(port, data);
    let remote = format!("127.0.0.1:{port}/kafkup/jre:17");
    docker(&["tag", &image(), &remote]);
    docker(&["push", &remote]);
    docker(&["rmi", &remote]);
    let setup = |extra: &[&str]| {
        let mut args = vec!["setup", "--mode", "kraft", "--backend", "docker"];
        args.extend(["--image", &remote]);
        args.extend(extra);
        env.run(&args)
    };
    // A dry run says it would pull, and pulls nothing.
    let out = setup(&["--dry-run"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("pull      image {remote}")),
        "{said}"
    );
    let here = Command::new("docker")
        .args(["image", "inspect", &remote])
        .output()
        .unwrap();
    assert!(!here.status.success(), "a dry run pulled the image");
    // setup pulls it and runs Kafka on the image's own Java.
    let out = setup(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("pulling image {remote}")), "{err}");
    docker(&["image", "inspect", &remote]);
    let again = setup(&["--dry-run"]);
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(
        said.contains("(Java 17)") && said.contains("nothing to change"),
        "{said}"
    );
    env.ok(&["teardown"]);
    let _ = Command::new("docker").args(["rmi", &remote]).output();
}

/// `--backend auto` (the default) picks docker where an Engine answers (systemd is not PID 1
/// here); under docker a changed setting recreates only the container it touches.
#[test]
fn auto_picks_docker_and_a_changed_setting_recreates_only_that_container() {
    let env = TestEnv::new();
    let image = image();
    let config = env.root().join("kafka-heap.toml");
    std::fs::write(&config, "kafka_heap = \"768m\"\n").unwrap();
    let args = [
        "setup",
        "--mode",
        "zookeeper",
        "--no-selftest",
        "--image",
        &image,
    ];
    let out = env.run(&args);
    assert!(out.status.success(), "setup with --backend auto failed");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("runner: docker (auto: "), "{said}");
    let (zookeeper, kafka) = (container_id(&env, "zookeeper"), container_id(&env, "kafka"));
    assert!(
        !zookeeper.is_empty() && !kafka.is_empty(),
        "both are containers"
    );

    let changed = [&["--config", config.to_str().unwrap()][..], &args].concat();
    let out = env.run(&changed);
    assert!(out.status.success(), "setup with a new Kafka heap failed");
    assert_eq!(
        container_id(&env, "zookeeper"),
        zookeeper,
        "ZooKeeper's container kept"
    );
    let recreated = container_id(&env, "kafka");
    assert!(
        !recreated.is_empty() && recreated != kafka,
        "Kafka's container recreated"
    );
    let cmd = docker_text(&["inspect", "-f", "{{json .Config.Cmd}}", &recreated]);
    assert!(cmd.contains("-Xmx768m"), "the new heap is in effect: {cmd}");
    env.ok(&["teardown", "--purge"]);
}

/// Where no Engine answers (and systemd is not PID 1), `--backend auto` runs processes.
#[test]
fn auto_picks_process_where_no_engine_answers() {
    let env = TestEnv::new();
    let dead = env.root().join("no-engine.sock");
    let args = ["setup", "--mode", "kraft", "--no-selftest"];
    let out = env
        .kafkup(&args)
        .env("DOCKER_HOST", format!("unix://{}", dead.display()))
        .output()
        .unwrap();
    let out = crate::env::echo(&args, out);
    assert!(out.status.success(), "setup with --backend auto failed");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("runner: process (auto: "), "{said}");
    assert!(
        said.contains("no-engine.sock"),
        "says why (the Engine at DOCKER_HOST): {said}"
    );
    let (code, status) = env.status_json();
    assert_eq!(code, 0, "{status:#}");
    assert!(
        env.root().join("state/run/kafka.pid").is_file(),
        "a process runs Kafka"
    );
}

/// Three brokers in containers on the environment's network, each published on its own
/// loopback port: every node ready, a replication-3 topic read back through each broker, and
/// nothing of the environment left after `teardown --purge`.
fn three_brokers_under_docker(mode: &str, extra: &[&str], nodes: &[(&str, &str)]) {
    use crate::cluster::{assert_all_ready, assert_replicated_through_every_broker};
    let env = TestEnv::cluster();
    setup(&env, mode, &[&["--brokers", "3"], extra].concat());
    assert_all_ready(&env, nodes);
    let (containers, volumes, _) = labelled(&env);
    assert_eq!(
        (containers.len(), volumes.len()),
        (nodes.len(), nodes.len())
    );
    assert_replicated_through_every_broker(&env);
    env.ok(&["teardown", "--purge"]);
    assert_eq!(labelled(&env), (vec![], vec![], vec![]), "all gone");
}

#[test]
fn three_kraft_brokers_under_docker() {
    let brokers = crate::cluster::THREE_BROKERS;
    three_brokers_under_docker("kraft", &[], &brokers);
}

#[test]
fn three_brokers_on_a_zookeeper_ensemble_under_docker() {
    let _ensemble = crate::env::one_ensemble_at_a_time();
    let nodes = crate::cluster::ENSEMBLE_AND_THREE_BROKERS;
    three_brokers_under_docker("zookeeper", &["--zookeepers", "3"], &nodes);
}

/// Snapshots and `upgrade` under docker: the data in the volumes is copied as the Engine keeps
/// it; KRaft 4.3.2 → 4.4.0 rolls the container onto the new release; the snapshot taken before
/// is the way back (restored into 4.4.0, then `setup --kafka-version 4.3.2` is allowed again).
#[test]
fn an_upgrade_under_docker_and_its_snapshot_as_the_way_back() {
    let env = TestEnv::new();
    setup(
        &env,
        "kraft",
        &["--kafka-version", "4.3.2", "--no-selftest"],
    );
    let first = lines("first", 10);
    kcat_produce(&env.bootstrap(), "kept", &first);
    let out = env.run(&["upgrade", "--kafka-version", "4.4.0", "--no-finalize"]);
    let said = crate::env::output_text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("saved snapshot before-kafka-4.4.0"), "{said}");
    assert!(said.contains("nothing lost:"), "{said}");
    assert!(!said.contains("metadata.version raised"), "{said}");
    let id = container_id(&env, "kafka");
    let format = "{{json .Config.Entrypoint}} {{json .Config.Cmd}}";
    let command = docker_text(&["inspect", "-f", format, &id]);
    assert!(command.contains("kafka_2.13-4.4.0"), "{command}");

    kcat_produce(&env.bootstrap(), "kept", &lines("later", 5));
    env.ok(&["snapshot", "restore", "before-kafka-4.4.0"]);
    assert_eq!(kcat_consume_all(&env.bootstrap(), "kept"), first);
    env.ok(&["setup", "--kafka-version", "4.3.2", "--no-selftest"]);
    assert_eq!(kcat_consume_all(&env.bootstrap(), "kept"), first);
    env.ok(&["teardown", "--purge"]);
    let (containers, volumes, _) = labelled(&env);
    assert!(
        containers.is_empty() && volumes.is_empty(),
        "{containers:?} {volumes:?}"
    );
}

/// `migrate --to kraft` under docker: a controller container joins on the environment's
/// network, a rollback from the middle removes it and its volume, the migration run again
/// retires the ZooKeeper container and keeps its volume; the messages stay.
#[test]
fn a_migration_under_docker_rolls_back_and_then_retires_zookeeper() {
    let env = TestEnv::new();
    setup(&env, "zookeeper", &["--no-selftest"]);
    let first = lines("first", 10);
    kcat_produce(&env.bootstrap(), "kept", &first);

    crate::migrate::migrate_killed_at(&env, "kraft");
    let back = env.run(&["migrate", "--rollback"]);
    assert!(back.status.success(), "{}", crate::env::output_text(&back));
    assert!(
        container_id(&env, "controller").is_empty(),
        "the controller container went"
    );
    let (_, volumes, _) = labelled(&env);
    assert_eq!(
        volumes.len(),
        2,
        "ZooKeeper's and the broker's volumes: {volumes:?}"
    );
    assert_eq!(kcat_consume_all(&env.bootstrap(), "kept"), first);

    let out = env.run(&["migrate", "--to", "kraft", "--no-snapshot"]);
    let said = crate::env::output_text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        container_id(&env, "zookeeper").is_empty(),
        "the ZooKeeper container went"
    );
    let (_, volumes, _) = labelled(&env);
    assert_eq!(volumes.len(), 3, "ZooKeeper's volume is kept: {volumes:?}");
    assert_eq!(kcat_consume_all(&env.bootstrap(), "kept"), first);
    env.ok(&["teardown", "--purge"]);
    let (containers, volumes, _) = labelled(&env);
    assert!(
        containers.is_empty() && volumes.is_empty(),
        "{containers:?} {volumes:?}"
    );
}
