//! Class-data archives (dynamic AppCDS): a JVM's first start records the classes it loads
//! (`-XX:ArchiveClassesAtExit`, written when it exits cleanly), later starts map them
//! (`-XX:SharedArchiveFile`) and reach readiness sooner.
//!
//! An archive belongs to one JDK build and one exact classpath; the JVM ignores (and warns
//! about) any other, so the file name carries a digest of both. Archives are cache: they live
//! under the cache directory and survive `teardown --purge`. A recording is written under a
//! name of its own and becomes the archive at the next start, once its JVM is surely gone.

use crate::paths::Paths;
use crate::vocab::NodeId;
use sha2::{Digest, Sha256};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// The variable a systemd unit's `ExecStart=` expands into the archive options.
pub const UNIT_VARIABLE: &str = "KAFKUP_CLASS_ARCHIVE";

/// Where an environment's archives are kept (below the cache: they survive `--purge`).
pub fn dir(paths: &Paths) -> PathBuf {
    paths.cache.join("class-archives")
}

/// The file a systemd unit reads [`UNIT_VARIABLE`] from, written before each start, so the
/// unit itself stays the same whether or not an archive exists yet.
pub fn unit_env_file(paths: &Paths, node: NodeId) -> PathBuf {
    paths.state.join(format!("{node}.class-archive.env"))
}

/// The one seam every runner uses: an environment's archives, and the options a JVM about to
/// start gets from them. An archive is only a speed-up: whatever cannot be read (the JDK, a
/// jar) means a start without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archives {
    dir: PathBuf,
    /// Names this environment's recordings (environments may share one cache).
    environment: PathBuf,
}

/// Which JDK runs the JVM, and how its paths map to the host's.
pub enum Jdk<'a> {
    /// The host's JDK: the command's own program, paths as they are.
    Host,
    /// A container image's JDK (its id names it); the command's paths are the container's,
    /// `on_host` finds each on the host, and the JVM sees the archive directory at `seen_as`.
    Image {
        id: &'a str,
        on_host: &'a dyn Fn(&Path) -> PathBuf,
        seen_as: &'a Path,
    },
}

impl Archives {
    pub fn of(paths: &Paths) -> Archives {
        Archives {
            dir: dir(paths),
            environment: paths.state.clone(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options for the JVM `command` of `node`, started by `starter` on `jdk`.
    pub fn options(
        &self,
        node: NodeId,
        starter: Starter,
        command: &[String],
        jdk: Jdk,
    ) -> Vec<String> {
        if !is_java(command) {
            return Vec::new();
        }
        let slot = || -> io::Result<(ClassArchive, PathBuf)> {
            let (identity, seen_as) = match &jdk {
                Jdk::Host => (host_jdk(Path::new(&command[0]))?, self.dir.clone()),
                Jdk::Image { id, seen_as, .. } => {
                    (format!("{id}\n{}", command[0]), seen_as.to_path_buf())
                }
            };
            let identity_path = |p: &Path| p.to_path_buf();
            let on_host: &dyn Fn(&Path) -> PathBuf = match &jdk {
                Jdk::Host => &identity_path,
                Jdk::Image { on_host, .. } => *on_host,
            };
            let classpath = classpath_files(&classpath_of(command), on_host)?;
            let name = node.name();
            let slot =
                ClassArchive::new(&self.dir, &name, &identity, &classpath, &self.environment);
            Ok((slot, seen_as))
        };
        slot()
            .and_then(|(slot, seen_as)| slot.options(&seen_as, starter))
            .unwrap_or_default()
    }
}

/// One file on the classpath, as the JVM validates it: path, size, modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClasspathFile {
    pub path: String,
    pub size: u64,
    pub mtime: i64,
}

/// Who starts the JVM: a service records an archive when there is none yet; a tool only maps
/// the archive of the service whose classpath it shares. Recording would cost a tool more than
/// it gains: the JVM dumps the archive at exit, on setup's way (the README has the KRaft
/// format's figures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starter {
    Service,
    Tool,
}

/// The archive slot of one service of one environment for one JDK and classpath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassArchive {
    /// The archive directory on the host.
    dir: PathBuf,
    /// `<service>-<digest of JDK and classpath>`.
    stem: String,
    /// Tells the recordings of environments sharing one cache apart.
    recorder: String,
}

