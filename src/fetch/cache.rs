//! The download cache and the marker of a verified install.
//!
//! Cache layout: `<cache>/<project>/<version>/<first 16 hex of the SHA-512>/<file>`, plus
//! `<file>.partial` while downloading. Keyed by the published digest, so a re-published file
//! never meets an old partial, and a cached file is only ever compared with one digest.
//! Maven jars: `<cache>/maven/<first 16 hex of the SHA-256>/<jar>` (see [`CachedFile::jar`]).

use super::DistSource;
use crate::catalog::Artifact;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};

/// Name of the marker written into an installed tree once it was verified.
pub const MARKER: &str = ".kafkup-verified.json";

/// A file the cache keeps: the verified file, the download in progress beside it, and the
/// directory that holds both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedFile {
    /// `<cache>` itself: empty directories are pruned up to here, not beyond.
    root: PathBuf,
    pub dir: PathBuf,
    /// The verified file.
    pub file: PathBuf,
    /// The download in progress.
    pub partial: PathBuf,
}

impl CachedFile {
    fn new(cache: &Path, dir: PathBuf, file_name: &str) -> CachedFile {
        CachedFile {
            root: cache.to_path_buf(),
            file: dir.join(file_name),
            partial: dir.join(format!("{file_name}.partial")),
            dir,
        }
    }

    /// A Maven jar, keyed by the SHA-256 its lock pins.
    pub fn jar(cache: &Path, file_name: &str, sha256: &str) -> CachedFile {
        let dir = cache.join("maven").join(&sha256[..16.min(sha256.len())]);
        CachedFile::new(cache, dir, file_name)
    }

    pub fn create_dir(&self) -> io::Result<()> {
        fs_err::create_dir_all(&self.dir)
    }

    /// The partial download was verified: it becomes the cached file.
    pub fn promote(&self) -> io::Result<()> {
        fs_err::rename(&self.partial, &self.file)
    }

    /// Remove the cached file.
    pub fn discard_file(&self) {
        remove_if_present(&self.file);
        self.prune();
    }

    /// Remove the partial download (after a failed verification: it cannot be resumed).
    pub fn discard_partial(&self) {
        remove_if_present(&self.partial);
        self.prune();
    }

    /// Remove the directories of this entry that are now empty, up to the cache root.
    pub fn prune(&self) {
        prune_up_to(&self.dir, &self.root);
    }
}

/// A release tarball in the cache, and the tree unpacked from it that `teardown` keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    download: CachedFile,
    /// A verified, unpacked tree kept here by `teardown` (with its marker), so that the next
    /// setup needs a rename instead of another unpack.
    pub tree: PathBuf,
}

impl CacheEntry {
    pub fn new(cache: &Path, artifact: &Artifact, sha512: &str) -> CacheEntry {
        let dir = cache
            .join(artifact.project.dir())
            .join(&artifact.version)
            .join(&sha512[..16.min(sha512.len())]);
        CacheEntry {
            tree: dir.join(&artifact.top_dir),
            download: CachedFile::new(cache, dir, &artifact.file_name),
        }
    }
}

/// An entry is its download, with a tree beside it.
impl std::ops::Deref for CacheEntry {
    type Target = CachedFile;
    fn deref(&self) -> &CachedFile {
        &self.download
    }
}

/// Remove `dir` and its parents while they are empty, stopping at `root`.
fn prune_up_to(dir: &Path, root: &Path) {
    let mut dir = Some(dir);
    while let Some(d) = dir.filter(|d| d.starts_with(root) && *d != root) {
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

fn remove_if_present(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!("cannot remove {}: {e}", path.display());
        }
    }
}

/// What the marker of an installed tree records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The release tarball this tree is (or, assembled from Maven, stands in for).
    pub file_name: String,
    /// The tarball's SHA-512, or that of the lock's jar list for a tree assembled from Maven.
    pub sha512: String,
    pub signature_checked: bool,
    #[serde(default)]
    pub source: DistSource,
}

impl Marker {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a marker serializes")
    }

    /// The marker of the tree at `dir` for `artifact`: `Ok(None)` when `dir` does not exist,
    /// `Err` when it exists without a valid marker for this artifact.
    pub fn read(dir: &Path, artifact: &Artifact) -> Result<Option<Marker>, MarkerProblem> {
        if fs_err::symlink_metadata(dir).is_err() {
            return Ok(None);
        }
        let content = std::fs::read(dir.join(MARKER)).map_err(|_| MarkerProblem::Missing)?;
        let marker: Marker =
            serde_json::from_slice(&content).map_err(|_| MarkerProblem::Unreadable)?;
        let plausible = marker.file_name == artifact.file_name
            && marker.sha512.len() == 128
            && marker.sha512.bytes().all(|b| b.is_ascii_hexdigit());
        if plausible {
            Ok(Some(marker))
        } else {
            Err(MarkerProblem::Unreadable)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerProblem {
    Missing,
    Unreadable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_keyed_by_version_and_digest() {
        let a = Artifact::kafka("3.9.2", "2.13");
        let e = CacheEntry::new(Path::new("/c"), &a, &"ab".repeat(64));
        assert_eq!(
            e.file,
            Path::new("/c/kafka/3.9.2/abababababababab/kafka_2.13-3.9.2.tgz")
        );
        assert_eq!(
            e.partial,
            Path::new("/c/kafka/3.9.2/abababababababab/kafka_2.13-3.9.2.tgz.partial")
        );
    }

    #[test]
    fn discarding_prunes_empty_directories_but_not_the_root() {
        let root = tempfile::tempdir().unwrap();
        let a = Artifact::zookeeper("3.9.3");
        let e = CacheEntry::new(root.path(), &a, &"0".repeat(128));
        e.create_dir().unwrap();
        fs_err::write(&e.partial, b"x").unwrap();
        e.discard_partial();
        assert!(root.path().exists());
        assert_eq!(fs_err::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn markers_round_trip_and_foreign_trees_are_noticed() {
        let root = tempfile::tempdir().unwrap();
        let a = Artifact::kafka("3.9.2", "2.13");
        let dir = root.path().join(&a.top_dir);
        assert_eq!(Marker::read(&dir, &a), Ok(None));
        fs_err::create_dir(&dir).unwrap();
        assert_eq!(Marker::read(&dir, &a), Err(MarkerProblem::Missing));
        let m = Marker {
            file_name: a.file_name.clone(),
            sha512: "a".repeat(128),
            signature_checked: true,
            source: DistSource::Apache,
        };
        fs_err::write(dir.join(MARKER), m.to_json()).unwrap();
        assert_eq!(Marker::read(&dir, &a), Ok(Some(m)));
        fs_err::write(dir.join(MARKER), b"{}").unwrap();
        assert_eq!(Marker::read(&dir, &a), Err(MarkerProblem::Unreadable));
    }
}
