//! Get a verified distribution tree in place: from an ASF release tarball, or assembled from
//! Maven jars pinned by kafkup's locks.
//!
//! The entry point is [`fetch_all`]`(artifacts, &sources, &paths, reporter)`, one result per
//! artifact. Either way the result is the same tree
//! (`kafka_2.13-V/libs/*.jar`, `apache-zookeeper-V-bin/lib/*.jar`) with a marker saying it was
//! verified and where it came from; nothing unverified is ever put in place.

pub mod cache;
pub mod checksum;
pub mod download;
pub mod entry_check;
mod error;
pub mod maven;
pub mod policy;
pub mod signature;
mod source;
pub mod stream;
mod tarball;
pub mod unpack;

pub use error::FetchError;
pub use maven::MavenError;
pub use source::{DistSource, MavenSources, Sources};

use crate::catalog::Artifact;
use crate::paths::Paths;
use crate::report::Reporter;
use crate::vocab::SourceChoice;
use cache::{CacheEntry, Marker, MarkerProblem};
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Said whenever the signature check is off.
pub const NO_SIGNATURE_WARNING: &str = "OpenPGP signature checking is OFF (--no-verify-signature): only the SHA-512 checksum (from Maven: the lock's SHA-256) protects these downloads";

/// One distribution to put in place: what, from where, into which directory.
#[derive(Clone, Copy)]
pub(crate) struct Job<'a> {
    pub artifact: &'a Artifact,
    pub sources: &'a Sources,
    pub paths: &'a Paths,
    /// `<paths.install>/<artifact.top_dir>`
    pub dest: &'a Path,
    pub reporter: &'a dyn Reporter,
}

/// A verified distribution, unpacked in place.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Installed {
    pub artifact: Artifact,
    /// `<paths.install>/<artifact.top_dir>`
    pub dir: PathBuf,
    /// Lowercase hex SHA-512 of the tarball, or for a tree assembled from Maven, of its lock's
    /// jar list: the key of its cache entry either way.
    pub sha512: String,
    /// False when it came from the cache or the install already existed.
    pub downloaded: bool,
    pub signature_checked: bool,
    pub source: DistSource,
}

impl Installed {
    fn from_marker(artifact: &Artifact, dir: &Path, marker: Marker) -> Installed {
        Installed {
            artifact: artifact.clone(),
            dir: dir.to_path_buf(),
            sha512: marker.sha512,
            downloaded: false,
            signature_checked: marker.signature_checked,
            source: marker.source,
        }
    }
}

/// Every artifact at once (network and the two cores overlap). Each runs to its end, so a
/// failure of one never cancels the other half-way; the results come back in order.
/// Call it only under the environment lock.
pub async fn fetch_all(
    artifacts: &[&Artifact],
    sources: &Sources,
    paths: &Paths,
    reporter: &dyn Reporter,
) -> Vec<Result<Installed, FetchError>> {
    sweep_stale_staging(&paths.install);
    // Falling back to Maven is said once, however many artifacts fall back.
    let fallback_said = Once::new();
    futures_util::future::join_all(
        artifacts
            .iter()
            .map(|artifact| fetch_one(artifact, sources, paths, reporter, &fallback_said)),
    )
    .await
}

async fn fetch_one(
    artifact: &Artifact,
    sources: &Sources,
    paths: &Paths,
    reporter: &dyn Reporter,
    fallback_said: &Once,
) -> Result<Installed, FetchError> {
    check_sources(sources)?;
    let dest = paths.install.join(&artifact.top_dir);
    if let Some(installed) = already_installed(artifact, &dest, sources, reporter)? {
        return Ok(installed);
    }
    check_writable(&paths.install).map_err(|source| FetchError::InstallDirNotWritable {
        dir: paths.install.clone(),
        source,
    })?;
    let job = Job {
        artifact,
        sources,
        paths,
        dest: &dest,
        reporter,
    };
    match sources.choice {
        SourceChoice::Apache => tarball::fetch(&job).await,
        SourceChoice::Maven => maven::fetch(&job, maven::Dists::MayAnswer).await,
        SourceChoice::Auto => match tarball::fetch(&job).await {
            Err(apache) if apache.apache_did_not_answer() => {
                fall_back(&job, apache, fallback_said).await
            }
            other => other,
        },
    }
}

/// `--source auto` after Apache's sites did not answer: Maven, if kafkup has a lock for this
/// version; else the Apache failure stands (with a word on why there is no fallback).
async fn fall_back(
    job: &Job<'_>,
    apache: FetchError,
    fallback_said: &Once,
) -> Result<Installed, FetchError> {
    let (artifact, sources, reporter) = (job.artifact, job.sources, job.reporter);
    if let Err(e @ MavenError::NoLock { .. }) =
        maven::lock::find(artifact, sources.maven.lock_dir.as_deref())
    {
        reporter.warn(&format!(
            "Apache's download sites do not answer, and {e}: there is nothing to fall back to"
        ));
        return Err(apache);
    }
    fallback_said.call_once(|| {
        reporter.warn(&format!(
            "Apache's download sites do not answer; assembling the distributions from Maven ({}) instead",
            sources.maven.repos[0]
        ))
    });
    maven::fetch(job, maven::Dists::DoNotAnswer)
        .await
        .map_err(|maven| FetchError::FallbackFailed {
            apache: apache.to_string(),
            maven: Box::new(maven),
        })
}

