//! What can go wrong while fetching, with what to do about it.

use super::download::{all_unreachable, SourceFailure};
use super::entry_check::Unsafe;
use super::policy::UrlRefused;
use crate::error::{write_help, Diagnose, ExitCode};
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot use {url}: {reason}")]
    UrlRefused { url: String, reason: UrlRefused },

    #[error("no {what} URL is configured")]
    NoSources { what: &'static str },

    #[error("{dir} exists, but kafkup did not verify it (no {marker} inside)", marker = super::cache::MARKER)]
    InstallOccupied { dir: PathBuf },

    #[error("cannot write to the install directory {dir}")]
    InstallDirNotWritable { dir: PathBuf, source: io::Error },

    #[error("cannot write to the download cache {dir}")]
    CacheNotWritable { dir: PathBuf, source: io::Error },

    #[error("could not download {file} from any mirror:{}", list(failures))]
    AllMirrorsFailed {
        file: String,
        failures: Vec<SourceFailure>,
        partial: Option<(PathBuf, u64)>,
    },

    #[error(
        "could not fetch the {what} of {file} from any dist site:{}",
        list(failures)
    )]
    DistsFailed {
        what: &'static str,
        file: String,
        failures: Vec<SourceFailure>,
    },

    #[error("{project} {version} was not found on any mirror ({file} is on none of them)")]
    VersionNotFound {
        project: String,
        version: String,
        file: String,
    },

    #[error("no SHA-512 checksum of {file} was found:{}", list(failures))]
    ChecksumMissing {
        file: String,
        version: String,
        failures: Vec<SourceFailure>,
    },

    #[error("the SHA-512 checksum file {url} is empty")]
    ChecksumEmpty { url: String },

    #[error("the SHA-512 checksum file {url} is malformed: {problem}")]
    ChecksumMalformed {
        url: String,
        problem: super::checksum::ChecksumFileError,
    },

    #[error("{file} does not match its published SHA-512 checksum ({checksum_url})\n  expected {expected}\n  got      {actual}")]
    ChecksumMismatch {
        file: String,
        checksum_url: String,
        expected: String,
        actual: String,
        cached: bool,
    },

    #[error("no OpenPGP signature of {file} was found:{}", list(failures))]
    SignatureMissing {
        file: String,
        failures: Vec<SourceFailure>,
    },

    #[error("no KEYS file of {project} was found:{}", list(failures))]
    KeysMissing {
        project: String,
        failures: Vec<SourceFailure>,
    },

    #[error("the KEYS file {url} holds no key kafkup can read ({skipped} of {blocks} key blocks unreadable)")]
    NoKeys {
        url: String,
        blocks: usize,
        skipped: usize,
    },

    #[error("the signature {url} cannot be used: {reason}")]
    SignatureMalformed { url: String, reason: String },

    #[error("{file} is signed by a key that is not in {keys_url}: {issuers}")]
    UnknownSigner {
        file: String,
        keys_url: String,
        issuers: String,
    },

    #[error("the OpenPGP signature of {file} is not valid: {reason}")]
    BadSignature {
        file: String,
        signer: String,
        reason: String,
    },

    #[error("{file} holds an unsafe entry {entry:?}: {why}")]
    UnsafeArchive {
        file: String,
        entry: String,
        why: Unsafe,
    },

    #[error("{file} cannot be unpacked: {reason}")]
    BadArchive { file: String, reason: String },

    #[error("cannot install {dir}")]
    Install { dir: PathBuf, source: io::Error },

    #[error("cannot write the download of {file}")]
    CacheWrite { file: String, source: io::Error },

    #[error("cannot set up the HTTP client")]
    Http(#[from] reqwest::Error),

    #[error(transparent)]
    Maven(#[from] super::MavenError),

    /// `--source auto`: Apache's sites did not answer, and Maven failed too.
    #[error("{maven}\n  (before that, Apache's download sites did not answer: {apache})")]
    FallbackFailed {
        apache: String,
        maven: Box<FetchError>,
    },
}

impl FetchError {
    /// Apache's sites never answered (no connection, timeouts, server errors), which is what
    /// makes `--source auto` turn to Maven. A checksum or signature failure is an answer, and
    /// stays fatal; so is a 404, which says the release is not there.
    pub fn apache_did_not_answer(&self) -> bool {
        match self {
            FetchError::DistsFailed { failures, .. }
            | FetchError::AllMirrorsFailed { failures, .. } => all_unreachable(failures),
            _ => false,
        }
    }
}

fn list(failures: &[SourceFailure]) -> String {
    failures.iter().map(|f| format!("\n  {f}")).collect()
}

impl Diagnose for FetchError {
    fn exit_code(&self) -> ExitCode {
        use FetchError::*;
        match self {
            ChecksumMissing { .. }
            | ChecksumEmpty { .. }
            | ChecksumMalformed { .. }
            | ChecksumMismatch { .. }
            | SignatureMissing { .. }
            | KeysMissing { .. }
            | NoKeys { .. }
            | SignatureMalformed { .. }
            | UnknownSigner { .. }
            | BadSignature { .. } => ExitCode::VerificationFailed,
            Maven(e) => e.exit_code(),
            FallbackFailed { maven, .. } => maven.exit_code(),
            _ => ExitCode::Error,
        }
    }

    fn help(&self) -> Option<String> {
        use FetchError::*;
        const NOTHING: &str = "nothing was installed";
        const ARCHIVE: &str = "https://archive.apache.org/dist";
        Some(match self {
            UrlRefused { .. } => "use an https:// URL, a file:// path, or http:// only on 127.0.0.1, [::1] or localhost".into(),
            NoSources { what } => format!("pass at least one --{what} URL"),
            InstallOccupied { dir } => format!("move or delete {} and run again, or choose another --root", dir.display()),
            InstallDirNotWritable { dir, source } => write_help(dir, source, format!(
                "make {} a directory you can write to (check owner and permissions, or run as root), or choose another --root",
                dir.display()
            )),
            CacheNotWritable { dir, source } => write_help(dir, source, format!(
                "make {} a directory you can write to, or choose another --root",
                dir.display()
            )),
            AllMirrorsFailed { partial, .. } => {
                let mut help = format!(
                    "check your network and the mirror URLs, or add another with --mirror (retired releases stay at {ARCHIVE})"
                );
                if let Some((path, bytes)) = partial {
                    help.push_str(&format!(
                        "; the {bytes} bytes already downloaded are kept in {} and the next run resumes from there",
                        path.display()
                    ));
                }
                help
            }
            DistsFailed { .. } => format!("check your network, or pass a dist site that answers with --dist (e.g. {ARCHIVE})"),
            VersionNotFound { project, .. } => format!(
                "check the version: the releases are listed at {ARCHIVE}/{project}/ (pass --mirror {ARCHIVE} for retired ones); {NOTHING}"
            ),
            ChecksumMissing { version, .. } => format!(
                "check that version {version} exists; retired releases are only kept at {ARCHIVE}: pass it with --dist; {NOTHING}"
            ),
            ChecksumEmpty { .. } | ChecksumMalformed { .. } => format!(
                "the dist site served a broken checksum file; try another with --dist (e.g. {ARCHIVE}); {NOTHING}"
            ),
            ChecksumMismatch { cached: true, .. } => format!("the cached copy was corrupt and was deleted; run again to download it afresh; {NOTHING}"),
            ChecksumMismatch { .. } => format!(
                "the download is corrupt or was tampered with and was deleted; run again, or use another --mirror; {NOTHING}"
            ),
            SignatureMissing { .. } | KeysMissing { .. } => format!(
                "pass a --dist that has the signature and KEYS files (e.g. {ARCHIVE}), or --no-verify-signature to rely on the SHA-512 checksum alone; {NOTHING}"
            ),
            NoKeys { .. } | SignatureMalformed { .. } => format!(
                "try another dist site with --dist (e.g. {ARCHIVE}), or --no-verify-signature to rely on the SHA-512 checksum alone; {NOTHING}"
            ),
            UnknownSigner { .. } => format!(
                "do not use this file: none of the project's release managers in KEYS signed it. If --dist is not the official site, check it serves the project's current KEYS; {NOTHING}"
            ),
            BadSignature { .. } => format!(
                "do not use this file: it or its signature was altered. Try another --mirror and --dist; {NOTHING}"
            ),
            UnsafeArchive { .. } | BadArchive { .. } => format!(
                "this tarball cannot be installed safely: check that --mirror and --dist point at the real Apache release; {NOTHING}"
            ),
            Install { dir, source } => write_help(dir, source, format!("check that {} is writable and has free space", dir.display())),
            CacheWrite { source, .. } if crate::error::is_disk_full(source) => "the file system holding the download cache is full: free some space there or choose another --root, then run again".into(),
            CacheWrite { .. } => "check that the cache directory is writable and has free space, then run again".into(),
            Http(_) => "this is a bug or a broken TLS setup; please report it".into(),
            Maven(e) => return e.help(),
            FallbackFailed { maven, .. } => return maven.help(),
        })
    }
}
