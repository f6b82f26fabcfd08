//! Download, verify and unpack ASF release tarballs.
//!
//! CONTRACT (owned by the fetch module; callers use only what is below):
//! `fetch(&artifact, &sources, &paths, reporter) -> Result<Installed, FetchError>`.

pub mod cache;
pub mod checksum;
pub mod download;
pub mod signature;
pub mod unpack;

use crate::catalog::Artifact;
use crate::paths::Paths;
use crate::report::Reporter;
use std::path::PathBuf;
use url::Url;

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

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("TODO")]
    Todo,
}

impl crate::error::Diagnose for FetchError {}

pub async fn fetch(
    _artifact: &Artifact,
    _sources: &Sources,
    _paths: &Paths,
    _reporter: &dyn Reporter,
) -> Result<Installed, FetchError> {
    Err(FetchError::Todo)
}
