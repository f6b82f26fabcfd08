//! The Ubuntu path under a real systemd: a container whose PID 1 is systemd
//! (`scripts/systemd-container.sh`, image from `scripts/test-images.sh`), kafkup installed in it
//! from the `.deb` with apt, `kafkup setup` as root with the default paths. The network is the
//! host's, so the host's kcat reads what the services inside serve on 127.0.0.1.
//!
//! Needs `KAFKUP_DEB` (the package `scripts/test.sh` builds) and a running Docker Engine; a
//! missing one fails the test: nothing here is skipped silently.

use crate::env::{fixtures_dir, free_port, kcat_consume_all, kcat_produce, lines, port_open};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const UNITS: [&str; 2] = ["kafkup-zookeeper.service", "kafkup-kafka.service"];

/// One systemd container, removed when dropped.
struct Machine {
    name: String,
    mirror: String,
    kafka_port: u16,
    zookeeper_port: u16,
    controller_port: u16,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/systemd-container.sh")
}

use crate::env::output_text as text;

impl Machine {
    /// Boots the container and installs the .deb with apt, as a user would.
    fn boot(tag: &str) -> Machine {
        let deb = PathBuf::from(std::env::var("KAFKUP_DEB").expect(
            "KAFKUP_DEB names the kafkup .deb to install (scripts/test.sh builds it with cargo deb)",
        ));
        assert!(deb.is_file(), "{} is missing", deb.display());
        let mirror = fixtures_dir().join("mirror");
        let name = format!("kafkup-it-{tag}-{}", std::process::id());
        let out = Command::new(script())
            .args(["start", &name])
            .arg(deb.parent().unwrap())
            .arg(&mirror)
            .output()
            .unwrap();
        assert!(out.status.success(), "booting {name}: {}", text(&out));
        let machine = Machine {
            name,
            mirror: format!("file://{}", mirror.display()),
            kafka_port: free_port(),
            zookeeper_port: free_port(),
            controller_port: free_port(),
        };
        let deb = deb.display().to_string();
        let out = machine.exec(&["apt-get", "install", "-y", "-qq", &deb]);
        assert!(
            out.status.success(),
            "apt install ./kafkup.deb: {}",
            text(&out)
        );
        machine
    }

    fn exec(&self, args: &[&str]) -> Output {
        let out = Command::new("timeout")
            .args(["300", "docker", "exec", &self.name])
            .args(args)
            .output()
            .unwrap();
        eprintln!(
            "[{}]$ {} -> {}\n{}",
            self.name,
            args.join(" "),
            out.status,
            text(&out)
        );
        out
    }

    /// The fixture mirror and this machine's ports, as `NAME=VALUE`.
    fn kafkup_env(&self) -> [String; 5] {
        [
            format!("KAFKUP_MIRROR={}", self.mirror),
            format!("KAFKUP_DIST={}", self.mirror),
            format!("KAFKUP_KAFKA_PORT={}", self.kafka_port),
            format!("KAFKUP_ZOOKEEPER_PORT={}", self.zookeeper_port),
            format!("KAFKUP_CONTROLLER_PORT={}", self.controller_port),
        ]
    }

    /// `kafkup ARGS` as root inside, with the fixture mirror and this machine's ports.
    fn kafkup(&self, args: &[&str]) -> Output {
        let env = self.kafkup_env();
        let mut cmd = vec!["env"];
        cmd.extend(env.iter().map(String::as_str));
        cmd.push("kafkup");
        cmd.extend_from_slice(args);
        self.exec(&cmd)
    }

    /// `kafkup ARGS` on a terminal (a pty from `script`) that types `answer` and Enter.
    fn kafkup_on_a_terminal(&self, args: &str, answer: &str) -> Output {
        let command = format!("env {} kafkup {args}", self.kafkup_env().join(" "));
        let script = format!("printf '{answer}\\n' | script -qec '{command}' /dev/null");
        self.exec(&["sh", "-c", &script])
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.kafkup(args);
        assert!(out.status.success(), "kafkup {} failed", args.join(" "));
        text(&out)
    }

