//! The Apache path: a release tarball from the mirrors, proven by the dist sites.
//!
//! Order of work: proofs first (SHA-512 from the dist sites, then signature and KEYS), so a
//! release that cannot be verified costs no download; then one pass over the tarball's bytes
//! (cache file, SHA-512, unpack into a temporary directory); the tree is renamed into place
//! only after the SHA-512 and the signature both verified.

use super::cache::{self, CacheEntry, Marker};
use super::download::{all_not_found, settle, Settled, Transport};
use super::signature::{self, Keyring, Verifier};
use super::stream::{Digested, Sink, UnpackTo};
use super::unpack::{Staged, UnpackError};
use super::{checksum, DistSource, FetchError, Installed, Job, Sources};
use crate::catalog::Artifact;
use crate::report::Reporter;
use sha2::Sha512;
use std::path::Path;
use url::Url;

/// Fetch, verify and install the release tarball of `artifact` into `dest`.
pub(crate) async fn fetch(job: &Job<'_>) -> Result<Installed, FetchError> {
    let Job {
        artifact,
        sources,
        paths,
        dest,
        reporter,
    } = *job;
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
    let signed = proofs.verifier.is_some();
    if let Some(marker) =
        super::restore_kept(&entry, dest, artifact, &proofs.expected, signed, reporter)
    {
        return Ok(Installed::from_marker(artifact, dest, marker));
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
        signature_checked: signed,
        source: DistSource::Apache,
    };
    staged
        .install(dest, (cache::MARKER, &marker.to_json()))
        .map_err(|source| FetchError::Install {
            dir: dest.to_path_buf(),
            source,
        })?;
    reporter.step(&format!(
        "{}: installed in {}",
        artifact.file_name,
        dest.display()
    ));
    Ok(Installed {
        downloaded,
        ..Installed::from_marker(artifact, dest, marker)
    })
}

/// What the dist sites say the tarball must be.
struct Proofs<'a> {
    artifact: &'a Artifact,
    checksum_url: Url,
    expected: String,
    verifier: Option<Verifier>,
}

fn urls(bases: &[Url], url_of: impl Fn(&Url) -> Url) -> Vec<Url> {
    bases.iter().map(url_of).collect()
}

async fn published_sha512(
    transport: &Transport,
    artifact: &Artifact,
    sources: &Sources,
    reporter: &dyn Reporter,
) -> Result<(Url, String), FetchError> {
    let file = artifact.file_name.clone();
    let candidates = urls(&sources.dists, |b| artifact.sha512_url(b));
    let (url, content) = match transport.get_small(&candidates).await {
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
        .get_small(&urls(&sources.dists, |b| artifact.signature_url(b)))
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
        .get_small(&urls(&sources.dists, |b| artifact.keys_url(b)))
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
    let digested = match Sink::<Sha512>::start(&entry.file, false, Some(unpack_to.clone())) {
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
    let mut sink = Sink::<Sha512>::start(&entry.partial, true, Some(unpack_to.clone()))
        .map_err(cache_error)?;
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
    let digested = match settle(downloaded, sink.finish().await, entry) {
        Settled::Done(_, digested) => digested,
        Settled::Unwritable(source) => return Err(FetchError::CacheWrite { file: name, source }),
        Settled::Failed { failures, partial } => {
            return Err(FetchError::AllMirrorsFailed {
                file: name,
                failures,
                partial,
            })
        }
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
    let actual = digested.hex();
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
            verifier.verify_sha512_state(digested.hash.clone())
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
