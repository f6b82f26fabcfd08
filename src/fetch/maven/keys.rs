//! The KEYS an Apache jar's `.asc` is checked against: the project's KEYS from the dist sites
//! when they answer, else the files given with `--keys`, else the copy built into kafkup.
//! A built-in copy goes stale (release managers come and go), which is why a signer missing
//! from the KEYS at hand is a loud warning rather than a failure: the lock already pinned the
//! jar's bytes.

use super::{Dists, MavenError};
use crate::catalog::Project;
use crate::fetch::download::Transport;
use crate::fetch::signature::Keyring;
use crate::fetch::Sources;
use crate::report::Reporter;

/// Kafka's KEYS as of October 2024 (it lacks keys of later release managers).
const KAFKA_KEYS: &[u8] = include_bytes!("../keys/kafka-KEYS");

/// The keys one project's jars are checked against, and where they came from.
#[derive(Debug, Clone)]
pub struct KeysAtHand {
    pub project: Project,
    pub ring: Keyring,
    /// Said in messages: a URL, the `--keys` files, or the built-in copy.
    pub from: String,
}

/// The KEYS at hand for `project`.
pub async fn keys_for(
    project: Project,
    sources: &Sources,
    transport: &Transport,
    dists: Dists,
    reporter: &dyn Reporter,
) -> Result<KeysAtHand, MavenError> {
    if dists == Dists::MayAnswer {
        let urls: Vec<_> = sources.dists.iter().map(|b| project.keys_url(b)).collect();
        match transport.get_small(&urls).await {
            Ok((url, bytes)) => {
                let ring = parsed(&bytes, url.as_ref(), reporter);
                if !ring.keys.is_empty() {
                    return Ok(KeysAtHand {
                        project,
                        ring,
                        from: url.to_string(),
                    });
                }
            }
            Err(failures) => reporter.step(&format!(
                "{} KEYS: no dist site answered ({}); checking against {}",
                project.title(),
                failures
                    .first()
                    .map(|f| f.reason.as_str())
                    .unwrap_or("none configured"),
                fallback_name(project, sources)
            )),
        }
    }
    fallback(project, sources, reporter)
}

/// `--keys` files when given, else the built-in copy (none for ZooKeeper).
fn fallback(
    project: Project,
    sources: &Sources,
    reporter: &dyn Reporter,
) -> Result<KeysAtHand, MavenError> {
    let from = fallback_name(project, sources);
    let files = &sources.maven.keys_files;
    let ring = if files.is_empty() {
        match project {
            Project::Kafka => Keyring::parse(KAFKA_KEYS),
            Project::Zookeeper => Keyring::default(),
        }
    } else {
        let mut all = Vec::new();
        for path in files {
            let bytes = fs_err::read(path).map_err(|source| MavenError::KeysFileUnreadable {
                path: path.clone(),
                source,
            })?;
            all.extend_from_slice(&bytes);
            all.push(b'\n');
        }
        parsed(&all, &from, reporter)
    };
    Ok(KeysAtHand {
        project,
        ring,
        from,
    })
}

fn fallback_name(project: Project, sources: &Sources) -> String {
    let files = &sources.maven.keys_files;
    if !files.is_empty() {
        let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        return format!("--keys {}", names.join(", "));
    }
    match project {
        Project::Kafka => "the copy of Kafka's KEYS built into kafkup (October 2024)".into(),
        Project::Zookeeper => {
            "nothing: kafkup has no built-in copy of ZooKeeper's KEYS (pass --keys)".into()
        }
    }
}

fn parsed(bytes: &[u8], from: &str, reporter: &dyn Reporter) -> Keyring {
    let ring = Keyring::parse(bytes);
    if ring.skipped > 0 {
        reporter.warn(&format!(
            "{from}: skipped {} of {} key blocks that could not be read",
            ring.skipped, ring.blocks
        ));
    }
    ring
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::MavenSources;
    use crate::vocab::SourceChoice;

    fn sources(keys_files: Vec<std::path::PathBuf>) -> Sources {
        Sources {
            choice: SourceChoice::Maven,
            mirrors: vec![],
            dists: vec![],
            verify_signature: true,
            maven: MavenSources {
                keys_files,
                ..MavenSources::default()
            },
        }
    }

    #[test]
    fn without_dists_or_files_the_built_in_copies_are_used() {
        let s = sources(vec![]);
        let kafka = fallback(Project::Kafka, &s, &crate::report::Silent).unwrap();
        assert_eq!(kafka.ring.keys.len(), 40);
        assert!(kafka.from.contains("built into kafkup"));
        let zk = fallback(Project::Zookeeper, &s, &crate::report::Silent).unwrap();
        assert!(zk.ring.keys.is_empty());
        assert!(zk.from.contains("no built-in copy"), "{}", zk.from);
    }

    #[test]
    fn keys_files_replace_the_built_in_copy_and_must_be_readable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("KEYS");
        fs_err::write(&file, KAFKA_KEYS).unwrap();
        let s = sources(vec![file.clone()]);
        let zk = fallback(Project::Zookeeper, &s, &crate::report::Silent).unwrap();
        assert_eq!(zk.ring.keys.len(), 40);
        assert!(zk.from.contains(&file.display().to_string()));
        let s = sources(vec![dir.path().join("missing")]);
        assert!(matches!(
            fallback(Project::Kafka, &s, &crate::report::Silent),
            Err(MavenError::KeysFileUnreadable { .. })
        ));
    }
}
