//! `kafkup fetch` against local mirrors: the real binary, real HTTP, real signatures (made at
//! test time), good and bad inputs. Every failure must exit with the documented code, say what
//! to do (`help:`), and leave nothing in the install and cache directories but a resumable
//! partial download after a network failure.

use crate::hostile::{good_tarball, hostile_tarball, Hostile, Release, TestSigner};
use crate::mirror::MirrorServer;
use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

const KAFKA_VERSION: &str = "4.1.7";

/// One key for the whole test binary: generating keys is the slow part.
fn signer() -> &'static TestSigner {
    static SIGNER: OnceLock<TestSigner> = OnceLock::new();
    SIGNER.get_or_init(|| TestSigner::new("release-manager"))
}

/// A kafkup root and an ASF-layout directory served by two servers: the mirror (tarballs)
/// and the dist site (checksums, signatures, KEYS), so each one's requests can be told apart.
struct FetchEnv {
    root: tempfile::TempDir,
    site: tempfile::TempDir,
    mirror: MirrorServer,
    dist: MirrorServer,
    release: Release,
}

impl FetchEnv {
    /// A signed, well-formed Kafka release.
    fn new() -> FetchEnv {
        let env = FetchEnv::empty();
        env.release.publish(
            env.site.path(),
            &good_tarball(&env.release.top_dir),
            Some(signer()),
        );
        env
    }

    /// A signed Kafka release whose tarball is `tarball`.
    fn with_tarball(tarball: &[u8]) -> FetchEnv {
        let env = FetchEnv::empty();
        env.release
            .publish(env.site.path(), tarball, Some(signer()));
        env
    }

    fn empty() -> FetchEnv {
        let site = tempfile::Builder::new()
            .prefix("kafkup-site-")
            .tempdir()
            .unwrap();
        FetchEnv {
            root: tempfile::Builder::new()
                .prefix("kafkup-fetch-")
                .tempdir()
                .unwrap(),
            mirror: MirrorServer::serve(site.path()),
            dist: MirrorServer::serve(site.path()),
            site,
            release: Release::kafka(KAFKA_VERSION),
        }
    }

    fn site(&self) -> &Path {
        self.site.path()
    }

    fn install(&self) -> PathBuf {
        self.root.path().join("install")
    }

    fn cache(&self) -> PathBuf {
        self.root.path().join("cache")
    }

    /// `kafkup --root R fetch --mode kraft --kafka-version V --mirror M --dist D EXTRA…`
    fn fetch(&self, extra: &[&str]) -> Output {
        let mut args = vec!["fetch", "--mode", "kraft", "--kafka-version", KAFKA_VERSION];
        let mirror = self.mirror.url();
        if !extra.contains(&"--mirror") {
            args.extend(["--mirror", &mirror]);
        }
        let dist = self.dist.url();
        args.extend(["--dist", &dist]);
        args.extend(extra);
        run(self.root.path(), &args)
    }

    fn tarball_requests(&self) -> Vec<crate::mirror::Request> {
        self.mirror.requests_for(&self.release.file_name)
    }

    /// Everything below the install and cache directories (directories included).
    fn leftovers(&self) -> Vec<PathBuf> {
        let mut found = walk(&self.install());
        found.extend(walk(&self.cache()));
        found
    }

    fn assert_nothing_left(&self) {
        assert_eq!(
            self.leftovers(),
            Vec::<PathBuf>::new(),
            "install and cache must be empty"
        );
    }

    /// Only the partial download may remain (with the directories that hold it).
    fn assert_only_partial_left(&self) -> PathBuf {
        let files: Vec<PathBuf> = self
            .leftovers()
            .into_iter()
            .filter(|p| p.is_file())
            .collect();
        assert_eq!(
            files.len(),
            1,
            "expected one partial download, found {files:?}"
        );
        assert!(files[0].starts_with(self.cache()), "{files:?}");
        assert!(
            files[0].to_string_lossy().ends_with(".tgz.partial"),
            "{files:?}"
        );
        files[0].clone()
    }
}

fn kafkup() -> Command {
    let mut cmd = Command::cargo_bin("kafkup").unwrap();
    for var in [
        "KAFKUP_CONFIG",
        "KAFKUP_ROOT",
        "KAFKUP_MIRROR",
        "KAFKUP_DIST",
        "KAFKUP_MODE",
        "KAFKUP_KAFKA_VERSION",
        "KAFKUP_ZOOKEEPER_VERSION",
    ] {
        cmd.env_remove(var);
    }
    cmd.timeout(std::time::Duration::from_secs(120));
    cmd
}

