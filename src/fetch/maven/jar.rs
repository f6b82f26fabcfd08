//! One jar of a lock: from the cache if it still matches, else downloaded (resumable, from the
//! first repository that has it) and checked against the lock's SHA-256 and size before it
//! enters the cache; then, for an Apache jar, its `.asc` against the KEYS at hand.

use super::keys::KeysAtHand;
use super::lock::LockedJar;
use super::MavenError;
use crate::fetch::cache::CachedFile;
use crate::fetch::download::{all_not_found, settle, Settled, Transport};
use crate::fetch::signature::{self, SignatureError};
use crate::fetch::stream::{Digested, Sink};
use crate::report::Reporter;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use url::Url;

/// What getting one jar needs.
pub struct JarJob<'a> {
    pub jar: &'a LockedJar,
    pub transport: &'a Transport,
    pub repos: &'a [Url],
    pub cache: &'a Path,
    /// The KEYS its signature is checked against: `None` for jars that are not Apache's, or
    /// with `--no-verify-signature`.
    pub keys: Option<&'a KeysAtHand>,
    pub reporter: &'a dyn Reporter,
}

/// A verified jar in the cache.
#[derive(Debug)]
pub struct JarDone {
    pub path: PathBuf,
    pub downloaded: bool,
    pub signature: SignatureCheck,
}

/// What the signature check of one jar found (failures are errors instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Not an Apache jar, or signatures are not checked: the lock alone vouches for it.
    NotChecked,
    Verified {
        signer: String,
    },
    /// Its `.asc` names a key that is not in the KEYS at hand.
    UnknownSigner {
        issuers: Vec<String>,
    },
    /// The repository has no `.asc` for it.
    NotPublished,
}

pub async fn get(job: &JarJob<'_>) -> Result<JarDone, MavenError> {
    let jar = job.jar;
    let entry = CachedFile::jar(job.cache, &jar.coord.file_name(), &jar.sha256);
    let held = entry_lock(&entry.file);
    let guard = held.lock().await;
    let downloaded = if cached_copy_matches(&entry, jar, job.reporter).await {
        false
    } else {
        download(job, &entry).await?;
        true
    };
    drop(guard);
    let signature = check_signature(job, &entry.file).await?;
    Ok(JarDone {
        path: entry.file,
        downloaded,
        signature,
    })
}

/// One cache entry is worked on by one task at a time: Kafka 3.x and ZooKeeper share jars
/// (snappy-java, netty…), and their fetches run at once.
fn entry_lock(file: &Path) -> Arc<tokio::sync::Mutex<()>> {
    type Locks = Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>;
    static LOCKS: OnceLock<Locks> = OnceLock::new();
    let mut locks = LOCKS.get_or_init(Locks::default).lock().unwrap();
    locks.entry(file.to_path_buf()).or_default().clone()
}

