//! Download, verify and unpack ASF release tarballs.
//!
//! CONTRACT (owned by the fetch module; callers use only what is below):
//! `fetch(&artifact, &sources, &paths, reporter) -> Result<Installed, FetchError>`.
//!
//! Order of work: proofs first (SHA-512 from the dist sites, then signature and KEYS), so a
//! release that cannot be verified costs no download; then one pass over the tarball's bytes
//! (cache file, SHA-512, unpack into a temporary directory); the tree is renamed into place
//! only after the SHA-512 and the signature both verified.

pub mod cache;
pub mod checksum;
pub mod download;
pub mod entry_check;
mod error;
pub mod policy;
pub mod signature;
pub mod stream;
pub mod unpack;

pub use error::FetchError;

use crate::catalog::Artifact;
use crate::paths::Paths;
use crate::report::Reporter;
use cache::{CacheEntry, Marker, MarkerProblem};
use download::{DownloadFailed, SourceFailure, Transport};
use signature::{Keyring, Verifier};
use std::path::{Path, PathBuf};
use stream::{Digested, Sink, UnpackTo};
use unpack::{Staged, UnpackError};
use url::Url;

/// Said whenever the signature check is off.
pub const NO_SIGNATURE_WARNING: &str = "OpenPGP signature checking is OFF (--no-verify-signature): only the SHA-512 checksum protects these downloads";

/// Where to get bytes (mirrors) and where to get what proves them (dists).
#[derive(Debug, Clone)]
pub struct Sources {
    pub mirrors: Vec<Url>,
    pub dists: Vec<Url>,
    pub verify_signature: bool,
}

/// A verified distribution, unpacked in place.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Installed {
    pub artifact: Artifact,
    /// `<paths.install>/<artifact.top_dir>`
    pub dir: PathBuf,
    /// Lowercase hex SHA-512 of the tarball.
    pub sha512: String,
    /// False when the tarball came from the cache or the install already existed.
    pub downloaded: bool,
    pub signature_checked: bool,
}

pub async fn fetch(
    artifact: &Artifact,
    sources: &Sources,
    paths: &Paths,
    reporter: &dyn Reporter,
) -> Result<Installed, FetchError> {
    check_sources(sources)?;
    let dest = paths.install.join(&artifact.top_dir);
    let name = artifact.file_name.as_str();
    match Marker::read(&dest, artifact) {
        Ok(Some(marker)) if marker.signature_checked || !sources.verify_signature => {
            reporter.step(&format!(
                "{name}: already installed and verified in {}",
                dest.display()
            ));
            return Ok(Installed {
                artifact: artifact.clone(),
                dir: dest,
                sha512: marker.sha512,
                downloaded: false,
                signature_checked: marker.signature_checked,
            });
        }
        // Installed without a signature check, which is now asked for: verify and replace.
        Ok(_) => {}
        Err(MarkerProblem::Missing | MarkerProblem::Unreadable) => {
            return Err(FetchError::InstallOccupied { dir: dest })
        }
    }
    check_writable(&paths.install).map_err(|source| FetchError::InstallDirNotWritable {
        dir: paths.install.clone(),
        source,
    })?;

    let transport = Transport::new()?;
    let (checksum_url, expected) =
        published_sha512(&transport, artifact, sources, reporter).await?;
    let verifier = match sources.verify_signature {
        true => Some(signer(&transport, artifact, sources, reporter).await?),
        false => None,
    };
    let proofs = Proofs {
        artifact,
        checksum_url,
        expected,
        verifier,
    };

    let entry = CacheEntry::new(&paths.cache, artifact, &proofs.expected);
    if let Some(installed) = restore_kept_tree(&entry, &dest, &proofs, reporter) {
        return Ok(installed);
    }
    let unpack_to = UnpackTo {
        top_dir: artifact.top_dir.clone(),
        parent: paths.install.clone(),
    };
    let (staged, downloaded) = match from_cache(&entry, &unpack_to, &proofs, reporter).await? {
        Some(staged) => (staged, false),
        None => (
            from_mirrors(&transport, &entry, &unpack_to, &proofs, sources, reporter).await?,
            true,
        ),
    };

    let marker = Marker {
        file_name: artifact.file_name.clone(),
        sha512: proofs.expected.clone(),
        signature_checked: proofs.verifier.is_some(),
    };
    staged
        .install(&dest, (cache::MARKER, &marker.to_json()))
        .map_err(|source| FetchError::Install {
            dir: dest.clone(),
            source,
        })?;
    reporter.step(&format!("{name}: installed in {}", dest.display()));
    Ok(Installed {
        artifact: artifact.clone(),
        dir: dest,
        sha512: marker.sha512,
        downloaded,
        signature_checked: marker.signature_checked,
    })
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
    futures_util::future::join_all(
        artifacts
            .iter()
            .map(|artifact| fetch(artifact, sources, paths, reporter)),
    )
    .await
}

