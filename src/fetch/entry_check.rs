//! Which tar entries may be unpacked: pure checks on the names and link targets an archive claims.
//! Anything doubtful is rejected (the whole archive fails), never silently skipped.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

/// The kinds of entry the unpacker meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    HardLink,
    /// Devices, fifos and anything else a release tarball has no business holding.
    Special,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsafe {
    #[error("it has an absolute path")]
    Absolute,
    #[error("its path goes up with `..`")]
    ParentDir,
    #[error("it has an empty path")]
    Empty,
    #[error("it is outside the expected top directory {expected:?}")]
    WrongTopDir { expected: String },
    #[error("the top directory {0:?} is not a directory")]
    TopNotDir(String),
    #[error("it is a device file or fifo")]
    Special,
    #[error("it links to {target:?}, outside the unpacked tree")]
    LinkOutside { target: PathBuf },
    #[error("it is a link without a target")]
    LinkWithoutTarget,
}

/// Check one entry: `path` as stored, `link` the target of a symlink or hard link.
/// Returns the entry's path made of plain names only (relative, starting with `top_dir`).
pub fn check_entry(
    path: &Path,
    kind: Kind,
    link: Option<&Path>,
    top_dir: &str,
) -> Result<PathBuf, Unsafe> {
    if kind == Kind::Special {
        return Err(Unsafe::Special);
    }
    let names = plain_names(path)?;
    if names
        .first()
        .map(|n| *n != OsStr::new(top_dir))
        .unwrap_or(true)
    {
        return Err(Unsafe::WrongTopDir {
            expected: top_dir.to_string(),
        });
    }
    if names.len() == 1 && kind != Kind::Dir {
        return Err(Unsafe::TopNotDir(top_dir.to_string()));
    }
    match kind {
        Kind::Symlink => check_symlink(&names, link.ok_or(Unsafe::LinkWithoutTarget)?, top_dir)?,
        Kind::HardLink => check_hard_link(link.ok_or(Unsafe::LinkWithoutTarget)?, top_dir)?,
        _ => {}
    }
    Ok(names.iter().collect())
}

/// The path's names, rejecting absolute paths and `..`; `.` components are dropped.
fn plain_names(path: &Path) -> Result<Vec<&OsStr>, Unsafe> {
    let mut names = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => names.push(name),
            Component::CurDir => {}
            Component::ParentDir => return Err(Unsafe::ParentDir),
            Component::RootDir | Component::Prefix(_) => return Err(Unsafe::Absolute),
        }
    }
    if names.is_empty() {
        return Err(Unsafe::Empty);
    }
    Ok(names)
}

/// A symlink's target is read relative to the directory holding the link; it must stay inside
/// `top_dir`. (The unpacker also checks the links it made on disk, for chains of links.)
fn check_symlink(entry: &[&OsStr], target: &Path, top_dir: &str) -> Result<(), Unsafe> {
    let outside = || Unsafe::LinkOutside {
        target: target.to_path_buf(),
    };
    if target.as_os_str().is_empty() {
        return Err(Unsafe::LinkWithoutTarget);
    }
    let mut resolved: Vec<&OsStr> = entry[..entry.len() - 1].to_vec();
    for component in target.components() {
        match component {
            Component::Normal(name) => resolved.push(name),
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop().ok_or_else(outside)?;
            }
            Component::RootDir | Component::Prefix(_) => return Err(outside()),
        }
    }
    if resolved.first() == Some(&OsStr::new(top_dir)) {
        Ok(())
    } else {
        Err(outside())
    }
}

