//! The distribution tree from verified jars: `<top>/libs/` (Kafka) or `<top>/lib/` (ZooKeeper),
//! as the release tarball lays it out, built in a temporary directory beside the install
//! directory and renamed into place with its marker, like an unpacked tarball.

use crate::catalog::{Artifact, Project};
use crate::fetch::unpack::Staged;
use std::io;
use std::path::{Path, PathBuf};

/// The directory the jars go in, where the runners' classpaths look.
pub fn lib_dir(project: Project) -> &'static str {
    match project {
        Project::Kafka => "libs",
        Project::Zookeeper => "lib",
    }
}

/// A staged tree holding `jars` (name in the tree, verified file in the cache). Jars are hard
/// links to the cache when it is on the same filesystem, copies otherwise.
pub fn stage(
    install: &Path,
    artifact: &Artifact,
    jars: &[(String, PathBuf)],
) -> io::Result<Staged> {
    let staged = Staged::empty(install, &artifact.top_dir)?;
    let libs = staged.path().join(lib_dir(artifact.project));
    fs_err::create_dir(&libs)?;
    for (name, cached) in jars {
        let target = libs.join(name);
        if std::fs::hard_link(cached, &target).is_err() {
            fs_err::copy(cached, &target)?;
        }
    }
    Ok(staged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jars_land_where_the_classpath_looks_and_nothing_shows_before_install() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        let install = root.path().join("install");
        fs_err::create_dir_all(&cache).unwrap();
        fs_err::create_dir_all(&install).unwrap();
        let jar = cache.join("a-1.jar");
        fs_err::write(&jar, b"PK").unwrap();
        let artifact = Artifact::zookeeper("3.9.5");
        let staged = stage(&install, &artifact, &[("a-1.jar".into(), jar)]).unwrap();
        let dest = install.join(&artifact.top_dir);
        assert!(!dest.exists());
        staged.install(&dest, ("marker", b"{}")).unwrap();
        assert_eq!(fs_err::read(dest.join("lib/a-1.jar")).unwrap(), b"PK");
        assert_eq!(
            fs_err::read_dir(&install).unwrap().count(),
            1,
            "no staging left"
        );
    }
}