    fn sh(&self, script: &str) -> String {
        let out = self.exec(&["sh", "-c", script]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn main_pid(&self, unit: &str) -> u32 {
        self.sh(&format!("systemctl show -p MainPID --value {unit}"))
            .parse()
            .unwrap()
    }

    fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.kafka_port)
    }

    fn cluster_id(&self) -> String {
        let out = self.kafkup(&["status", "--json"]);
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        status["cluster_id"]
            .as_str()
            .expect("a cluster id")
            .to_string()
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = Command::new(script()).args(["stop", &self.name]).output();
    }
}

fn units(mode: &str) -> Vec<&'static str> {
    match mode {
        "zookeeper" => UNITS.to_vec(),
        _ => vec![UNITS[1]],
    }
}

/// Under a real systemd, in both modes: setup, kill, recover, idempotence, teardown, reuse,
/// purge — with the hardening of the units measured live.
fn under_systemd(mode: &str) {
    let m = Machine::boot(mode);
    let said = m.ok(&["setup", "--mode", mode]);
    assert!(
        said.contains("runner: systemd (auto: systemd is PID 1 and we are root)"),
        "{said}"
    );
    assert!(said.contains("self-test passed"), "{said}");
    render_is_the_install(&m, mode);
    for unit in units(mode) {
        assert_eq!(m.sh(&format!("systemctl is-active {unit}")), "active");
        assert_eq!(m.sh(&format!("systemctl is-enabled {unit}")), "enabled");
        let user = m.sh(&format!(
            "ps -o user= -p $(systemctl show -p MainPID --value {unit})"
        ));
        assert_eq!(user, "kafkup", "{unit} runs as the service user");
        let (cmd, _) = class_archive_of(&m, unit);
        assert!(
            cmd.contains("-XX:ArchiveClassesAtExit="),
            "{unit} records: {cmd}"
        );
    }
    check_hardening(&m, mode);

    // An independent client on the host; a broker SIGKILLed under a running producer comes
    // back through systemd, and every message the producer had acknowledged is there.
    let sent = lines("systemd", 200);
    kcat_produce(&m.bootstrap(), "acked", &sent);
    assert_eq!(kcat_consume_all(&m.bootstrap(), "acked"), sent);
    kill_under_a_running_producer(&m);
    logs_follow(&m);

    // A second setup restarts nothing.
    let pids: Vec<u32> = units(mode).iter().map(|u| m.main_pid(u)).collect();
    let said = m.ok(&["setup", "--mode", mode]);
    assert!(said.contains("nothing to change"), "{said}");
    let again: Vec<u32> = units(mode).iter().map(|u| m.main_pid(u)).collect();
    assert_eq!(pids, again, "the second setup kept every MainPID");
    if mode == "zookeeper" {
        changed_settings_restart_what_they_touch(&m);
    }

    // teardown: no unit of kafkup's left, data kept; setup reuses it.
    let cluster = m.cluster_id();
    m.ok(&["teardown"]);
    assert_eq!(m.sh("find /etc/systemd -name 'kafkup-*' | wc -l"), "0");
    assert_eq!(
        m.sh("systemctl list-units --all --plain --no-legend 'kafkup-*' | wc -l"),
        "0"
    );
    assert_eq!(
        m.sh("test -d /var/lib/kafkup/data/kafka && echo kept"),
        "kept"
    );
    m.ok(&["setup", "--mode", mode, "--no-selftest"]);
    assert_eq!(m.cluster_id(), cluster, "the data was reused");
    // teardown stopped the services cleanly: their archives are written and now mapped.
    for unit in units(mode) {
        let (cmd, mapped) = class_archive_of(&m, unit);
        assert!(mapped, "{unit} maps its archive: {cmd}");
    }

    // --purge: no unit, no user kafkup made, no data, nothing listening.
    m.ok(&["teardown", "--purge"]);
    assert_eq!(m.sh("find /etc/systemd -name 'kafkup-*' | wc -l"), "0");
    assert_eq!(m.sh("getent passwd kafkup || echo gone"), "gone");
    assert_eq!(
        m.sh("ls /var/lib/kafkup /etc/kafkup /opt/kafkup 2>/dev/null | wc -l"),
        "0"
    );
    assert!(!port_open(m.kafka_port) && !port_open(m.zookeeper_port));
    not_root_is_refused(&m);
}

