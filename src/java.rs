//! Finding a Java runtime and checking it is new enough.

use crate::error::Diagnose;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Java {
    pub path: PathBuf,
    pub major: u32,
}

/// The JRE kafkup installs (with `--install-java`) where apt is at hand.
pub const JRE_PACKAGE: &str = "openjdk-17-jre-headless";

#[derive(Debug, thiserror::Error)]
pub enum JavaError {
    #[error("no Java runtime found ({searched})")]
    NotFound { searched: String },
    #[error("installing {JRE_PACKAGE} with apt-get failed ({status}): {said}")]
    InstallFailed { status: String, said: String },
    #[error("could not run {path}: {reason}")]
    Unusable { path: PathBuf, reason: String },
    #[error("Java {found} at {path} is too old: {needs} needs Java {minimum} or newer")]
    TooOld {
        path: PathBuf,
        found: u32,
        minimum: u32,
        needs: String,
    },
}

impl Diagnose for JavaError {
    fn help(&self) -> Option<String> {
        Some(match self {
            JavaError::NotFound { .. } if apt_can_install() => format!(
                "pass --install-java and kafkup installs {JRE_PACKAGE} with apt-get (or install a JRE yourself, or point JAVA_HOME or --java-home at one)"
            ),
            JavaError::NotFound { .. } | JavaError::TooOld { .. } => format!(
                "install a JRE, e.g. `sudo apt-get install {JRE_PACKAGE}`, or point JAVA_HOME (or --java-home) at one"
            ),
            JavaError::InstallFailed { .. } => format!(
                "check apt's sources and the network, or install {JRE_PACKAGE} yourself"
            ),
            JavaError::Unusable { .. } => "check JAVA_HOME / --java-home points at a working Java installation".into(),
        })
    }
}

/// Where to look, in order: an explicit home, JAVA_HOME, then `java` on PATH.
pub fn locate(explicit_home: Option<&Path>) -> Result<PathBuf, JavaError> {
    if let Some(home) = explicit_home {
        return executable(&home.join("bin/java")).ok_or_else(|| JavaError::NotFound {
            searched: format!("{}/bin/java does not exist", home.display()),
        });
    }
    if let Some(home) = std::env::var_os("JAVA_HOME").filter(|h| !h.is_empty()) {
        let candidate = Path::new(&home).join("bin/java");
        if let Some(found) = executable(&candidate) {
            return Ok(found);
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        if let Some(found) = executable(&dir.join("java")) {
            return Ok(found);
        }
    }
    Err(JavaError::NotFound {
        searched: "looked at --java-home, JAVA_HOME and PATH".into(),
    })
}

fn executable(path: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then(|| {
        // Units and containers need the real path, not a PATH-dependent alternatives link.
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    })
}

/// Whether kafkup could install a JRE here: root, with apt-get on PATH.
pub fn apt_can_install() -> bool {
    nix::unistd::geteuid().is_root() && on_path("apt-get")
}

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| executable(&dir.join(program)).is_some())
}

/// `apt-get update` then `apt-get install` of [`JRE_PACKAGE`], non-interactively.
pub async fn install_with_apt() -> Result<(), JavaError> {
    let steps: [&[&str]; 2] = [
        &["update", "-qq"],
        &[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            JRE_PACKAGE,
        ],
    ];
    // The JRE's postinst registers its man page with update-alternatives, which fails where
    // /usr/share/man/man1 is missing (minimal images, or once the last man page is purged).
    let _ = std::fs::create_dir_all("/usr/share/man/man1");
    for args in steps {
        let out = tokio::process::Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|e| JavaError::InstallFailed {
                status: "not started".into(),
                said: e.to_string(),
            })?;
        if !out.status.success() {
            // dpkg's own error (a failed maintainer script) is on stdout, apt's on stderr.
            let stdout = String::from_utf8_lossy(&out.stdout);
            let lines: Vec<&str> = stdout.lines().collect();
            let tail = lines[lines.len().saturating_sub(5)..].join("\n");
            let said = format!("{tail}\n{}", String::from_utf8_lossy(&out.stderr));
            return Err(JavaError::InstallFailed {
                status: out.status.to_string(),
                said: said.trim().to_string(),
            });
        }
    }
    Ok(())
}

/// Runs `java -version` and reads the major version from its first line.
pub fn inspect(path: &Path) -> Result<Java, JavaError> {
    let out = std::process::Command::new(path)
        .arg("-version")
        .output()
        .map_err(|e| JavaError::Unusable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&out.stderr);
    let major = parse_major(&text).ok_or_else(|| JavaError::Unusable {
        path: path.to_path_buf(),
        reason: format!(
            "unrecognised `java -version` output: {}",
            text.lines().next().unwrap_or("")
        ),
    })?;
    Ok(Java {
        path: path.to_path_buf(),
        major,
    })
}

/// `openjdk version "17.0.15" …` → 17; `java version "1.8.0_392"` → 8.
pub fn parse_major(version_output: &str) -> Option<u32> {
    let line = version_output.lines().find(|l| l.contains(" version \""))?;
    let quoted = line.split('"').nth(1)?;
    let mut parts = quoted.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

pub fn require(java: &Java, minimum: u32, needs: &str) -> Result<(), JavaError> {
    if java.major < minimum {
        return Err(JavaError::TooOld {
            path: java.path.clone(),
            found: java.major,
            minimum,
            needs: needs.into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_are_read_from_both_numbering_schemes() {
        assert_eq!(
            parse_major("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime"),
            Some(17)
        );
        assert_eq!(parse_major("java version \"1.8.0_392\"\n"), Some(8));
        assert_eq!(parse_major("openjdk version \"25\" 2025-09-16"), Some(25));
        assert_eq!(
            parse_major("Picked up JAVA_TOOL_OPTIONS: x\nopenjdk version \"21.0.2\""),
            Some(21)
        );
        assert_eq!(parse_major("garbage"), None);
    }
}
