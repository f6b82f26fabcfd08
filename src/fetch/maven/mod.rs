//! The Maven path: a distribution tree assembled from the jars of a lock.
//!
//! What is trusted: the lock, compiled into kafkup, pins every jar's SHA-256 (and size); a jar
//! that does not match never enters the cache, let alone the tree. On top of that, the Apache
//! jars' `.asc` are checked against the project's KEYS at hand ([`keys`]): a bad signature is
//! fatal, a signer the KEYS do not hold (or a missing `.asc`) is a loud warning, because the
//! lock already vouches for the bytes. Jars are fetched in parallel into the digest-keyed
//! cache (resumable), then linked into a temporary tree that is renamed into place.

mod assemble;
pub mod coordinate;
mod error;
mod jar;
mod keys;
pub mod lock;
mod progress;

pub use error::MavenError;

use super::cache::{self, CacheEntry, Marker};
use super::download::Transport;
use super::{DistSource, FetchError, Installed, Job, Sources};
use crate::catalog::{Artifact, Project};
use crate::defaults::MAVEN_PARALLEL_DOWNLOADS;
use crate::paths::Paths;
use crate::report::Reporter;
use futures_util::stream::{self, StreamExt};
use jar::{JarDone, JarJob, SignatureCheck};
use keys::KeysAtHand;
use lock::{Lock, LockOrigin, Signer};
use progress::JarsProgress;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Whether the dist sites (where the KEYS live) are worth asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dists {
    MayAnswer,
    /// `--source auto` just saw them not answer: go straight to the other KEYS.
    DoNotAnswer,
}

/// One line for `--dry-run`: how `artifact` would be assembled, or why it cannot be.
pub fn plan_line(artifact: &Artifact, sources: &Sources) -> String {
    match lock::find(artifact, sources.maven.lock_dir.as_deref()) {
        Ok((lock, origin)) => format!(
            "from Maven {}: {} jars ({:.1} MiB) pinned by {}",
            sources
                .maven
                .repos
                .first()
                .map(|u| u.as_str())
                .unwrap_or("?"),
            lock.jars.len(),
            lock.total_bytes() as f64 / 1048576.0,
            origin.describe()
        ),
        Err(e) => format!("not from Maven: {e}"),
    }
}

pub(crate) async fn fetch(job: &Job<'_>, dists: Dists) -> Result<Installed, FetchError> {
    let (artifact, sources, reporter) = (job.artifact, job.sources, job.reporter);
    let (lock, origin) = lock::find(artifact, sources.maven.lock_dir.as_deref())?;
    let digest = lock.digest();
    let verify = sources.verify_signature;
    let entry = CacheEntry::new(&job.paths.cache, artifact, &digest);
    if let Some(marker) = super::restore_kept(&entry, job.dest, artifact, &digest, verify, reporter)
    {
        return Ok(Installed::from_marker(artifact, job.dest, marker));
    }
    announce(artifact, &lock, &origin, sources, reporter);
    let transport = Transport::new()?;
    let keys = match verify {
        true => keys_needed(&lock, sources, &transport, dists, reporter).await?,
        false => vec![],
    };
    let done = get_jars(
        artifact, &lock, &keys, &transport, sources, job.paths, reporter,
    )
    .await?;
    let tally = report_signatures(artifact, &lock, &done, &keys, sources, reporter);
    let source = DistSource::Maven {
        repo: sources.maven.repos[0].to_string(),
        lock: origin.describe(),
        jars: lock.jars.len(),
        signatures_verified: tally.verified,
        signers_unknown: tally.signer_unknown,
        unsigned: tally.unsigned,
    };
    let marker = Marker {
        file_name: artifact.file_name.clone(),
        sha512: digest,
        signature_checked: verify,
        source,
    };
    install(artifact, &lock, &done, job.paths, job.dest, &marker)?;
    reporter.step(&format!(
        "{}: installed in {}",
        artifact.top_dir,
        job.dest.display()
    ));
    Ok(Installed {
        downloaded: done.iter().any(|d| d.downloaded),
        ..Installed::from_marker(artifact, job.dest, marker)
    })
}

fn announce(
    artifact: &Artifact,
    lock: &Lock,
    origin: &LockOrigin,
    sources: &Sources,
    reporter: &dyn Reporter,
) {
    if matches!(origin, LockOrigin::Dir(_))
        && !lock::built_in_names().contains(&lock::file_name(artifact).as_str())
    {
        reporter.warn(&format!(
            "{}: using {}, which is not built into kafkup: that file alone vouches for these jars",
            artifact.top_dir,
            origin.describe()
        ));
    }
    reporter.step(&format!(
        "{}: assembling from Maven {}: {} jars ({:.1} MiB) pinned by {}",
        artifact.top_dir,
        sources.maven.repos[0],
        lock.jars.len(),
        lock.total_bytes() as f64 / 1048576.0,
        origin.describe()
    ));
}