fn run(root: &Path, args: &[&str]) -> Output {
    let out = kafkup()
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    crate::env::echo(args, out)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                found.extend(walk(&path));
            }
            found.push(path);
        }
    }
    found.sort();
    found
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code `code`, an error mentioning every piece of `says`, and a `help:` line.
fn assert_failed(out: &Output, code: i32, says: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "exit code; stderr:\n{err}");
    for phrase in says {
        assert!(
            err.contains(phrase),
            "stderr should mention {phrase:?}:\n{err}"
        );
    }
    assert!(
        err.lines().any(|l| l.starts_with("help: ")),
        "stderr should say what to do (help:):\n{err}"
    );
}

fn assert_ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "kafkup fetch failed:\n{}",
        stderr(out)
    );
}

#[test]
fn fetches_verifies_and_unpacks_then_runs_again_offline() {
    let env = FetchEnv::new();
    let out = env.fetch(&[]);
    assert_ok(&out);
    let dir = env.install().join(&env.release.top_dir);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(dir.to_str().unwrap()),
        "prints the install dir"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("config/server.properties")).unwrap(),
        "broker.id=0\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("bin/start.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "executable bits are kept");
    assert_eq!(env.tarball_requests().len(), 1);
    // Checksum, signature and KEYS come from the dist site, never from the mirror.
    assert!(
        env.mirror
            .requests()
            .iter()
            .all(|r| r.path.ends_with(".tgz")),
        "{:?}",
        env.mirror.requests()
    );
    for suffix in [".tgz.sha512", ".tgz.asc", "kafka/KEYS"] {
        assert_eq!(
            env.dist.requests_for(suffix).len(),
            1,
            "{suffix}: {:?}",
            env.dist.requests()
        );
    }

    // Again: already installed and verified, no network at all.
    env.mirror.clear_log();
    env.dist.clear_log();
    assert_ok(&env.fetch(&[]));
    assert!(env.mirror.requests().is_empty() && env.dist.requests().is_empty());

    // Without the install, the cached tarball is used: the proofs are fetched, the tarball is not.
    std::fs::remove_dir_all(&dir).unwrap();
    assert_ok(&env.fetch(&[]));
    assert!(dir.join("bin/start.sh").is_file());
    assert!(
        env.tarball_requests().is_empty(),
        "{:?}",
        env.mirror.requests()
    );
}

#[test]
fn a_corrupt_cache_entry_is_detected_and_replaced() {
    let env = FetchEnv::new();
    assert_ok(&env.fetch(&[]));
    let cached: Vec<PathBuf> = walk(&env.cache())
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(cached.len(), 1);
    let mut bytes = std::fs::read(&cached[0]).unwrap();
    bytes[20] ^= 0xff;
    std::fs::write(&cached[0], bytes).unwrap();
    std::fs::remove_dir_all(env.install().join(&env.release.top_dir)).unwrap();

    let out = env.fetch(&[]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("corrupt"),
        "reports the corrupt cache entry:\n{}",
        stderr(&out)
    );
    assert_eq!(env.tarball_requests().len(), 2, "downloaded again");
    assert_eq!(
        std::fs::read(&cached[0]).unwrap(),
        std::fs::read(env.release.tarball_in(env.site())).unwrap()
    );
}

#[test]
fn checksum_mismatch_fails_and_leaves_nothing() {
    let env = FetchEnv::new();
    // The mirror serves other bytes than the ones the dist site's checksum describes.
    let mut other = good_tarball(&env.release.top_dir);
    other.extend(b"tampered");
    std::fs::write(env.release.tarball_in(env.site()), other).unwrap();
    let out = env.fetch(&["--no-verify-signature"]);
    assert_failed(
        &out,
        3,
        &["does not match its published SHA-512", "run again"],
    );
    env.assert_nothing_left();
}