/// Whether `dir` holds a verified install of `artifact` that `fetch` would take as it is.
pub fn is_installed(dir: &Path, artifact: &Artifact, verify_signature: bool) -> bool {
    matches!(
        Marker::read(dir, artifact),
        Ok(Some(m)) if m.signature_checked || !verify_signature
    )
}

/// A tree `teardown` kept in the cache, verified from a tarball with today's published digest,
/// is renamed back into place. Anything that does not match is left for the normal path.
fn restore_kept_tree(
    entry: &CacheEntry,
    dest: &Path,
    proofs: &Proofs<'_>,
    reporter: &dyn Reporter,
) -> Option<Installed> {
    let marker = Marker::read(&entry.tree, proofs.artifact).ok()??;
    let good_enough =
        marker.sha512 == proofs.expected && (marker.signature_checked || proofs.verifier.is_none());
    if !good_enough || dest.exists() || fs_err::rename(&entry.tree, dest).is_err() {
        return None;
    }
    reporter.step(&format!(
        "{}: restored the verified tree kept in the cache to {}",
        proofs.artifact.file_name,
        dest.display()
    ));
    Some(Installed {
        artifact: proofs.artifact.clone(),
        dir: dest.to_path_buf(),
        sha512: marker.sha512,
        downloaded: false,
        signature_checked: marker.signature_checked,
    })
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
            .starts_with(".kafkup-unpack-")
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// What the dist sites say the tarball must be.
struct Proofs<'a> {
    artifact: &'a Artifact,
    checksum_url: Url,
    expected: String,
    verifier: Option<Verifier>,
}