/// A unit's JVM command line, and whether the JVM mapped the archive it names.
fn class_archive_of(m: &Machine, unit: &str) -> (String, bool) {
    let pid = m.main_pid(unit);
    let cmd = m.sh(&format!("tr '\\0' ' ' < /proc/{pid}/cmdline"));
    let used = cmd
        .split(' ')
        .find_map(|a| a.strip_prefix("-XX:SharedArchiveFile="));
    let mapped =
        used.is_some_and(|u| m.sh(&format!("grep -c '{u}' /proc/{pid}/maps || true")) != "0");
    (cmd, mapped)
}

/// `systemd-analyze verify` says nothing about our units; `security` scores each, live.
/// `render --backend systemd` inside the machine writes exactly what setup installed there.
fn render_is_the_install(m: &Machine, mode: &str) {
    let out = m.kafkup(&[
        "--json",
        "render",
        "--backend",
        "systemd",
        "--mode",
        mode,
        "--out",
        "/root/rendered",
    ]);
    assert!(out.status.success(), "render: {}", text(&out));
    let rendered: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let manifest = m.sh("cat /var/lib/kafkup/state/manifest.json");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let digest = |p: &str| m.sh(&format!("sha256sum < '{p}'"));
    crate::env::assert_render_is_the_install(&rendered, &manifest, &digest);
}

fn check_hardening(m: &Machine, mode: &str) {
    let files: Vec<String> = units(mode)
        .iter()
        .map(|u| format!("/etc/systemd/system/{u}"))
        .collect();
    let verify = m.sh(&format!("systemd-analyze verify {} 2>&1", files.join(" ")));
    let complaints: Vec<&str> = verify.lines().filter(|l| l.contains("kafkup-")).collect();
    assert!(complaints.is_empty(), "systemd-analyze verify: {verify}");
    for unit in units(mode) {
        let line = m.sh(&format!(
            "systemd-analyze security --no-pager {unit} | tail -1"
        ));
        let score: f64 = line
            .split(": ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no score in {line:?}"));
        eprintln!("live exposure of {unit} ({mode} mode): {score}");
        assert!(score <= 1.5, "{unit}: {line}");
    }
}

