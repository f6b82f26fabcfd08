//! Copying a directory tree for a snapshot: file by file, a reflink where the file system
//! can (btrfs, XFS: instant and free until either side changes), a plain copy elsewhere;
//! modes kept, and owners too when run as root (a systemd service user's data stays theirs).

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Copies the tree `from` to `to` (which must not exist); returns the bytes copied.
pub fn tree(from: &Path, to: &Path) -> io::Result<u64> {
    let meta = fs_err::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        let target = fs_err::read_link(from)?;
        std::os::unix::fs::symlink(target, to)?;
        return Ok(0);
    }
    let bytes = if meta.is_dir() {
        fs_err::create_dir(to)?;
        let mut bytes = 0;
        for entry in fs_err::read_dir(from)? {
            let entry = entry?;
            bytes += tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        bytes
    } else {
        reflink_copy::reflink_or_copy(from, to)?;
        meta.len()
    };
    fs_err::set_permissions(to, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    if nix::unistd::geteuid().is_root() {
        std::os::unix::fs::lchown(to, Some(meta.uid()), Some(meta.gid()))?;
    }
    Ok(bytes)
}

/// The bytes of the files below `dir`.
pub fn size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_copied_with_its_modes() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        fs_err::create_dir_all(from.join("topic-0")).unwrap();
        fs_err::write(
            from.join("topic-0/00000000000000000000.log"),
            b"twelve bytes",
        )
        .unwrap();
        fs_err::write(from.join("meta.properties"), b"x").unwrap();
        fs_err::set_permissions(
            from.join("meta.properties"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        let to = dir.path().join("to");
        assert_eq!(tree(&from, &to).unwrap(), 13);
        assert_eq!(
            fs_err::read(to.join("topic-0/00000000000000000000.log")).unwrap(),
            b"twelve bytes"
        );
        let mode = fs_err::metadata(to.join("meta.properties"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(size(&to), 13);
        assert!(tree(&from, &to).is_err(), "never over an existing tree");
    }
}