#[test]
fn a_truncated_download_keeps_its_partial_and_the_next_run_resumes() {
    let tarball = big_tarball();
    let env = FetchEnv::with_tarball(&tarball);
    let mirror = MirrorServer::serve(env.site()).drop_after(100_000, 3);
    let out = env.fetch(&["--mirror", &mirror.url()]);
    assert_failed(&out, 1, &["could not download", &mirror.url(), "resumes"]);
    let partial = env.assert_only_partial_left();
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert!(kept >= 100_000, "kept {kept} bytes");
    let requests = mirror.requests();
    assert!(requests.len() > 1, "it tried again: {requests:?}");
    assert!(
        requests.iter().skip(1).all(|r| r.range.is_some()),
        "retries resume: {requests:?}"
    );

    let out = env.fetch(&["--mirror", &mirror.url()]);
    assert_ok(&out);
    let last = mirror.requests().last().cloned().unwrap();
    assert_eq!(last.range, Some(format!("bytes={kept}-")));
    assert_eq!(last.status, 206);
    assert!(!partial.exists(), "the partial became the cached file");
    assert!(env
        .install()
        .join(&env.release.top_dir)
        .join("libs/big.bin")
        .is_file());
}

#[test]
fn a_dropped_connection_is_resumed_within_the_run() {
    let env = FetchEnv::with_tarball(&big_tarball());
    let mirror = MirrorServer::serve(env.site()).drop_after(150_000, 1);
    assert_ok(&env.fetch(&["--mirror", &mirror.url()]));
    let requests = mirror.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1].range.as_deref(), Some("bytes=150000-"));
}

#[test]
fn a_server_that_ignores_range_restarts_cleanly_from_zero() {
    let env = FetchEnv::with_tarball(&big_tarball());
    let mirror = MirrorServer::serve(env.site())
        .drop_after(150_000, 1)
        .ignore_range();
    assert_ok(&env.fetch(&["--mirror", &mirror.url()]));
    let requests = mirror.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests[1].range.is_some() && requests[1].status == 200,
        "{requests:?}"
    );
    let dir = env.install().join(&env.release.top_dir);
    assert_eq!(
        std::fs::metadata(dir.join("libs/big.bin")).unwrap().len(),
        BIG_FILE as u64
    );
}

#[test]
fn a_missing_checksum_fails_before_downloading() {
    let env = FetchEnv::new();
    std::fs::remove_file(env.release.sha512_in(env.site())).unwrap();
    let out = env.fetch(&[]);
    assert_failed(&out, 3, &["no SHA-512 checksum", "--dist"]);
    let requests = env.mirror.requests();
    assert!(
        !requests.iter().any(|r| r.method == "GET"),
        "nothing is downloaded without a checksum (only asked whether it is there): {requests:?}"
    );
    env.assert_nothing_left();
}

#[test]
fn an_empty_checksum_file_fails() {
    let env = FetchEnv::new();
    std::fs::write(env.release.sha512_in(env.site()), "").unwrap();
    assert_failed(&env.fetch(&[]), 3, &["is empty", "--dist"]);
    env.assert_nothing_left();
}

#[test]
fn a_malformed_checksum_file_fails() {
    let env = FetchEnv::new();
    std::fs::write(
        env.release.sha512_in(env.site()),
        "<html><body>Mirror error</body></html>\n",
    )
    .unwrap();
    assert_failed(&env.fetch(&[]), 3, &["is malformed", "--dist"]);
    // A checksum of another file is malformed too.
    let other = Release::kafka("4.1.6").sha512_file(b"x");
    std::fs::write(env.release.sha512_in(env.site()), other).unwrap();
    assert_failed(
        &env.fetch(&[]),
        3,
        &["is malformed", "kafka_2.13-4.1.6.tgz"],
    );
    env.assert_nothing_left();
}

#[test]
fn a_bad_signature_fails_and_leaves_nothing() {
    let env = FetchEnv::new();
    // A real signature by the right key, but of other bytes.
    let elsewhere = tempfile::tempdir().unwrap();
    let other = elsewhere.path().join("other.tgz");
    std::fs::write(&other, b"other bytes").unwrap();
    std::fs::write(env.release.asc_in(env.site()), signer().sign(&other)).unwrap();
    let out = env.fetch(&[]);
    assert_failed(&out, 3, &["signature", "not valid"]);
    env.assert_nothing_left();
}

#[test]
fn a_signature_by_an_unknown_key_fails_before_downloading() {
    let env = FetchEnv::new();
    let stranger = TestSigner::new("stranger");
    let tarball = env.release.tarball_in(env.site());
    std::fs::write(env.release.asc_in(env.site()), stranger.sign(&tarball)).unwrap();
    let out = env.fetch(&[]);
    assert_failed(&out, 3, &["signed by a key that is not in", "KEYS"]);
    assert!(env.tarball_requests().is_empty());
    env.assert_nothing_left();
}