/// A tree that is already in place and verified (as much as asked for) is taken as it is.
fn already_installed(
    artifact: &Artifact,
    dest: &Path,
    sources: &Sources,
    reporter: &dyn Reporter,
) -> Result<Option<Installed>, FetchError> {
    match Marker::read(dest, artifact) {
        Ok(Some(marker)) if marker.signature_checked || !sources.verify_signature => {
            reporter.step(&format!(
                "{}: already installed and verified in {}",
                artifact.top_dir,
                dest.display()
            ));
            Ok(Some(Installed::from_marker(artifact, dest, marker)))
        }
        // Installed without a signature check, which is now asked for: verify and replace.
        Ok(_) => Ok(None),
        Err(MarkerProblem::Missing | MarkerProblem::Unreadable) => {
            Err(FetchError::InstallOccupied {
                dir: dest.to_path_buf(),
            })
        }
    }
}

/// What can be refused about fetching `dists` (each with the directory it installs to)
/// before anything is touched, so that a dry run says it too: sources that cannot be used,
/// and with `--source maven` a version kafkup has no lock for (one already installed is not
/// fetched and needs none).
pub fn check_plan(dists: &[(&Artifact, &Path)], sources: &Sources) -> Result<(), FetchError> {
    check_sources(sources)?;
    if sources.choice != SourceChoice::Maven {
        return Ok(());
    }
    for (artifact, dir) in dists {
        if !is_installed(dir, artifact, sources.verify_signature) {
            maven::lock::find(artifact, sources.maven.lock_dir.as_deref())?;
        }
    }
    Ok(())
}

/// Whether `dir` holds a verified install of `artifact` that `fetch` would take as it is.
pub fn is_installed(dir: &Path, artifact: &Artifact, verify_signature: bool) -> bool {
    matches!(
        Marker::read(dir, artifact),
        Ok(Some(m)) if m.signature_checked || !verify_signature
    )
}

/// A tree `teardown` kept in the cache is renamed back into place when its marker says it is
/// what this run would install (same digest, signatures checked if asked for). Anything that
/// does not match is left for the normal path.
fn restore_kept(
    entry: &CacheEntry,
    dest: &Path,
    artifact: &Artifact,
    digest: &str,
    signature_required: bool,
    reporter: &dyn Reporter,
) -> Option<Marker> {
    let marker = Marker::read(&entry.tree, artifact).ok()??;
    let good_enough = marker.sha512 == digest && (marker.signature_checked || !signature_required);
    if !good_enough || dest.exists() || fs_err::rename(&entry.tree, dest).is_err() {
        return None;
    }
    reporter.step(&format!(
        "{}: restored the verified tree kept in the cache to {}",
        artifact.top_dir,
        dest.display()
    ));
    Some(marker)
}

/// Moves an installed distribution into its cache entry (replacing an older kept copy), for
/// `teardown`: its data is gone from the install directory, its bytes stay reusable. Falls back
/// to deleting it when it cannot be moved (e.g. the cache is on another filesystem).
pub fn keep_in_cache(
    paths: &Paths,
    artifact: &Artifact,
    sha512: &str,
    dir: &Path,
) -> std::io::Result<()> {
    let entry = CacheEntry::new(&paths.cache, artifact, sha512);
    if entry.tree.exists() {
        fs_err::remove_dir_all(&entry.tree)?;
    }
    entry.create_dir()?;
    if std::fs::rename(dir, &entry.tree).is_err() {
        fs_err::remove_dir_all(dir)?;
        entry.prune();
    }
    Ok(())
}

/// Removes unpack directories a killed kafkup left in the install directory. Call it only
/// under the environment lock and before any fetch of this command starts.
pub fn sweep_stale_staging(install: &Path) {
    let Ok(entries) = std::fs::read_dir(install) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(unpack::STAGING_PREFIX)
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn check_sources(sources: &Sources) -> Result<(), FetchError> {
    let choice = sources.choice;
    if choice.may_use_apache() && sources.mirrors.is_empty() {
        return Err(FetchError::NoSources { what: "mirror" });
    }
    if choice.may_use_apache() && sources.dists.is_empty() {
        return Err(FetchError::NoSources { what: "dist" });
    }
    if choice.may_use_maven() && sources.maven.repos.is_empty() {
        return Err(FetchError::NoSources { what: "maven-repo" });
    }
    let urls = sources.mirrors.iter().chain(&sources.dists);
    for url in urls.chain(&sources.maven.repos) {
        policy::check_url(url).map_err(|reason| FetchError::UrlRefused {
            url: url.to_string(),
            reason,
        })?;
    }
    Ok(())
}

/// Create `dir` if needed and prove we can create entries in it (as root, permission bits
/// alone would not tell).
fn check_writable(dir: &Path) -> std::io::Result<()> {
    fs_err::create_dir_all(dir)?;
    tempfile::Builder::new()
        .prefix(".kafkup-probe-")
        .tempfile_in(dir)?;
    Ok(())
}