/// A hard link's target is another path of the archive, under the same rules as entry paths.
fn check_hard_link(target: &Path, top_dir: &str) -> Result<(), Unsafe> {
    let outside = || Unsafe::LinkOutside {
        target: target.to_path_buf(),
    };
    let names = plain_names(target).map_err(|_| outside())?;
    if names.len() > 1 && names[0] == OsStr::new(top_dir) {
        Ok(())
    } else {
        Err(outside())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOP: &str = "kafka_2.13-3.9.2";

    fn check(path: &str, kind: Kind, link: Option<&str>) -> Result<PathBuf, Unsafe> {
        check_entry(Path::new(path), kind, link.map(Path::new), TOP)
    }

    #[test]
    fn plain_entries_under_the_top_dir_pass() {
        assert_eq!(
            check("kafka_2.13-3.9.2/", Kind::Dir, None),
            Ok(PathBuf::from(TOP))
        );
        assert_eq!(
            check("kafka_2.13-3.9.2/libs/a.jar", Kind::File, None),
            Ok(Path::new(TOP).join("libs/a.jar"))
        );
        assert_eq!(
            check("./kafka_2.13-3.9.2/bin/x.sh", Kind::File, None),
            Ok(Path::new(TOP).join("bin/x.sh"))
        );
    }

    #[test]
    fn traversal_and_absolute_paths_are_rejected() {
        assert_eq!(
            check("kafka_2.13-3.9.2/../evil", Kind::File, None),
            Err(Unsafe::ParentDir)
        );
        assert_eq!(check("../evil", Kind::File, None), Err(Unsafe::ParentDir));
        assert_eq!(
            check("/etc/passwd", Kind::File, None),
            Err(Unsafe::Absolute)
        );
        assert_eq!(
            check("/kafka_2.13-3.9.2/x", Kind::File, None),
            Err(Unsafe::Absolute)
        );
        assert_eq!(check("./", Kind::Dir, None), Err(Unsafe::Empty));
    }

    #[test]
    fn everything_must_be_under_the_expected_top_dir() {
        let wrong = Err(Unsafe::WrongTopDir {
            expected: TOP.into(),
        });
        assert_eq!(
            check("kafka_2.13-3.9.1/libs/a.jar", Kind::File, None),
            wrong
        );
        assert_eq!(check("README", Kind::File, None), wrong);
        assert_eq!(
            check(TOP, Kind::File, None),
            Err(Unsafe::TopNotDir(TOP.into()))
        );
    }

    #[test]
    fn devices_and_fifos_are_rejected() {
        assert_eq!(
            check("kafka_2.13-3.9.2/dev", Kind::Special, None),
            Err(Unsafe::Special)
        );
    }

    #[test]
    fn symlinks_must_stay_inside_the_tree() {
        assert!(check("kafka_2.13-3.9.2/libs/l.jar", Kind::Symlink, Some("a.jar")).is_ok());
        assert!(check(
            "kafka_2.13-3.9.2/bin/l",
            Kind::Symlink,
            Some("../libs/a.jar")
        )
        .is_ok());
        assert!(check("kafka_2.13-3.9.2/self", Kind::Symlink, Some(".")).is_ok());
        for target in ["/etc", "/etc/passwd", "../x", "../../etc", "./../../x", ""] {
            assert!(
                check("kafka_2.13-3.9.2/l", Kind::Symlink, Some(target)).is_err(),
                "{target}"
            );
        }
        // Up to the top dir's parent and back into the top dir by name is still inside.
        assert!(check(
            "kafka_2.13-3.9.2/l",
            Kind::Symlink,
            Some("../kafka_2.13-3.9.2/x")
        )
        .is_ok());
        assert!(check("kafka_2.13-3.9.2/l", Kind::Symlink, Some("../other/x")).is_err());
        assert_eq!(
            check("kafka_2.13-3.9.2/l", Kind::Symlink, None),
            Err(Unsafe::LinkWithoutTarget)
        );
    }

    #[test]
    fn hard_links_must_name_a_path_inside_the_tree() {
        assert!(check(
            "kafka_2.13-3.9.2/b",
            Kind::HardLink,
            Some("kafka_2.13-3.9.2/a")
        )
        .is_ok());
        for target in [
            "/etc/passwd",
            "kafka_2.13-3.9.2/../../etc/passwd",
            "other/a",
            "kafka_2.13-3.9.2",
        ] {
            assert!(
                check("kafka_2.13-3.9.2/b", Kind::HardLink, Some(target)).is_err(),
                "{target}"
            );
        }
    }
}