#[test]
fn a_mirror_answering_404_is_skipped_for_the_next() {
    let env = FetchEnv::new();
    let retired = MirrorServer::serve(env.site()).not_found();
    let out = env.fetch(&["--mirror", &retired.url(), "--mirror", &env.mirror.url()]);
    assert_ok(&out);
    assert_eq!(retired.requests().len(), 1, "a 404 is not retried");
    assert_eq!(env.tarball_requests().len(), 1);
}

#[test]
fn dist_sites_are_tried_in_order() {
    let env = FetchEnv::new();
    let retired = MirrorServer::serve(env.site()).not_found();
    let mirror = env.mirror.url();
    let args = [
        "fetch",
        "--mode",
        "kraft",
        "--kafka-version",
        KAFKA_VERSION,
        "--mirror",
        &mirror,
    ];
    let (first, second) = (retired.url(), env.dist.url());
    let out = run(
        env.root.path(),
        &[&args[..], &["--dist", &first, "--dist", &second]].concat(),
    );
    assert_ok(&out);
    assert_eq!(
        retired.requests().len(),
        3,
        "sha512, asc and KEYS were asked there first"
    );
    assert_eq!(env.dist.requests().len(), 3);
}

#[test]
fn unreadable_key_blocks_are_skipped_with_one_warning() {
    let env = FetchEnv::new();
    let keys = env.release.keys_in(env.site());
    let mut content = std::fs::read(&keys).unwrap();
    content.extend(b"\npub   rsa1024 1999-01-01\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n");
    std::fs::write(&keys, content).unwrap();
    let out = env.fetch(&[]);
    assert_ok(&out);
    let warnings: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.contains("key blocks"))
        .map(str::to_string)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("skipped 1 of 2"), "{warnings:?}");
}

#[test]
fn without_signature_checking_no_signature_is_needed() {
    let env = FetchEnv::new();
    std::fs::remove_file(env.release.asc_in(env.site())).unwrap();
    assert_failed(
        &env.fetch(&[]),
        3,
        &["no OpenPGP signature", "--no-verify-signature"],
    );
    env.assert_nothing_left();
    assert_ok(&env.fetch(&["--no-verify-signature"]));
    assert!(
        env.dist.requests_for(".asc").len() == 1,
        "only the first run asked for it"
    );
}

#[test]
fn an_install_made_without_signature_check_is_verified_when_asked() {
    let env = FetchEnv::new();
    assert_ok(&env.fetch(&["--no-verify-signature"]));
    assert!(env.dist.requests_for(".asc").is_empty());
    let marker = env
        .install()
        .join(&env.release.top_dir)
        .join(".kafkup-verified.json");
    assert!(std::fs::read_to_string(&marker)
        .unwrap()
        .contains("\"signature_checked\": false"));

    assert_ok(&env.fetch(&[]));
    assert_eq!(env.dist.requests_for(".asc").len(), 1);
    assert_eq!(
        env.tarball_requests().len(),
        1,
        "the cached tarball is verified, not downloaded"
    );
    assert!(std::fs::read_to_string(&marker)
        .unwrap()
        .contains("\"signature_checked\": true"));
    let installs: Vec<_> = std::fs::read_dir(env.install()).unwrap().collect();
    assert_eq!(
        installs.len(),
        1,
        "the old tree was replaced, nothing else left"
    );
}

#[test]
fn all_mirrors_down_lists_each_failure() {
    let env = FetchEnv::new();
    let down = MirrorServer::serve(env.site()).fail_first(100);
    let gone = MirrorServer::serve(env.site()).not_found();
    let out = env.fetch(&["--mirror", &down.url(), "--mirror", &gone.url()]);
    assert_failed(
        &out,
        1,
        &[
            "could not download",
            &down.url(),
            "500",
            &gone.url(),
            "404",
            "--mirror",
        ],
    );
    assert_eq!(
        down.requests().len(),
        3,
        "5xx is retried, a bounded number of times"
    );
    env.assert_nothing_left();
}