fn check_sources(sources: &Sources) -> Result<(), FetchError> {
    if sources.mirrors.is_empty() {
        return Err(FetchError::NoSources { what: "mirror" });
    }
    if sources.dists.is_empty() {
        return Err(FetchError::NoSources { what: "dist" });
    }
    for url in sources.mirrors.iter().chain(&sources.dists) {
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

fn urls(bases: &[Url], url_of: impl Fn(&Url) -> Url) -> Vec<Url> {
    bases.iter().map(url_of).collect()
}

fn all_not_found(failures: &[SourceFailure]) -> bool {
    failures.iter().all(|f| f.not_found)
}

async fn published_sha512(
    transport: &Transport,
    artifact: &Artifact,
    sources: &Sources,
    reporter: &dyn Reporter,
) -> Result<(Url, String), FetchError> {
    let file = artifact.file_name.clone();
    let candidates = urls(&sources.dists, |b| artifact.sha512_url(b));
    let (url, content) = match transport.get_small(&candidates, reporter).await {
        Ok(found) => found,
        Err(failures) if all_not_found(&failures) => {
            // No checksum anywhere: is there a release at all? A version that does not exist
            // is a mistake to point out, not a verification failure.
            let tarballs = urls(&sources.mirrors, |b| artifact.tarball_url(b));
            return Err(match transport.any_exists(&tarballs).await {
                Some(false) => FetchError::VersionNotFound {
                    project: artifact.project.to_string(),
                    version: artifact.version.clone(),
                    file,
                },
                _ => FetchError::ChecksumMissing {
                    file,
                    version: artifact.version.clone(),
                    failures,
                },
            });
        }
        Err(failures) => {
            return Err(FetchError::DistsFailed {
                what: "SHA-512 checksum",
                file,
                failures,
            })
        }
    };
    match checksum::parse_sha512_file(&content, &file) {
        Ok(hex) => {
            reporter.step(&format!(
                "{file}: expecting SHA-512 {}… from {url}",
                &hex[..16]
            ));
            Ok((url, hex))
        }
        Err(checksum::ChecksumFileError::Empty) => Err(FetchError::ChecksumEmpty {
            url: url.to_string(),
        }),
        Err(problem) => Err(FetchError::ChecksumMalformed {
            url: url.to_string(),
            problem,
        }),
    }
}

/// Fetch the signature and KEYS, and find the key that made the signature.
async fn signer(
    transport: &Transport,
    artifact: &Artifact,
    sources: &Sources,
    reporter: &dyn Reporter,
) -> Result<Verifier, FetchError> {
    let file = artifact.file_name.clone();
    let (asc_url, asc) = transport
        .get_small(
            &urls(&sources.dists, |b| artifact.signature_url(b)),
            reporter,
        )
        .await
        .map_err(|failures| match all_not_found(&failures) {
            true => FetchError::SignatureMissing {
                file: file.clone(),
                failures,
            },
            false => FetchError::DistsFailed {
                what: "OpenPGP signature",
                file: file.clone(),
                failures,
            },
        })?;
    let (keys_url, keys) = transport
        .get_small(&urls(&sources.dists, |b| artifact.keys_url(b)), reporter)
        .await
        .map_err(|failures| match all_not_found(&failures) {
            true => FetchError::KeysMissing {
                project: artifact.project.to_string(),
                failures,
            },
            false => FetchError::DistsFailed {
                what: "KEYS file",
                file: file.clone(),
                failures,
            },
        })?;

    let ring = Keyring::parse(&keys);
    if ring.skipped > 0 {
        reporter.warn(&format!(
            "{keys_url}: skipped {} of {} key blocks that could not be read",
            ring.skipped, ring.blocks
        ));
    }
    if ring.keys.is_empty() {
        return Err(FetchError::NoKeys {
            url: keys_url.to_string(),
            blocks: ring.blocks,
            skipped: ring.skipped,
        });
    }
    let sig = signature::parse_signature(&asc).map_err(|e| FetchError::SignatureMalformed {
        url: asc_url.to_string(),
        reason: e.to_string(),
    })?;
    let verifier = ring.signer_of(&sig).map_err(|e| match e {
        signature::SignatureError::UnknownSigner { issuers, .. } => FetchError::UnknownSigner {
            file: file.clone(),
            keys_url: keys_url.to_string(),
            issuers,
        },
        other => FetchError::SignatureMalformed {
            url: asc_url.to_string(),
            reason: other.to_string(),
        },
    })?;
    reporter.step(&format!(
        "{file}: signature {asc_url} is by {}, listed in {keys_url}",
        verifier.signer()
    ));
    Ok(verifier)
}

/// Use the cached tarball if there is one and it still matches; a corrupt one is removed.
async fn from_cache(
    entry: &CacheEntry,
    unpack_to: &UnpackTo,
    proofs: &Proofs<'_>,
    reporter: &dyn Reporter,
) -> Result<Option<Staged>, FetchError> {
    let name = &proofs.artifact.file_name;
    if !entry.file.is_file() {
        return Ok(None);
    }
    reporter.step(&format!(
        "{name}: checking the cached copy {}",
        entry.file.display()
    ));
    let digested = match Sink::start(&entry.file, false, Some(unpack_to.clone())) {
        Ok(sink) => sink.finish().await,
        Err(e) => Err(e),
    };
    let digested = match digested {
        Ok(d) => d,
        Err(e) => {
            reporter.warn(&format!(
                "cannot read the cached {name} ({e}); downloading it again"
            ));
            entry.discard_file();
            return Ok(None);
        }
    };
    match verify(digested, &entry.file, proofs, true).await {
        Ok(staged) => Ok(Some(staged)),
        Err(FetchError::ChecksumMismatch { actual, .. }) => {
            reporter.warn(&format!(
                "the cached {name} is corrupt (SHA-512 {}… instead of {}…); downloading it again",
                &actual[..16],
                &proofs.expected[..16]
            ));
            entry.discard_file();
            Ok(None)
        }
        Err(e) => {
            entry.discard_file();
            Err(e)
        }
    }
}

async fn from_mirrors(
    transport: &Transport,
    entry: &CacheEntry,
    unpack_to: &UnpackTo,
    proofs: &Proofs<'_>,
    sources: &Sources,
    reporter: &dyn Reporter,
) -> Result<Staged, FetchError> {
    let name = proofs.artifact.file_name.clone();
    let cache_error = |source| FetchError::CacheNotWritable {
        dir: entry.partial.parent().unwrap().to_path_buf(),
        source,
    };
    entry.create_dir().map_err(cache_error)?;
    let mut sink =
        Sink::start(&entry.partial, true, Some(unpack_to.clone())).map_err(cache_error)?;
    if !sink.is_empty() {
        reporter.step(&format!(
            "{name}: resuming after {} bytes already downloaded",
            sink.len()
        ));
    }
    let mirrors = urls(&sources.mirrors, |b| proofs.artifact.tarball_url(b));
    let downloaded = transport
        .download(&mirrors, &mut sink, &name, reporter)
        .await;
    let digested = sink.finish().await;
    let digested = match (downloaded, digested) {
        (_, Err(source)) => {
            entry.discard_partial();
            return Err(FetchError::CacheWrite { file: name, source });
        }
        (Err(DownloadFailed::Sink), Ok(_)) => {
            unreachable!("the sink thread stopped without an error")
        }
        (Err(DownloadFailed::Sources(failures)), Ok(digested)) => {
            // A network failure: keep what arrived, the next run resumes it.
            let partial = (digested.len > 0).then(|| (entry.partial.clone(), digested.len));
            if partial.is_none() {
                entry.discard_partial();
            }
            return Err(FetchError::AllMirrorsFailed {
                file: name,
                failures,
                partial,
            });
        }
        (Ok(_), Ok(digested)) => digested,
    };
    match verify(digested, &entry.partial, proofs, false).await {
        Ok(staged) => {
            entry
                .promote()
                .map_err(|source| FetchError::CacheWrite { file: name, source })?;
            Ok(staged)
        }
        Err(e) => {
            entry.discard_partial();
            Err(e)
        }
    }
}

/// Check the pass against the proofs: SHA-512 first (a mismatch explains any other failure),
/// then the signature, then whether the archive unpacked safely.
async fn verify(
    digested: Digested,
    file: &Path,
    proofs: &Proofs<'_>,
    cached: bool,
) -> Result<Staged, FetchError> {
    let name = proofs.artifact.file_name.clone();
    let actual = digested.sha512_hex();
    if actual != proofs.expected {
        return Err(FetchError::ChecksumMismatch {
            file: name,
            checksum_url: proofs.checksum_url.to_string(),
            expected: proofs.expected.clone(),
            actual,
            cached,
        });
    }
    if let Some(verifier) = &proofs.verifier {
        let checked = if verifier.reuses_sha512() {
            verifier.verify_sha512_state(digested.sha512.clone())
        } else {
            // Another digest than SHA-512: hash the file again, off the async threads.
            let (verifier, file) = (verifier.clone(), file.to_path_buf());
            tokio::task::spawn_blocking(move || {
                verifier.verify_reader(|| std::fs::File::open(&file).map(std::io::BufReader::new))
            })
            .await
            .expect("signature check panicked")
        };
        checked.map_err(|e| match e {
            signature::SignatureError::Bad { signer, reason } => FetchError::BadSignature {
                file: name.clone(),
                signer,
                reason,
            },
            other => FetchError::BadSignature {
                file: name.clone(),
                signer: verifier.signer(),
                reason: other.to_string(),
            },
        })?;
    }
    match digested.unpacked.expect("the pass unpacks") {
        Ok(staged) => Ok(staged),
        Err(UnpackError::Unsafe { entry, why }) => Err(FetchError::UnsafeArchive {
            file: name,
            entry,
            why,
        }),
        Err(UnpackError::Write { path, source }) => Err(FetchError::Install { dir: path, source }),
        Err(other) => Err(FetchError::BadArchive {
            file: name,
            reason: other.to_string(),
        }),
    }
}