impl ClassArchive {
    pub fn new(
        dir: &Path,
        name: &str,
        jdk: &str,
        classpath: &[ClasspathFile],
        environment: &Path,
    ) -> Self {
        let recorder = Sha256::digest(environment.to_string_lossy().as_bytes());
        ClassArchive {
            dir: dir.to_path_buf(),
            stem: format!("{name}-{}", key(jdk, classpath)),
            recorder: hex::encode(&recorder[..4]),
        }
    }

    /// The archive later starts use.
    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.jsa", self.stem))
    }

    fn recording(&self) -> PathBuf {
        self.dir
            .join(format!("{}.recording-{}.jsa", self.stem, self.recorder))
    }

    /// The JVM options for a start about to happen (the service is not running): use the
    /// archive when there is one, else record one (a service) or go without (a tool).
    /// `seen_as` is the directory as the JVM sees it (inside a container it is mounted
    /// elsewhere).
    pub fn options(&self, seen_as: &Path, starter: Starter) -> io::Result<Vec<String>> {
        fs::create_dir_all(&self.dir)?;
        self.adopt_recording()?;
        let inside = |p: PathBuf| seen_as.join(p.file_name().expect("a file name"));
        Ok(match (self.path().is_file(), starter) {
            (true, _) => vec![format!(
                "-XX:SharedArchiveFile={}",
                inside(self.path()).display()
            )],
            (false, Starter::Tool) => Vec::new(),
            // Recording warns about every class it skips (JFR events, odd locations): noise.
            (false, Starter::Service) => vec![
                format!(
                    "-XX:ArchiveClassesAtExit={}",
                    inside(self.recording()).display()
                ),
                "-Xlog:cds=error,cds+dynamic=error".into(),
            ],
        })
    }

    /// A recording left by the previous run (now gone) becomes the archive. One that is empty
    /// was cut off and is dropped.
    fn adopt_recording(&self) -> io::Result<()> {
        let recording = self.recording();
        match fs::metadata(&recording) {
            Ok(m) if m.len() > 0 && !self.path().exists() => fs::rename(&recording, self.path()),
            Ok(_) => fs::remove_file(&recording),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The entries of a java command line's `-cp` (or `-classpath`).
pub fn classpath_of(command: &[String]) -> Vec<String> {
    let at = command.iter().position(|a| a == "-cp" || a == "-classpath");
    at.and_then(|i| command.get(i + 1))
        .map(|cp| cp.split(':').map(str::to_string).collect())
        .unwrap_or_default()
}

/// Is this command line a JVM's? (Tests start shell scripts through the same runners.)
pub fn is_java(command: &[String]) -> bool {
    command
        .first()
        .is_some_and(|program| Path::new(program).file_name() == Some("java".as_ref()))
}

/// `command` with `options` right after the program.
pub fn with_options(command: &[String], options: &[String]) -> Vec<String> {
    let (program, args) = command
        .split_first()
        .expect("a command line is never empty");
    let mut out = vec![program.clone()];
    out.extend_from_slice(options);
    out.extend_from_slice(args);
    out
}

/// The digest that names an archive: JDK identity and every classpath file.
pub fn key(jdk: &str, classpath: &[ClasspathFile]) -> String {
    let mut h = Sha256::new();
    h.update(jdk.as_bytes());
    for f in classpath {
        h.update(format!("\0{}\0{}\0{}", f.path, f.size, f.mtime).as_bytes());
    }
    hex::encode(&h.finalize()[..10])
}

/// A host JDK's identity: its real `java.home` and its `release` file (vendor, version, build).
pub fn host_jdk(java: &Path) -> io::Result<String> {
    let java = fs::canonicalize(java)?;
    let home = java
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| io::Error::other(format!("{} is not in a bin directory", java.display())))?;
    let release = fs::read_to_string(home.join("release")).unwrap_or_default();
    let binary = fs::metadata(&java)?;
    Ok(format!("{}\n{release}\n{}", home.display(), binary.len()))
}

/// The files of a classpath as the launcher expands it (`dir/*` is the dir's jars, sorted),
/// with host paths given by `on_host` (the identity outside containers).
pub fn classpath_files(
    classpath: &[String],
    on_host: impl Fn(&Path) -> PathBuf,
) -> io::Result<Vec<ClasspathFile>> {
    let mut files = Vec::new();
    for entry in classpath {
        let paths = match entry.strip_suffix("/*") {
            Some(dir) => {
                let mut jars: Vec<PathBuf> = fs::read_dir(on_host(Path::new(dir)))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "jar"))
                    .collect();
                jars.sort();
                jars
            }
            None => vec![on_host(Path::new(entry))],
        };
        for p in paths {
            let m = fs::metadata(&p)?;
            let mtime = m
                .modified()?
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            files.push(ClasspathFile {
                path: p.display().to_string(),
                size: m.len(),
                mtime,
            });
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jar(path: &str, size: u64) -> ClasspathFile {
        ClasspathFile {
            path: path.into(),
            size,
            mtime: 1,
        }
    }

    #[test]
    fn the_key_changes_with_the_jdk_and_every_jar() {
        let cp = vec![jar("/a.jar", 1), jar("/b.jar", 2)];
        let base = key("jdk17", &cp);
        assert_eq!(base, key("jdk17", &cp.clone()));
        assert_ne!(base, key("jdk25", &cp));
        assert_ne!(base, key("jdk17", &[jar("/a.jar", 1), jar("/b.jar", 3)]));
        assert_ne!(base, key("jdk17", &[jar("/a.jar", 1)]));
        assert_ne!(base, key("jdk17", &[jar("/b.jar", 2), jar("/a.jar", 1)]));
    }

    #[test]
    fn records_first_then_uses_the_recording_once_its_jvm_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let slot = ClassArchive::new(dir.path(), "kafka", "jdk", &[], Path::new("/e"));
        let first = slot.options(Path::new("/seen"), Starter::Service).unwrap();
        assert!(
            first[0].starts_with("-XX:ArchiveClassesAtExit=/seen/kafka-"),
            "{first:?}"
        );
        // The JVM never wrote it (killed): record again.
        assert_eq!(
            slot.options(Path::new("/seen"), Starter::Service).unwrap(),
            first
        );
        fs::write(slot.recording(), b"archive").unwrap();
        let next = slot.options(Path::new("/seen"), Starter::Service).unwrap();
        let used = format!("-XX:SharedArchiveFile=/seen/{}.jsa", slot.stem);
        assert_eq!(next, vec![used]);
        assert!(slot.path().is_file() && !slot.recording().exists());
    }

    #[test]
    fn a_tool_maps_the_services_archive_and_never_records() {
        let dir = tempfile::tempdir().unwrap();
        let slot = ClassArchive::new(dir.path(), "kafka", "jdk", &[], Path::new("/e"));
        let seen = Path::new("/seen");
        assert_eq!(
            slot.options(seen, Starter::Tool).unwrap(),
            Vec::<String>::new()
        );
        assert!(
            fs::read_dir(dir.path()).unwrap().next().is_none(),
            "nothing recorded"
        );
        // The service's recording, left by its last clean stop, is the archive a tool maps.
        fs::write(slot.recording(), b"archive").unwrap();
        let used = format!("-XX:SharedArchiveFile=/seen/{}.jsa", slot.stem);
        assert_eq!(
            slot.options(seen, Starter::Tool).unwrap(),
            vec![used.clone()]
        );
        assert_eq!(slot.options(seen, Starter::Service).unwrap(), vec![used]);
    }

    #[test]
    fn an_empty_recording_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let slot = ClassArchive::new(dir.path(), "zookeeper", "j", &[], Path::new("/e"));
        fs::create_dir_all(dir.path()).unwrap();
        fs::write(slot.recording(), b"").unwrap();
        let opts = slot.options(dir.path(), Starter::Service).unwrap();
        assert!(opts[0].starts_with("-XX:ArchiveClassesAtExit="), "{opts:?}");
        assert!(!slot.recording().exists() && !slot.path().exists());
    }

    #[test]
    fn the_classpath_comes_from_the_command_line() {
        let cmd: Vec<String> = ["/j/bin/java", "-Xmx1g", "-cp", "/a/*:/b.jar", "Main"]
            .map(String::from)
            .to_vec();
        assert_eq!(classpath_of(&cmd), ["/a/*", "/b.jar"]);
        assert!(is_java(&cmd) && !is_java(&["/bin/sh".to_string()]));
    }

    #[test]
    fn classpath_wildcards_expand_to_sorted_jars() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["b.jar", "a.jar", "notes.txt"] {
            fs::write(dir.path().join(f), f).unwrap();
        }
        let cp = vec![format!("{}/*", dir.path().display())];
        let files = classpath_files(&cp, Path::to_path_buf).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.path.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(names, ["a.jar", "b.jar"]);
    }
}