/// The KEYS of every project whose jars are in the lock (Kafka 3.x brings ZooKeeper's).
async fn keys_needed(
    lock: &Lock,
    sources: &Sources,
    transport: &Transport,
    dists: Dists,
    reporter: &dyn Reporter,
) -> Result<Vec<KeysAtHand>, MavenError> {
    let mut projects: Vec<Project> = lock
        .jars
        .iter()
        .filter_map(|j| j.coord.signing_project())
        .collect();
    projects.sort_by_key(|p| p.dir());
    projects.dedup();
    let loads = projects
        .into_iter()
        .map(|p| keys::keys_for(p, sources, transport, dists, reporter));
    futures_util::future::join_all(loads)
        .await
        .into_iter()
        .collect()
}

/// Every jar of the lock, verified in the cache, in lock order. All jars run to their end;
/// the most serious failure is returned (a verification failure before a network one).
async fn get_jars(
    artifact: &Artifact,
    lock: &Lock,
    keys: &[KeysAtHand],
    transport: &Transport,
    sources: &Sources,
    paths: &Paths,
    reporter: &dyn Reporter,
) -> Result<Vec<JarDone>, MavenError> {
    let missing: Vec<_> = lock
        .jars
        .iter()
        .filter(|j| {
            !cache::CachedFile::jar(&paths.cache, &j.coord.file_name(), &j.sha256)
                .file
                .is_file()
        })
        .collect();
    let bytes = missing.iter().map(|j| j.size).sum();
    let bar = format!("{} ({} jars)", artifact.top_dir, missing.len());
    let progress = JarsProgress::start(reporter, bar, bytes);
    let jobs = lock.jars.iter().map(|jar| JarJob {
        jar,
        transport,
        repos: &sources.maven.repos,
        cache: &paths.cache,
        keys: jar
            .coord
            .signing_project()
            .and_then(|p| keys.iter().find(|k| k.project == p)),
        reporter: &progress,
    });
    let results: Vec<Result<JarDone, MavenError>> = stream::iter(jobs)
        .map(|job| async move { jar::get(&job).await })
        .buffered(MAVEN_PARALLEL_DOWNLOADS)
        .collect()
        .await;
    drop(progress);
    let (done, mut failed): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    if failed.is_empty() {
        return Ok(done.into_iter().map(Result::unwrap).collect());
    }
    if failed.len() > 1 {
        reporter.warn(&format!(
            "{}: {} of its {} jars could not be used; the most serious problem follows",
            artifact.top_dir,
            failed.len(),
            lock.jars.len()
        ));
    }
    let worst = failed
        .iter()
        .position(|r| r.as_ref().is_err_and(MavenError::is_verification_failure))
        .unwrap_or(0);
    Err(failed.swap_remove(worst).unwrap_err())
}

/// What the signature checks of one distribution's Apache jars found.
struct Tally {
    verified: usize,
    signer_unknown: usize,
    unsigned: usize,
}

/// Says what the signature checks found: one line per distribution (a warning when any jar
/// rests on the lock alone), the jars and keys behind it under `-v` (`kafkup status` counts
/// them too).
fn report_signatures(
    artifact: &Artifact,
    lock: &Lock,
    done: &[JarDone],
    keys: &[KeysAtHand],
    sources: &Sources,
    reporter: &dyn Reporter,
) -> Tally {
    let (verified, unknown, unpublished) = sort_signatures(lock, done);
    let from: Vec<&str> = keys.iter().map(|k| k.from.as_str()).collect();
    let checked = format!(
        "{}: {verified} Apache jar signatures verified against {}",
        artifact.top_dir,
        from.join(" and ")
    );
    let mut reasons = Vec::new();
    for ((project, issuer), jars) in &unknown {
        let at_hand = keys.iter().find(|k| k.project == *project);
        let not_held = match at_hand {
            Some(k) if !k.ring.keys.is_empty() => format!("a key that is not in {}", k.from),
            _ => format!("and there are no {} KEYS at hand", project.title()),
        };
        reasons.push(format!("{} signed by {issuer}, {not_held}", jars.len()));
        tracing::info!(
            "{} {} jar(s) of {} ({}) are signed by {issuer}, {not_held}: their signatures could \
             NOT be checked; each matched the SHA-256 pinned in kafkup's lock{}",
            jars.len(),
            project.title(),
            artifact.top_dir,
            few(jars),
            recorded_signer(lock, jars, issuer),
        );
    }
    if !unpublished.is_empty() {
        reasons.push(format!("{} without a signature", unpublished.len()));
        tracing::info!(
            "{} Apache jar(s) of {} ({}) have no OpenPGP signature in {}: each matched the \
             SHA-256 pinned in kafkup's lock{}",
            unpublished.len(),
            artifact.top_dir,
            few(&unpublished),
            sources.maven.repos[0],
            unsigned_when_locked(lock, &unpublished)
        );
    }
    let unknown_count = unknown.values().map(Vec::len).sum();
    if reasons.is_empty() {
        if verified > 0 {
            reporter.step(&checked);
        }
    } else {
        let checked = match verified {
            0 => format!("{}: ", artifact.top_dir),
            _ => format!("{checked}; "),
        };
        reporter.warn(&format!(
            "{checked}{} Apache jar(s) rest on the SHA-256 in kafkup's lock alone ({}): pass the \
             projects' current KEYS with --keys FILE to check them (-v names the jars)",
            unknown_count + unpublished.len(),
            reasons.join("; ")
        ));
    }
    Tally {
        verified,
        signer_unknown: unknown_count,
        unsigned: unpublished.len(),
    }
}