/// `kafkup produce` (acks=all, idempotent) runs on the host, a line every 20 ms, while the
/// broker is SIGKILLed and systemd restarts it; the producer exits 0 only once every line was
/// acknowledged, and then every line is on the topic, once and in order.
fn kill_under_a_running_producer(m: &Machine) {
    use std::io::Write;
    let mut producer = Command::new(assert_cmd::cargo::cargo_bin("kafkup"));
    producer
        .args([
            "produce",
            "during-kill",
            "--bootstrap-server",
            &m.bootstrap(),
        ])
        .args(["--delivery-timeout", "120", "-q"])
        .stdin(std::process::Stdio::piped());
    crate::env::scrub(&mut producer, std::env::vars_os());
    let mut producer = producer.spawn().unwrap();
    let mut stdin = producer.stdin.take().unwrap();
    let mut sent = Vec::new();
    let mut send_for = |how_long: Duration, sent: &mut Vec<String>| {
        let until = Instant::now() + how_long;
        while Instant::now() < until {
            let line = format!("во время сбоя {}", sent.len());
            writeln!(stdin, "{line}").unwrap();
            sent.push(line);
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    send_for(Duration::from_secs(2), &mut sent);
    let killed = m.main_pid(UNITS[1]);
    m.sh("systemctl kill -s KILL kafkup-kafka.service");
    // Lines keep coming while the broker is down and while it starts again.
    send_for(Duration::from_secs(3), &mut sent);
    wait_ready(m);
    send_for(Duration::from_secs(2), &mut sent);
    drop(stdin);
    let status = crate::env::wait_exit(&mut producer, Duration::from_secs(150));
    assert!(status.success(), "every line was acknowledged: {status}");
    assert_ne!(m.main_pid(UNITS[1]), killed, "systemd restarted the broker");
    assert_eq!(kcat_consume_all(&m.bootstrap(), "during-kill"), sent);
}

/// `kafkup logs kafka -f` under systemd (journalctl): a line the broker writes after it
/// started appears, and Ctrl-C — SIGINT to its process group, as a terminal sends it — ends
/// it, its journalctl included.
fn logs_follow(m: &Machine) {
    let mut child = Command::new("timeout")
        .args(["120", "docker", "exec", &m.name, "setsid", "-w", "sh", "-c"])
        .arg("echo $$; exec kafkup logs kafka -f -n 3")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = crate::env::Lines::new(child.stdout.take().unwrap());
    let group = out.wait_for("", Duration::from_secs(30));
    // The last lines come first: from then on it follows.
    out.wait_for("", Duration::from_secs(30));
    let topic = format!("follow-{}", std::process::id());
    m.ok(&["topic", "create", &topic]);
    out.wait_for(&topic, Duration::from_secs(60));
    m.exec(&["sh", "-c", &format!("kill -s INT -- -{group}")]);
    let status = crate::env::wait_exit(&mut child, Duration::from_secs(15));
    eprintln!("logs -f after Ctrl-C: {status}");
    let left = m.sh(&format!("pgrep -g {group} || echo none"));
    assert_eq!(left, "none", "a process of `logs -f` outlived Ctrl-C");
}

/// Bounded: the broker is back within 90 s.
fn wait_ready(m: &Machine) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !m.kafkup(&["probe", "--wait", "20"]).status.success() {
        assert!(Instant::now() < deadline, "the broker did not come back");
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// A Kafka setting restarts only Kafka; a ZooKeeper setting both (Requires=), as the dry
/// run says.
fn changed_settings_restart_what_they_touch(m: &Machine) {
    m.sh("printf 'zookeeper_heap = \"384m\"\\n' > /root/zk.toml");
    let dry = m.ok(&[
        "--config",
        "/root/zk.toml",
        "setup",
        "--mode",
        "zookeeper",
        "--dry-run",
    ]);
    let zk_line = dry
        .lines()
        .find(|l| l.starts_with("  restart   zookeeper:"))
        .unwrap_or("");
    assert!(
        zk_line.contains("-Xms512m -Xmx512m → -Xms384m -Xmx384m"),
        "{dry}"
    );
    assert!(
        dry.contains("restart   kafka: zookeeper, which it requires, restarts"),
        "{dry}"
    );

    m.sh("printf 'kafka_heap = \"768m\"\\n' > /root/kafka.toml");
    let zk = m.main_pid(UNITS[0]);
    let kafka = m.main_pid(UNITS[1]);
    let config = ["--config", "/root/kafka.toml"];
    let said = m.ok(&[
        &config[..],
        &["setup", "--mode", "zookeeper", "--no-selftest"],
    ]
    .concat());
    assert!(said.contains("kafka will be restarted"), "{said}");
    assert_eq!(m.main_pid(UNITS[0]), zk, "ZooKeeper untouched");
    assert_ne!(m.main_pid(UNITS[1]), kafka, "Kafka restarted");
    let cmdline = m.sh(
        "tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value kafkup-kafka.service)/cmdline",
    );
    assert!(cmdline.contains("-Xmx768m"), "{cmdline}");
    // Back to the defaults for the rest of the test (a restart again).
    m.ok(&["setup", "--mode", "zookeeper", "--no-selftest"]);
}

fn not_root_is_refused(m: &Machine) {
    let out = m.exec(&[
        "runuser",
        "-u",
        "nobody",
        "--",
        "kafkup",
        "--root",
        "/srv/x",
        "setup",
        "--backend",
        "systemd",
    ]);
    assert_eq!(out.status.code(), Some(2), "usage error");
    let said = text(&out);
    assert!(
        said.contains("need root") && said.contains("sudo"),
        "{said}"
    );
}

#[test]
fn zookeeper_mode_under_systemd() {
    under_systemd("zookeeper");
}

#[test]
fn kraft_mode_under_systemd() {
    under_systemd("kraft");
}

/// `kill`, `pause` and `resume` through systemd: a killed broker is restarted by systemd
/// itself (Restart=on-failure); a paused one is frozen until `resume`; teardown of a paused
/// broker stops it cleanly and leaves no unit (systemd itself sends SIGCONT after SIGTERM, so
/// this holds even without kafkup's own resume before a stop).
#[test]
fn kill_pause_and_resume_under_systemd() {
    use crate::nodes::{answers_within, metadata_answers};
    let m = Machine::boot("nodes");
    m.ok(&["setup", "--mode", "kraft", "--no-selftest"]);
    let unit = UNITS[1];
    let pid = m.main_pid(unit);
    m.ok(&["pause", "kafka"]);
    let out = m.kafkup(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        status["services"][0]["state"]["state"], "paused",
        "{status:#}"
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(
        !metadata_answers(&m.bootstrap()),
        "a paused broker answers nothing"
    );
    m.ok(&["resume", "kafka"]);
    assert!(answers_within(&m.bootstrap(), Duration::from_secs(30)));
    assert_eq!(m.main_pid(unit), pid, "the same process goes on");

    m.ok(&["kill", "kafka"]);
    wait_ready(&m);
    assert_ne!(m.main_pid(unit), pid, "systemd restarted the broker");

    m.ok(&["pause", "kafka"]);
    let said = m.ok(&["teardown", "--purge"]);
    assert!(!said.contains("killed"), "stopped, not killed: {said}");
    let stopped = said.lines().any(|l| l.ends_with("kafka stopped"));
    assert!(stopped, "stopped cleanly: {said}");
    let left = m.sh("systemctl list-units --all --no-legend 'kafkup-*' | wc -l");
    assert_eq!(left, "0", "no unit is left");
}

/// No Java in the machine. On a terminal setup asks: "no" stops it and apt-get never runs,
/// "yes" has the real apt-get install the JRE from Debian's packages (the container shares the
/// host's network) and setup goes on; without a terminal `--install-java` does the same.
#[test]
fn a_missing_java_is_installed_by_the_real_apt_get_when_asked() {
    let m = Machine::boot("java");
    let jre = "openjdk-17-jre-headless";
    let installed = || m.exec(&["dpkg", "-s", jre]).status.success();
    let purge = || {
        let out = m.exec(&["apt-get", "purge", "-y", "-qq", jre]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!installed(), "{jre} is gone");
    };
    purge();
    let setup = "setup --mode kraft --no-selftest";
    let out = m.kafkup_on_a_terminal(setup, "n");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("install {jre} with apt-get now? [y/N]")),
        "{said}"
    );
    assert!(said.contains("pass --install-java"), "{said}");
    assert!(!installed(), "no answer, no apt-get");

    let out = m.kafkup_on_a_terminal(setup, "y");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains(&format!("installing {jre} with apt-get")),
        "{said}"
    );
    assert!(installed(), "apt-get installed {jre}");
    assert!(
        m.kafkup(&["probe"]).status.success(),
        "the broker runs on it"
    );

    m.ok(&["teardown", "--purge"]);
    purge();
    m.ok(&[
        "setup",
        "--mode",
        "kraft",
        "--no-selftest",
        "--install-java",
    ]);
    assert!(installed(), "--install-java installed {jre}");
}

/// The binary the .deb ships must run on Ubuntu 22.04 (glibc 2.35) and later.
#[test]
fn the_packaged_binary_needs_no_glibc_newer_than_2_35() {
    let deb = PathBuf::from(std::env::var("KAFKUP_DEB").expect("KAFKUP_DEB is set"));
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let bin = dir.path().join("usr/bin/kafkup");
    let out = Command::new("objdump")
        .arg("-T")
        .arg(&bin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "objdump (binutils) reads the binary: {}",
        text(&out)
    );
    let symbols = String::from_utf8_lossy(&out.stdout);
    let newest = symbols
        .split("GLIBC_")
        .skip(1)
        .filter_map(|rest| {
            let v: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            Some((parts.next()?, parts.next().unwrap_or(0)))
        })
        .max()
        .expect("the binary links glibc");
    eprintln!("newest glibc symbol version: {}.{}", newest.0, newest.1);
    assert!(newest <= (2, 35), "needs GLIBC_{}.{}", newest.0, newest.1);
    let control = Command::new("dpkg-deb")
        .arg("-f")
        .arg(&deb)
        .arg("Depends")
        .output()
        .unwrap();
    let depends = String::from_utf8_lossy(&control.stdout);
    assert!(depends.contains("libc6"), "Depends names libc6: {depends}");
}

/// One broker under systemd grown to three: `kafkup-kafka` gives way to `kafkup-kafka-1`
/// with its data, each broker its own hardened unit; a SIGKILLed broker comes back through
/// systemd; `teardown --purge` leaves no unit, no data and nothing listening.
#[test]
fn a_broker_grown_to_three_under_systemd() {
    let mut m = Machine::boot("cluster");
    m.kafka_port = crate::env::free_ports(8);
    m.controller_port = m.kafka_port + 4;
    let sent = lines("grown", 30);
    m.ok(&["setup", "--mode", "kraft", "--no-selftest"]);
    kcat_produce(&m.bootstrap(), "before", &sent);
    let said = m.ok(&["setup", "--mode", "kraft", "--brokers", "3"]);
    assert!(said.contains("self-test passed"), "{said}");
    assert_eq!(
        m.sh("ls /etc/systemd/system | grep -c '^kafkup-kafka.service' || true"),
        "0"
    );
    let units = [
        "kafkup-kafka-1.service",
        "kafkup-kafka-2.service",
        "kafkup-kafka-3.service",
    ];
    for unit in units {
        assert_eq!(m.sh(&format!("systemctl is-active {unit}")), "active");
        let user = m.sh(&format!("ps -o user= -p {}", m.main_pid(unit)));
        assert_eq!(user, "kafkup", "{unit} runs as the service user");
    }
    for i in 0..3 {
        let broker = format!("127.0.0.1:{}", m.kafka_port + i);
        assert_eq!(
            kcat_consume_all(&broker, "before"),
            sent,
            "through {broker}"
        );
    }
    let killed = m.main_pid(units[1]);
    m.sh("systemctl kill -s KILL kafkup-kafka-2.service");
    let deadline = Instant::now() + Duration::from_secs(60);
    while [0, killed].contains(&m.main_pid(units[1])) {
        assert!(Instant::now() < deadline, "systemd did not restart kafka-2");
        std::thread::sleep(Duration::from_millis(500));
    }
    wait_ready(&m);

    m.ok(&["teardown", "--purge"]);
    assert_eq!(m.sh("find /etc/systemd -name 'kafkup-*' | wc -l"), "0");
    assert_eq!(m.sh("ls /var/lib/kafkup 2>/dev/null | wc -l"), "0");
    assert!((0..3).all(|i| !port_open(m.kafka_port + i)));
}

/// Three brokers on a three-server ZooKeeper ensemble under systemd: six units, each active as
/// the service user; kcat reads a replication-3 topic back through every broker.
#[test]
fn three_brokers_on_an_ensemble_under_systemd() {
    let _ensemble = crate::env::one_ensemble_at_a_time();
    let mut m = Machine::boot("ensemble");
    m.kafka_port = crate::env::free_ports(8);
    m.controller_port = m.kafka_port + 4;
    m.zookeeper_port = crate::env::free_ports(3);
    let args = [
        "setup",
        "--mode",
        "zookeeper",
        "--brokers",
        "3",
        "--zookeepers",
        "3",
    ];
    let said = m.ok(&args);
    assert!(said.contains("self-test passed"), "{said}");
    for unit in [
        "zookeeper-1",
        "zookeeper-2",
        "zookeeper-3",
        "kafka-1",
        "kafka-2",
        "kafka-3",
    ] {
        let unit = format!("kafkup-{unit}.service");
        assert_eq!(m.sh(&format!("systemctl is-active {unit}")), "active");
        let user = m.sh(&format!("ps -o user= -p {}", m.main_pid(&unit)));
        assert_eq!(user, "kafkup", "{unit} runs as the service user");
    }
    let topic = ["topic", "create", "replicated", "--partitions", "3"];
    m.ok(&[&topic[..], &["--replication-factor", "3"]].concat());
    let sent = lines("ensemble", 30);
    kcat_produce(&m.bootstrap(), "replicated", &sent);
    for i in 0..3 {
        let broker = format!("127.0.0.1:{}", m.kafka_port + i);
        let mut got = kcat_consume_all(&broker, "replicated");
        got.sort();
        let mut want = sent.clone();
        want.sort();
        assert_eq!(got, want, "through {broker}");
    }
    m.ok(&["teardown", "--purge"]);
    assert_eq!(m.sh("find /etc/systemd -name 'kafkup-*' | wc -l"), "0");
}

/// tls, mtls and scram in turn under systemd (ZooKeeper mode, where Debian's kcat logs in
/// with SCRAM), with kcat inside the machine: each keeps every message and refuses plaintext;
/// mtls refuses a client without a certificate, scram a wrong password. The node's key and
/// JAAS file belong to root and the service user's group, 0640; the users are written into
/// ZooKeeper by the config tool run as the service user; `teardown --purge` removes the CA.
#[test]
fn tls_mtls_and_scram_in_turn_under_systemd() {
    let m = Machine::boot("secured");
    let config = "/etc/kafkup/clients/developer/librdkafka.conf";
    let refused = |file: &str| {
        let script = format!("kcat -F {file} -L -m 8 >/dev/null 2>&1; echo $?");
        assert_ne!(m.sh(&script), "0", "{file} was let in");
    };
    let plain = format!(
        "echo bootstrap.servers={} > /root/plain.conf",
        m.bootstrap()
    );
    m.sh(&plain);
    for security in ["tls", "mtls", "scram"] {
        m.ok(&["setup", "--mode", "zookeeper", "--security", security]);
        m.sh(&format!(
            "echo {security} | kcat -F {config} -P -t kept -X acks=all"
        ));
        refused("/root/plain.conf");
        if security == "mtls" {
            m.sh(&format!(
                "grep -v '^ssl.certificate\\|^ssl.key' {config} > /root/nocert.conf"
            ));
            refused("/root/nocert.conf");
        }
    }
    let got = m.sh(&format!("kcat -F {config} -C -t kept -o beginning -e -q"));
    assert_eq!(got, "tls\nmtls\nscram");
    for file in ["node.pem", "jaas.conf"] {
        let seen = m.sh(&format!("stat -c '%a %U %G' /etc/kafkup/kafka/tls/{file}"));
        assert_eq!(seen, "640 root kafkup", "{file}");
    }
    assert_eq!(m.sh("stat -c '%a' /var/lib/kafkup/state/secrets"), "700");
    m.sh(&format!(
        "sed 's/^sasl.password=.*/sasl.password=wrong/' {config} > /root/wrong.conf"
    ));
    refused("/root/wrong.conf");
    m.ok(&["teardown", "--purge"]);
    assert_eq!(m.sh("ls /var/lib/kafkup 2>/dev/null | wc -l"), "0");
}

/// doctor under systemd: healthy is all ok; a data directory handed to another owner is named
/// with the chown that fixes it.
#[test]
fn doctor_under_systemd() {
    let m = Machine::boot("doctor");
    m.ok(&["setup", "--mode", "kraft", "--no-selftest"]);
    let healthy = m.kafkup(&["doctor"]);
    assert!(healthy.status.success(), "{}", text(&healthy));
    // Stopped first: a running broker that meets root-owned files may die of it, or not.
    m.ok(&["stop", "kafka"]);
    m.sh("chown -R root:root /var/lib/kafkup/data/kafka");
    let out = m.kafkup(&["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out);
    assert!(
        said.contains("problem  owner of data kafka: /var/lib/kafkup/data/kafka belongs to root; kafka runs as kafkup"),
        "{said}"
    );
    assert!(
        said.contains("sudo chown -R kafkup: /var/lib/kafkup/data/kafka"),
        "{said}"
    );
    m.sh("chown -R kafkup:kafkup /var/lib/kafkup/data/kafka");
    m.ok(&["start", "--wait", "90"]);
    assert!(m.kafkup(&["doctor"]).status.success());
}

/// `upgrade` under systemd: KRaft 4.3.2 → 4.4.0 with the data kept, the unit restarted onto
/// the new release as the service user, and metadata.version raised when the user answers yes
/// on a terminal.
#[test]
fn an_upgrade_under_systemd_asks_before_raising_metadata_version() {
    let m = Machine::boot("upgrade");
    m.ok(&[
        "setup",
        "--mode",
        "kraft",
        "--kafka-version",
        "4.3.2",
        "--no-selftest",
    ]);
    let sent = lines("before-upgrade", 20);
    kcat_produce(&m.bootstrap(), "kept", &sent);
    let out = m.kafkup_on_a_terminal("upgrade --kafka-version 4.4.0", "y");
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("raise metadata.version from"),
        "asked: {said}"
    );
    assert!(said.contains("nothing lost:"), "{said}");
    assert!(said.contains("metadata.version raised from"), "{said}");
    let unit = UNITS[1];
    let exec = m.sh(&format!("systemctl show -p ExecStart --value {unit}"));
    assert!(exec.contains("kafka_2.13-4.4.0"), "{exec}");
    let user = m.sh(&format!("ps -o user= -p {}", m.main_pid(unit)));
    assert_eq!(user, "kafkup");
    assert_eq!(kcat_consume_all(&m.bootstrap(), "kept"), sent);
    let snapshots = m.ok(&["snapshot", "list"]);
    assert!(snapshots.contains("before-kafka-4.4.0"), "{snapshots}");
    m.ok(&["teardown", "--purge"]);
}

/// `migrate --to kraft` under systemd: the controller runs as a unit of the service user,
/// ZooKeeper's unit is removed once the migration is finalized (its data kept), the messages
/// stay, and `teardown --purge` leaves nothing.
#[test]
fn a_migration_under_systemd_retires_zookeepers_unit_and_keeps_its_data() {
    let m = Machine::boot("migrate");
    m.ok(&["setup", "--mode", "zookeeper", "--no-selftest"]);
    let sent = lines("before-migration", 20);
    kcat_produce(&m.bootstrap(), "kept", &sent);
    let out = m.kafkup(&["migrate", "--to", "kraft"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("nothing lost:"), "{said}");
    let controller = "kafkup-controller.service";
    assert_eq!(m.sh(&format!("systemctl is-active {controller}")), "active");
    let user = m.sh(&format!("ps -o user= -p {}", m.main_pid(controller)));
    assert_eq!(user, "kafkup");
    let zookeeper_unit = m.sh(&format!(
        "systemctl list-unit-files {} | grep -c kafkup",
        UNITS[0]
    ));
    assert_eq!(zookeeper_unit, "0", "ZooKeeper's unit is gone");
    assert_eq!(
        m.sh("test -d /var/lib/kafkup/data/zookeeper/version-2 && echo kept"),
        "kept"
    );
    assert_eq!(kcat_consume_all(&m.bootstrap(), "kept"), sent);
    m.ok(&["teardown", "--purge"]);
    assert_eq!(m.sh("ls /var/lib/kafkup 2>/dev/null | wc -l"), "0");
}