/// Whether the cached jar is still the one the lock pins; a corrupt one is removed.
async fn cached_copy_matches(entry: &CachedFile, jar: &LockedJar, reporter: &dyn Reporter) -> bool {
    if !entry.file.is_file() {
        return false;
    }
    let file = entry.file.clone();
    let actual = tokio::task::spawn_blocking(move || sha256_of(&file))
        .await
        .expect("hashing panicked");
    match actual {
        Ok(actual) if actual == jar.sha256 => true,
        outcome => {
            let what = match outcome {
                Ok(actual) => format!(
                    "SHA-256 {}… instead of {}…",
                    &actual[..16],
                    &jar.sha256[..16]
                ),
                Err(e) => e.to_string(),
            };
            reporter.warn(&format!(
                "the cached {} is corrupt ({what}); downloading it again",
                jar.coord.file_name()
            ));
            entry.discard_file();
            false
        }
    }
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut fs_err::File::open(path)?, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Download into `entry.partial` (resuming what a failed run left), verify, promote.
async fn download(job: &JarJob<'_>, entry: &CachedFile) -> Result<(), MavenError> {
    let jar = job.jar;
    let name = jar.coord.file_name();
    let cache_error = |source| MavenError::Cache {
        dir: entry.partial.parent().unwrap().to_path_buf(),
        source,
    };
    entry.create_dir().map_err(cache_error)?;
    // A partial longer than the jar cannot be its beginning.
    if fs_err::metadata(&entry.partial).is_ok_and(|m| m.len() > jar.size) {
        entry.discard_partial();
        entry.create_dir().map_err(cache_error)?;
    }
    let mut sink = Sink::<Sha256>::start(&entry.partial, true, None).map_err(cache_error)?;
    let urls: Vec<Url> = job.repos.iter().map(|r| jar.coord.url(r, "")).collect();
    let downloaded = job
        .transport
        .download(&urls, &mut sink, &name, job.reporter)
        .await;
    let (url, digested) = match settle(downloaded, sink.finish().await, entry) {
        Settled::Done(url, digested) => (url, digested),
        Settled::Unwritable(source) => return Err(cache_error(source)),
        Settled::Failed { failures, partial } => {
            return Err(MavenError::JarDownloadFailed {
                jar: jar.coord.to_string(),
                not_found: all_not_found(&failures),
                failures,
                partial,
            })
        }
    };
    check_against_lock(jar, &url, &digested).inspect_err(|_| entry.discard_partial())?;
    entry.promote().map_err(cache_error)
}

fn check_against_lock(
    jar: &LockedJar,
    url: &Url,
    digested: &Digested<Sha256>,
) -> Result<(), MavenError> {
    let actual = digested.hex();
    if actual == jar.sha256 && digested.len == jar.size {
        return Ok(());
    }
    Err(MavenError::JarMismatch {
        jar: jar.coord.to_string(),
        url: url.to_string(),
        expected: format!("{} ({} bytes)", jar.sha256, jar.size),
        actual: format!("{actual} ({} bytes)", digested.len),
    })
}

/// The `.asc` of an Apache jar against the KEYS at hand.
async fn check_signature(job: &JarJob<'_>, path: &Path) -> Result<SignatureCheck, MavenError> {
    let Some(keys) = job.keys else {
        return Ok(SignatureCheck::NotChecked);
    };
    let jar = job.jar.coord.to_string();
    let urls: Vec<Url> = job
        .repos
        .iter()
        .map(|r| job.jar.coord.url(r, ".asc"))
        .collect();
    let (url, asc) = match job.transport.get_small(&urls).await {
        Ok(found) => found,
        Err(failures) if all_not_found(&failures) => return Ok(SignatureCheck::NotPublished),
        Err(failures) => return Err(MavenError::SignatureDownloadFailed { jar, failures }),
    };
    let malformed = |reason: String| MavenError::SignatureMalformed {
        jar: jar.clone(),
        url: url.to_string(),
        reason,
    };
    let sig = signature::parse_signature(&asc).map_err(|e| malformed(e.to_string()))?;
    let verifier = match keys.ring.signer_of(&sig) {
        Ok(verifier) => verifier,
        Err(SignatureError::UnknownSigner { .. }) => {
            let issuers = signature::issuer_ids(&sig);
            return Ok(SignatureCheck::UnknownSigner { issuers });
        }
        Err(other) => return Err(malformed(other.to_string())),
    };
    let (checker, file) = (verifier.clone(), path.to_path_buf());
    let checked = tokio::task::spawn_blocking(move || {
        checker.verify_reader(|| std::fs::File::open(&file).map(std::io::BufReader::new))
    })
    .await
    .expect("signature check panicked");
    match checked {
        Ok(()) => Ok(SignatureCheck::Verified {
            signer: verifier.signer(),
        }),
        Err(e) => Err(MavenError::BadSignature {
            jar,
            url: url.to_string(),
            signer: verifier.signer(),
            reason: match e {
                SignatureError::Bad { reason, .. } => reason,
                other => other.to_string(),
            },
        }),
    }
}
