//! What can go wrong while assembling a distribution from Maven, with what to do about it.
//! Exit code 3 only when bytes or signatures fail verification.

use crate::catalog::Project;
use crate::error::{write_help, Diagnose, ExitCode};
use crate::fetch::download::SourceFailure;
use std::io;
use std::path::PathBuf;

const NOTHING: &str = "nothing was installed";

#[derive(Debug, thiserror::Error)]
pub enum MavenError {
    #[error("kafkup has no Maven lock for {dist} ({lock})")]
    NoLock {
        dist: String,
        lock: String,
        project: Project,
        version: String,
        lock_dir: Option<PathBuf>,
    },

    #[error("the Maven lock {origin} is invalid{}: {reason}", at_line(*line))]
    LockInvalid {
        origin: String,
        line: usize,
        reason: String,
    },

    #[error("cannot read the Maven lock {path}")]
    LockUnreadable { path: PathBuf, source: io::Error },

    #[error("the Maven lock {path} disagrees with the one built into kafkup: {reason}")]
    LockDisagrees { path: PathBuf, reason: String },

    #[error("cannot read the KEYS file {path}")]
    KeysFileUnreadable { path: PathBuf, source: io::Error },

    #[error("{}{jar} from any Maven repository:{}", if *not_found { "no Maven repository has " } else { "could not download " }, list(failures))]
    JarDownloadFailed {
        jar: String,
        not_found: bool,
        failures: Vec<SourceFailure>,
        partial: Option<(PathBuf, u64)>,
    },

    #[error("{jar} from {url} does not match kafkup's lock\n  expected SHA-256 {expected}\n  got              {actual}")]
    JarMismatch {
        jar: String,
        url: String,
        expected: String,
        actual: String,
    },

    #[error(
        "could not fetch the OpenPGP signature of {jar} from any Maven repository:{}",
        list(failures)
    )]
    SignatureDownloadFailed {
        jar: String,
        failures: Vec<SourceFailure>,
    },

    #[error("the signature {url} of {jar} cannot be used: {reason}")]
    SignatureMalformed {
        jar: String,
        url: String,
        reason: String,
    },

    #[error("the OpenPGP signature {url} of {jar} is not valid: {reason}")]
    BadSignature {
        jar: String,
        url: String,
        signer: String,
        reason: String,
    },

    #[error("cannot write to the download cache {dir}")]
    Cache { dir: PathBuf, source: io::Error },

    #[error("cannot install {dir}")]
    Install { dir: PathBuf, source: io::Error },
}

fn at_line(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" (line {line})")
    }
}

fn list(failures: &[SourceFailure]) -> String {
    failures.iter().map(|f| format!("\n  {f}")).collect()
}

impl MavenError {
    /// Whether this says that bytes or signatures failed verification (exit 3).
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            MavenError::LockDisagrees { .. }
                | MavenError::JarMismatch { .. }
                | MavenError::SignatureMalformed { .. }
                | MavenError::BadSignature { .. }
        )
    }
}

impl Diagnose for MavenError {
    fn exit_code(&self) -> ExitCode {
        match self {
            _ if self.is_verification_failure() => ExitCode::VerificationFailed,
            MavenError::NoLock { .. } => ExitCode::Usage,
            _ => ExitCode::Error,
        }
    }

    fn help(&self) -> Option<String> {
        use MavenError::*;
        Some(match self {
            NoLock {
                project,
                version,
                lock,
                lock_dir,
                ..
            } => {
                let looked = lock_dir
                    .as_ref()
                    .map(|d| format!(" (looked for {lock} in {} too)", d.display()))
                    .unwrap_or_default();
                format!(
                    "use `--source apache` for {} {version} (the release tarball), or a version that has a lock ({}){looked}; \
                     to add a lock, run `scripts/lock-maven.sh {project} {version}` in kafkup's source tree and pass \
                     the directory it wrote with --maven-lock-dir, or add the file to catalog/maven/ and rebuild kafkup",
                    project.title(),
                    super::lock::built_in_names().join(", ")
                )
            }
            LockInvalid { .. } => "a built-in lock is a bug (please report it); a lock from --maven-lock-dir must be written by scripts/lock-maven.sh".into(),
            LockUnreadable { path, .. } => format!("check that {} is readable, or drop --maven-lock-dir", path.display()),
            LockDisagrees { .. } => format!(
                "a lock from --maven-lock-dir may add versions, never change the pins of a built-in one: remove that file or drop --maven-lock-dir; {NOTHING}"
            ),
            KeysFileUnreadable { path, .. } => format!("check the path given with --keys ({})", path.display()),
            JarDownloadFailed { not_found: true, .. } => format!(
                "the repository lacks a jar of the lock: check that --maven-repo points at Maven Central or a complete proxy of it; {NOTHING}"
            ),
            JarDownloadFailed { partial, .. } => {
                let mut help = format!("check your network and the --maven-repo URLs; {NOTHING}");
                if let Some((path, bytes)) = partial {
                    help.push_str(&format!(
                        " (the {bytes} bytes already downloaded are kept in {} and the next run resumes from there)",
                        path.display()
                    ));
                }
                help
            }
            JarMismatch { .. } => format!(
                "do not use this repository as it is: it served other bytes than the ones kafkup pins (the download was deleted). Try another --maven-repo; {NOTHING}"
            ),
            SignatureDownloadFailed { .. } => format!("check your network and the --maven-repo URLs, or --no-verify-signature to rely on the lock alone; {NOTHING}"),
            SignatureMalformed { .. } | BadSignature { .. } => format!(
                "do not use this repository as it is: the signature published for that jar is not the release manager's. Try another --maven-repo; {NOTHING}"
            ),
            Cache { dir, source } => write_help(dir, source, format!("make {} a directory you can write to, or choose another --root", dir.display())),
            Install { dir, source } => write_help(dir, source, format!("check that {} is writable and has free space", dir.display())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_lock_names_source_apache_and_how_to_add_one() {
        let err = MavenError::NoLock {
            dist: "kafka_2.13-3.9.0".into(),
            lock: "kafka_2.13-3.9.0.lock".into(),
            project: Project::Kafka,
            version: "3.9.0".into(),
            lock_dir: None,
        };
        assert_eq!(err.exit_code(), ExitCode::Usage);
        let help = err.help().unwrap();
        assert!(help.contains("--source apache"), "{help}");
        assert!(help.contains("scripts/lock-maven.sh kafka 3.9.0"), "{help}");
        assert!(help.contains("--maven-lock-dir"), "{help}");
        assert!(help.contains("kafka_2.13-3.9.2.lock"), "{help}");
    }
}