#[test]
fn hostile_tarballs_are_refused_and_leave_nothing() {
    for kind in Hostile::ALL {
        let release = Release::kafka(KAFKA_VERSION);
        let env = FetchEnv::with_tarball(&hostile_tarball(kind, &release.top_dir));
        let out = env.fetch(&[]);
        let says: &[&str] = match kind {
            Hostile::WrongTopDir => &["unsafe entry", "top directory"],
            _ => &["unsafe entry"],
        };
        assert_failed(&out, 1, says);
        env.assert_nothing_left();
        for target in kind.escape_targets() {
            assert!(!target.exists(), "{kind:?} escaped to {}", target.display());
        }
    }
}

#[test]
fn an_unwritable_install_directory_fails_before_downloading() {
    let env = FetchEnv::new();
    // A file where the install directory should be: refused even to root.
    std::fs::write(env.install(), b"not a directory").unwrap();
    let out = env.fetch(&[]);
    assert_failed(&out, 1, &["install directory", "--root"]);
    assert!(env.mirror.requests().is_empty());
    assert!(walk(&env.cache()).is_empty());
}

#[test]
fn a_foreign_directory_in_the_way_is_not_overwritten() {
    let env = FetchEnv::new();
    let dir = env.install().join(&env.release.top_dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("mine.txt"), b"keep me").unwrap();
    assert_failed(&env.fetch(&[]), 1, &["did not verify", "move or delete"]);
    assert_eq!(std::fs::read(dir.join("mine.txt")).unwrap(), b"keep me");
}

#[test]
fn zookeeper_mode_fetches_both_with_their_checksum_formats() {
    let site = tempfile::tempdir().unwrap();
    let kafka = Release::kafka("3.9.7");
    let zookeeper = Release::zookeeper("3.9.8");
    kafka.publish(site.path(), &good_tarball(&kafka.top_dir), Some(signer()));
    zookeeper.publish(
        site.path(),
        &good_tarball(&zookeeper.top_dir),
        Some(signer()),
    );
    assert!(std::fs::read_to_string(zookeeper.sha512_in(site.path()))
        .unwrap()
        .ends_with(".tar.gz"));
    let server = MirrorServer::serve(site.path());
    let root = tempfile::tempdir().unwrap();
    let url = server.url();
    let args = [
        "fetch",
        "--mode",
        "zookeeper",
        "--kafka-version",
        "3.9.7",
        "--zookeeper-version",
        "3.9.8",
        "--mirror",
        &url,
        "--dist",
        &url,
    ];
    assert_ok(&run(root.path(), &args));
    for top in [&kafka.top_dir, &zookeeper.top_dir] {
        assert!(
            root.path()
                .join("install")
                .join(top)
                .join("bin/start.sh")
                .is_file(),
            "{top}"
        );
    }
}

#[test]
fn file_urls_are_read_directly() {
    let env = FetchEnv::new();
    let url = format!("file://{}", env.site().display());
    let out = run(
        env.root.path(),
        &[
            "fetch",
            "--mode",
            "kraft",
            "--kafka-version",
            KAFKA_VERSION,
            "--mirror",
            &url,
            "--dist",
            &url,
        ],
    );
    assert_ok(&out);
    assert!(env
        .install()
        .join(&env.release.top_dir)
        .join("bin/start.sh")
        .is_file());
}

#[test]
fn plain_http_to_another_host_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let out = run(
        root.path(),
        &[
            "fetch",
            "--mode",
            "kraft",
            "--mirror",
            "http://mirror.example.org",
            "--dist",
            "https://downloads.apache.org",
        ],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("loopback"), "{}", stderr(&out));
}

/// Size of the incompressible file in [`big_tarball`]: large enough to be cut mid-way.
const BIG_FILE: usize = 600_000;

/// A release whose tarball is large enough to be cut mid-way (incompressible content).
fn big_tarball() -> Vec<u8> {
    let top = Release::kafka(KAFKA_VERSION).top_dir;
    let mut noise = Vec::with_capacity(BIG_FILE);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while noise.len() < BIG_FILE {
        // xorshift: cheap bytes that gzip cannot shrink.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    noise.truncate(BIG_FILE);
    let dir = format!("{top}/");
    let big = format!("{top}/libs/big.bin");
    let script = format!("{top}/bin/start.sh");
    crate::hostile::tarball(&[
        (&dir, tar::EntryType::Directory, b""),
        (&script, tar::EntryType::Regular, b"#!/bin/sh\n"),
        (&big, tar::EntryType::Regular, &noise),
    ])
}
