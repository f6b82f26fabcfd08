//! Safe unpacking of a `.tar.gz` stream into a temporary directory beside the install directory.
//! Nothing is visible at the destination until [`Staged::install`] renames it into place, and a
//! failed or abandoned unpack removes its temporary directory.

use super::entry_check::{check_entry, Kind, Unsafe};
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tar::EntryType;

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("entry {entry:?} is refused: {why}")]
    Unsafe { entry: String, why: Unsafe },
    #[error("the archive is damaged: {0}")]
    Damaged(String),
    #[error("the archive has no top directory {0:?}")]
    NoTopDir(String),
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: io::Error },
}

/// Prefix of the temporary directories trees are built in, beside the install directory.
pub const STAGING_PREFIX: &str = ".kafkup-unpack-";

/// A fully unpacked, not yet installed tree: `<temp>/<top_dir>`.
#[derive(Debug)]
pub struct Staged {
    temp: tempfile::TempDir,
    top: PathBuf,
}

impl Staged {
    /// A new, empty tree `<temp>/<top_dir>` in a temporary directory in `parent`, to be filled
    /// by the caller (the Maven path assembles one from jars).
    pub fn empty(parent: &Path, top_dir: &str) -> io::Result<Staged> {
        let temp = staging_dir(parent)?;
        let top = temp.path().join(top_dir);
        fs_err::create_dir(&top)?;
        Ok(Staged { temp, top })
    }

    /// The unpacked tree, before installation.
    pub fn path(&self) -> &Path {
        &self.top
    }

    /// Rename the tree to `dest`, after writing `marker` (name, content) into it. An existing
    /// `dest` is moved into the temporary directory first and removed with it.
    pub fn install(self, dest: &Path, marker: (&str, &[u8])) -> io::Result<()> {
        fs_err::write(self.top.join(marker.0), marker.1)?;
        if fs_err::symlink_metadata(dest).is_ok() {
            fs_err::rename(dest, self.temp.path().join("replaced"))?;
        }
        fs_err::rename(&self.top, dest)?;
        Ok(())
    }
}

fn staging_dir(parent: &Path) -> io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)
}

/// Unpack the gzip-compressed tar `gz` into a new temporary directory in `parent`, accepting
/// only entries below `top_dir` (see [`check_entry`]). Permissions keep their executable bits
/// (minus group/other write), owners are not restored.
pub fn unpack(gz: impl BufRead, top_dir: &str, parent: &Path) -> Result<Staged, UnpackError> {
    let temp = staging_dir(parent).map_err(|source| UnpackError::Write {
        path: parent.to_path_buf(),
        source,
    })?;
    let read_error = Arc::new(Mutex::new(None));
    let reader = NoteReadErrors {
        inner: flate2::bufread::GzDecoder::new(gz),
        error: read_error.clone(),
    };
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(false);
    archive.set_preserve_ownerships(false);
    archive.set_unpack_xattrs(false);
    archive.set_mask(0o022);

    let damaged_or = |e: io::Error, path: &Path| match read_error.lock().unwrap().take() {
        Some(read) => UnpackError::Damaged(read),
        None => UnpackError::Write {
            path: path.to_path_buf(),
            source: e,
        },
    };
    let mut symlinks = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| UnpackError::Damaged(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| damaged_or(e, temp.path()))?;
        let entry_type = entry.header().entry_type();
        let Some(kind) = kind_of(entry_type) else {
            continue;
        };
        let path = entry
            .path()
            .map_err(|e| UnpackError::Damaged(e.to_string()))?
            .into_owned();
        let link = entry
            .link_name()
            .map_err(|e| UnpackError::Damaged(e.to_string()))?
            .map(|l| l.into_owned());
        let unsafe_entry = |why| UnpackError::Unsafe {
            entry: path.display().to_string(),
            why,
        };
        let rel = check_entry(&path, kind, link.as_deref(), top_dir).map_err(unsafe_entry)?;
        let unpacked = entry
            .unpack_in(temp.path())
            .map_err(|e| damaged_or(e, &temp.path().join(&rel)))?;
        if !unpacked {
            return Err(unsafe_entry(Unsafe::ParentDir));
        }
        if kind == Kind::Symlink {
            symlinks.push(rel);
        }
    }

    let top = temp.path().join(top_dir);
    if !fs_err::symlink_metadata(&top)
        .map(|m| m.is_dir())
        .unwrap_or(false)
    {
        return Err(UnpackError::NoTopDir(top_dir.to_string()));
    }
    check_links_on_disk(&top, temp.path(), &symlinks)?;
    Ok(Staged { temp, top })
}