/// Jars whose signatures the lock's projects expect, sorted: how many verified, those signed by
/// a key not at hand (by project and signer), those without a signature.
type SortedSignatures = (usize, BTreeMap<(Project, String), Vec<String>>, Vec<String>);

fn sort_signatures(lock: &Lock, done: &[JarDone]) -> SortedSignatures {
    let mut verified = 0;
    let mut unknown: BTreeMap<(Project, String), Vec<String>> = BTreeMap::new();
    let mut unpublished: Vec<String> = Vec::new();
    for (jar, result) in lock.jars.iter().zip(done) {
        let project = jar.coord.signing_project();
        match (&result.signature, project) {
            (SignatureCheck::Verified { .. }, _) => verified += 1,
            (SignatureCheck::UnknownSigner { issuers }, Some(p)) => unknown
                .entry((p, issuers.join(" / ")))
                .or_default()
                .push(jar.coord.file_name()),
            (SignatureCheck::NotPublished, _) => unpublished.push(jar.coord.file_name()),
            _ => {}
        }
    }
    (verified, unknown, unpublished)
}

/// Whether the jars without a signature had none when the lock was made either.
fn unsigned_when_locked(lock: &Lock, jars: &[String]) -> String {
    let then = lock
        .jars
        .iter()
        .filter(|j| jars.contains(&j.coord.file_name()) && j.signer == Some(Signer::Unsigned))
        .count();
    match then {
        0 => {
            " (the lock recorded a signature for each: the repository no longer serves them)".into()
        }
        n if n == jars.len() => " (there was none when the lock was made either)".into(),
        n => format!(" ({n} of them had none when the lock was made either)"),
    }
}

/// How the lock's record of the signer compares with what the `.asc` says now.
fn recorded_signer(lock: &Lock, jars: &[String], issuer: &str) -> String {
    let recorded: Vec<&Signer> = lock
        .jars
        .iter()
        .filter(|j| jars.contains(&j.coord.file_name()))
        .filter_map(|j| j.signer.as_ref())
        .collect();
    let ids: Vec<&str> = issuer.split(" / ").collect();
    if !recorded.is_empty() && recorded.iter().all(|s| ids.iter().any(|id| s.is(id))) {
        " (the lock recorded the same signer)".into()
    } else {
        match recorded.first() {
            Some(Signer::Key(key)) => format!(" (the lock recorded another signer, {key})"),
            _ => " (the lock recorded no signature)".into(),
        }
    }
}

/// Up to three names, then how many more.
fn few(names: &[String]) -> String {
    let mut text = names.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > 3 {
        text.push_str(&format!(" and {} more", names.len() - 3));
    }
    text
}

fn install(
    artifact: &Artifact,
    lock: &Lock,
    done: &[JarDone],
    paths: &Paths,
    dest: &Path,
    marker: &Marker,
) -> Result<(), MavenError> {
    let jars: Vec<(String, PathBuf)> = lock
        .jars
        .iter()
        .zip(done)
        .map(|(jar, d)| (jar.coord.file_name(), d.path.clone()))
        .collect();
    let install_error = |source| MavenError::Install {
        dir: dest.to_path_buf(),
        source,
    };
    let staged = assemble::stage(&paths.install, artifact, &jars).map_err(install_error)?;
    staged
        .install(dest, (cache::MARKER, &marker.to_json()))
        .map_err(install_error)
}
