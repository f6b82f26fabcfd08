//! An environment belongs to the user who made it. A user sets up under their home; root
//! (`sudo kafkup --root ~user/kroot …`) is refused for every command that would change it,
//! with the command to run instead; and kafkup reports nothing stopped or purged that it
//! has not checked: a pid file it cannot read is not "not running", and data is purged only
//! once nothing serves the environment's ports.

use crate::env::{echo, fixtures_dir, free_port, pid_alive, port_open};
use crate::mirror::MirrorServer;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A throw-away system user the test runs kafkup as, made when missing.
const USER: &str = "kafkup-it-owner";
/// Its home: not under /tmp (kafkup keeps no data there), and not under /root, which it
/// cannot enter.
const HOME: &str = "/var/lib/kafkup-it-owner";

fn the_user() -> nix::unistd::User {
    let find = || nix::unistd::User::from_name(USER).unwrap();
    if find().is_none() {
        let out = Command::new("useradd")
            .args(["--system", "--create-home", "--home-dir", HOME])
            .args(["--shell", "/usr/sbin/nologin", USER])
            .output()
            .expect("useradd is installed (passwd)");
        // A parallel test run may have made it meanwhile.
        assert!(out.status.success() || find().is_some(), "{out:?}");
    }
    find().unwrap()
}

/// An environment under the user's home, with kafkup copied where the user can run it and
/// the fixture mirror served on 127.0.0.1 (the fixtures live under /root).
struct UserEnv {
    base: tempfile::TempDir,
    root: PathBuf,
    bin: PathBuf,
    mirror: MirrorServer,
    ports: [u16; 3],
    kafka_pid: Option<u32>,
}

impl UserEnv {
    fn new() -> UserEnv {
        let user = the_user();
        let base = tempfile::Builder::new()
            .prefix("kafkup-it-")
            .tempdir_in(HOME)
            .unwrap();
        let bin = base.path().join("kafkup");
        std::fs::copy(assert_cmd::cargo::cargo_bin("kafkup"), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        nix::unistd::chown(base.path(), Some(user.uid), Some(user.gid)).unwrap();
        UserEnv {
            root: base.path().join("kroot"),
            base,
            bin,
            mirror: MirrorServer::serve(fixtures_dir().join("mirror")),
            ports: [free_port(), free_port(), free_port()],
            kafka_pid: None,
        }
    }

    /// kafkup as the user (`runuser`), or as root.
    fn run(&self, as_user: bool, args: &[&str]) -> Output {
        let mut cmd = match as_user {
            true => {
                let mut c = Command::new("runuser");
                c.args(["-u", USER, "--"]).arg(&self.bin);
                c
            }
            false => Command::new(&self.bin),
        };
        cmd.arg("--root")
            .arg(&self.root)
            .args(args)
            .current_dir(self.base.path())
            .env("KAFKUP_MIRROR", self.mirror.url())
            .env("KAFKUP_DIST", self.mirror.url())
            .env("KAFKUP_KAFKA_PORT", self.ports[0].to_string())
            .env("KAFKUP_ZOOKEEPER_PORT", self.ports[1].to_string())
            .env("KAFKUP_CONTROLLER_PORT", self.ports[2].to_string())
            .env_remove("KAFKUP_CONFIG")
            .env_remove("KAFKUP_ROOT");
        let mut cmd = assert_cmd::Command::from_std(cmd);
        cmd.timeout(std::time::Duration::from_secs(300));
        let who = if as_user { USER } else { "root" };
        let mut shown = vec![who];
        shown.extend(args);
        echo(&shown, cmd.output().unwrap())
    }

    fn pid_file(&self) -> PathBuf {
        self.root.join("state/run/kafka.pid")
    }

    fn data(&self) -> PathBuf {
        self.root.join("data/kafka")
    }

    fn kafka_alive(&self) -> bool {
        self.kafka_pid.is_some_and(pid_alive) && port_open(self.ports[0])
    }
}

impl Drop for UserEnv {
    /// Never leave the user's JVM behind, whatever the test did.
    fn drop(&mut self) {
        let _ = self.run(true, &["teardown", "--purge", "-q"]);
        if let Some(pid) = self.kafka_pid.filter(|p| pid_alive(*p)) {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn owner_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().uid()
}

#[test]
fn root_is_refused_on_a_users_environment_and_nothing_is_said_stopped_unchecked() {
    let env = UserEnv::new();
    let out = env.run(true, &["setup", "--mode", "kraft", "--backend", "process"]);
    assert!(out.status.success(), "the user sets up");
    let user = the_user().uid.as_raw();
    let pid: u32 = std::fs::read_to_string(env.pid_file())
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut env = env;
    env.kafka_pid = Some(pid);
    assert!(env.kafka_alive());

    // Root changes nothing, and says who to be instead.
    for command in [
        &["restart"][..],
        &["stop"],
        &["start"],
        &["teardown", "--purge"],
        &["setup", "--mode", "kraft"],
    ] {
        let out = env.run(false, command);
        assert_eq!(out.status.code(), Some(2), "root {command:?} is refused");
        let said = stderr(&out);
        assert!(said.contains(&format!("belongs to {USER}")), "{said}");
        assert!(said.contains(&format!("sudo -u {USER} ")), "{said}");
        assert!(env.kafka_alive(), "the user's broker still runs");
        assert_eq!(
            owner_of(&env.pid_file()),
            user,
            "its pid file is still the user's"
        );
        assert!(env.data().is_dir());
    }
    // Looking is fine.
    let out = env.run(false, &["status"]);
    assert!(out.status.success(), "root may look");

    // What an earlier root run left: a pid file the user cannot read. Unknown, not stopped.
    let pid_file = env.pid_file();
    let record = std::fs::read(&pid_file).unwrap();
    std::os::unix::fs::chown(&pid_file, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&pid_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = env.run(true, &["status"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "not ready: kafkup cannot manage it"
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!said.contains("not running"), "{said}");
    assert!(
        said.contains("unknown") && said.contains("unreadable"),
        "{said}"
    );
    for command in [&["stop"][..], &["teardown", "--purge"]] {
        let out = env.run(true, command);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{command:?} cannot tell, so it fails"
        );
        let said = stderr(&out);
        assert!(said.contains("cannot tell whether kafka runs"), "{said}");
        assert!(
            said.contains("sudo "),
            "the help says to act as root: {said}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("stopped"));
        assert!(env.kafka_alive(), "{command:?} left the broker alone");
        assert!(env.data().is_dir(), "{command:?} deleted no data");
    }

    // A pid file that is gone while the broker runs: its port still answers, so nothing is
    // said stopped and nothing is purged.
    std::fs::remove_file(&pid_file).unwrap();
    for command in [&["stop"][..], &["teardown", "--purge"]] {
        let out = env.run(true, command);
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        assert!(
            stderr(&out).contains("still accepts connections"),
            "{}",
            stderr(&out)
        );
        assert!(env.kafka_alive());
        assert!(env.data().is_dir(), "{command:?} deleted no data");
    }

    // Back as it was, the user tears down: now it is gone, checked.
    std::fs::write(&pid_file, record).unwrap();
    std::os::unix::fs::chown(&pid_file, Some(user), None).unwrap();
    let out = env.run(true, &["teardown", "--purge"]);
    assert!(out.status.success());
    assert!(!pid_alive(pid) && !port_open(env.ports[0]));
    assert!(!env.data().exists());
}