/// The tar entry kinds we unpack; `None` for metadata entries that have no path of their own.
fn kind_of(t: EntryType) -> Option<Kind> {
    Some(match t {
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => Kind::File,
        EntryType::Directory => Kind::Dir,
        EntryType::Symlink => Kind::Symlink,
        EntryType::Link => Kind::HardLink,
        EntryType::XGlobalHeader => return None,
        _ => Kind::Special,
    })
}

/// Each link target was checked by name; a chain of links can still point elsewhere once on
/// disk (`a -> .`, `b -> a/..`), so resolve every link and make sure it lands inside `top`.
fn check_links_on_disk(top: &Path, temp: &Path, symlinks: &[PathBuf]) -> Result<(), UnpackError> {
    let top = top.canonicalize().map_err(|source| UnpackError::Write {
        path: top.to_path_buf(),
        source,
    })?;
    for rel in symlinks {
        match temp.join(rel).canonicalize() {
            Ok(resolved) if !resolved.starts_with(&top) => {
                let target = fs_err::read_link(temp.join(rel)).unwrap_or_default();
                return Err(UnpackError::Unsafe {
                    entry: rel.display().to_string(),
                    why: Unsafe::LinkOutside { target },
                });
            }
            // A dangling link was checked by name and cannot be followed anyway.
            _ => {}
        }
    }
    Ok(())
}

/// Remembers a read error (bad gzip data, archive cut short), so it is not mistaken for a
/// write error when tar reports it.
struct NoteReadErrors<R> {
    inner: R,
    error: Arc<Mutex<Option<String>>>,
}

impl<R: Read> Read for NoteReadErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            *self.error.lock().unwrap() = Some(e.to_string());
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::os::unix::fs::PermissionsExt;

    const TOP: &str = "app-1.0";

    /// A tar.gz from (path, kind, content or link target) triples, written without the tar
    /// crate's own path checks so hostile names go through as they are.
    fn tarball(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
        let mut builder =
            tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        for (path, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            let mode = if path.ends_with(".sh") { 0o755 } else { 0o644 };
            header.set_mode(mode);
            let body: &[u8] = if matches!(kind, EntryType::Regular) {
                data.as_bytes()
            } else {
                b""
            };
            if matches!(kind, EntryType::Symlink | EntryType::Link) {
                header.set_link_name_literal(data).unwrap();
            }
            header.set_size(body.len() as u64);
            header.set_cksum();
            builder.append(&header, body).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn unpack_bytes(gz: &[u8], parent: &Path) -> Result<Staged, UnpackError> {
        unpack(io::BufReader::new(gz), TOP, parent)
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs_err::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn unpacks_and_installs_with_executable_bits() {
        let dir = tempfile::tempdir().unwrap();
        let gz = tarball(&[
            ("app-1.0/", EntryType::Directory, ""),
            ("app-1.0/bin/run.sh", EntryType::Regular, "#!/bin/sh\n"),
            ("app-1.0/libs/a.jar", EntryType::Regular, "jar"),
            ("app-1.0/libs/b.jar", EntryType::Link, "app-1.0/libs/a.jar"),
            ("app-1.0/bin/lib", EntryType::Symlink, "../libs"),
        ]);
        let staged = unpack_bytes(&gz, dir.path()).unwrap();
        let dest = dir.path().join(TOP);
        staged.install(&dest, (".marker", b"ok")).unwrap();
        assert_eq!(leftovers(dir.path()), vec![TOP.to_string()]);
        let mode = fs_err::metadata(dest.join("bin/run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(
            fs_err::read_to_string(dest.join("libs/b.jar")).unwrap(),
            "jar"
        );
        assert_eq!(
            fs_err::read_to_string(dest.join("bin/lib/a.jar")).unwrap(),
            "jar"
        );
        assert_eq!(fs_err::read(dest.join(".marker")).unwrap(), b"ok");
    }

    #[test]
    fn install_replaces_an_existing_tree() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join(TOP);
        fs_err::create_dir_all(dest.join("old")).unwrap();
        let gz = tarball(&[("app-1.0/new", EntryType::Regular, "x")]);
        unpack_bytes(&gz, dir.path())
            .unwrap()
            .install(&dest, (".m", b""))
            .unwrap();
        assert!(dest.join("new").exists() && !dest.join("old").exists());
        assert_eq!(leftovers(dir.path()), vec![TOP.to_string()]);
    }

    fn assert_refused(entries: &[(&str, EntryType, &str)], expect: impl Fn(&UnpackError) -> bool) {
        let dir = tempfile::tempdir().unwrap();
        let err = unpack_bytes(&tarball(entries), dir.path()).unwrap_err();
        assert!(expect(&err), "unexpected error: {err:?}");
        assert!(
            leftovers(dir.path()).is_empty(),
            "left behind: {:?}",
            leftovers(dir.path())
        );
        assert!(!Path::new("/tmp/kafkup-escaped").exists());
    }

    #[test]
    fn hostile_entries_are_refused_and_leave_nothing() {
        use EntryType::*;
        let is_unsafe = |e: &UnpackError| matches!(e, UnpackError::Unsafe { .. });
        assert_refused(
            &[
                ("app-1.0/", Directory, ""),
                ("app-1.0/../../kafkup-escaped", Regular, "x"),
            ],
            is_unsafe,
        );
        assert_refused(&[("/tmp/kafkup-escaped", Regular, "x")], is_unsafe);
        assert_refused(&[("app-1.0/etc", Symlink, "/etc")], is_unsafe);
        assert_refused(&[("app-1.0/up", Symlink, "../../..")], is_unsafe);
        assert_refused(
            &[
                ("app-1.0/x", Regular, "x"),
                ("app-1.0/h", Link, "/etc/passwd"),
            ],
            is_unsafe,
        );
        assert_refused(&[("other-1.0/x", Regular, "x")], is_unsafe);
        assert_refused(
            &[("app-1.0/x", Regular, "x"), ("README", Regular, "x")],
            is_unsafe,
        );
        assert_refused(&[("app-1.0/null", Char, "")], is_unsafe);
        assert_refused(&[("app-1.0/fifo", Fifo, "")], is_unsafe);
    }

    #[test]
    fn a_chain_of_links_that_escapes_on_disk_is_refused() {
        use EntryType::*;
        // Each target is inside by name; together `b` resolves to the temp dir's parent.
        assert_refused(
            &[
                ("app-1.0/", Directory, ""),
                ("app-1.0/a", Symlink, "."),
                ("app-1.0/b", Symlink, "a/../.."),
            ],
            |e| matches!(e, UnpackError::Unsafe { .. }),
        );
        assert_refused(
            &[
                ("app-1.0/", Directory, ""),
                ("app-1.0/a", Symlink, "."),
                ("app-1.0/b", Symlink, "a/.."),
                ("app-1.0/c", Symlink, "b/.."),
            ],
            |e| matches!(e, UnpackError::Unsafe { .. }),
        );
    }

    #[test]
    fn damaged_and_empty_archives_are_errors() {
        let mut gz = tarball(&[("app-1.0/x", EntryType::Regular, &"x".repeat(100_000))]);
        gz.truncate(gz.len() / 2);
        assert_refused_bytes(&gz, |e| matches!(e, UnpackError::Damaged(_)));
        assert_refused_bytes(b"not gzip at all", |e| matches!(e, UnpackError::Damaged(_)));
        assert_refused_bytes(&tarball(&[]), |e| matches!(e, UnpackError::NoTopDir(_)));
    }

    fn assert_refused_bytes(gz: &[u8], expect: impl Fn(&UnpackError) -> bool) {
        let dir = tempfile::tempdir().unwrap();
        let err = unpack_bytes(gz, dir.path()).unwrap_err();
        assert!(expect(&err), "unexpected error: {err:?}");
        assert!(leftovers(dir.path()).is_empty());
    }
}
