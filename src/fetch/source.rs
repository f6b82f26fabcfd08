//! Where distributions come from: the choice a user makes, the URLs behind it, and the record
//! of where an installed distribution came from (kept in its marker and in the manifest).

use crate::vocab::SourceChoice;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use url::Url;

/// Where to get bytes and what proves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub choice: SourceChoice,
    /// Bases serving the release tarballs.
    pub mirrors: Vec<Url>,
    /// Bases serving `.sha512`, `.asc` and `KEYS` (the Maven path reads its KEYS here too).
    pub dists: Vec<Url>,
    pub verify_signature: bool,
    pub maven: MavenSources,
}

/// What the Maven source needs beyond the dist sites.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MavenSources {
    /// Maven repositories (Central or a proxy of it), tried in order for every jar.
    pub repos: Vec<Url>,
    /// KEYS files to check Apache jars' signatures against when no dist site answers,
    /// instead of the copies built into kafkup.
    pub keys_files: Vec<PathBuf>,
    /// Lock files that add to (never loosen) the built-in ones.
    pub lock_dir: Option<PathBuf>,
}

/// Where an installed distribution came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DistSource {
    /// The release tarball from an Apache mirror, checked against the dist sites' SHA-512
    /// (and signature). Also what a manifest written before sources existed means.
    #[default]
    Apache,
    /// Assembled from Maven jars, each matching the SHA-256 of a lock.
    Maven {
        /// The repository that served the jars (the first configured one).
        repo: String,
        /// Which lock pinned them: "the built-in lock NAME" or "the lock PATH".
        lock: String,
        jars: usize,
        /// Apache jars whose `.asc` verified against the KEYS at hand.
        signatures_verified: usize,
        /// Apache jars whose signer was not in the KEYS at hand (trusted by the lock alone).
        signers_unknown: usize,
        /// Apache jars the repository had no `.asc` for (trusted by the lock alone).
        #[serde(default)]
        unsigned: usize,
    },
}

impl DistSource {
    /// One line for `status`.
    pub fn describe(&self) -> String {
        match self {
            DistSource::Apache => "Apache release tarball (SHA-512 from the dist site)".into(),
            DistSource::Maven {
                repo,
                lock,
                jars,
                signatures_verified,
                signers_unknown,
                unsigned,
            } => {
                let mut text = format!("assembled from Maven {repo}: {jars} jars pinned by {lock}");
                text.push_str(&format!(
                    "; {signatures_verified} Apache signatures verified"
                ));
                if *signers_unknown > 0 {
                    text.push_str(&format!(
                        ", {signers_unknown} by a signer not in the KEYS at hand"
                    ));
                }
                if *unsigned > 0 {
                    text.push_str(&format!(", {unsigned} unsigned"));
                }
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_record_without_a_source_means_apache() {
        #[derive(Deserialize)]
        struct Old {
            #[serde(default)]
            source: DistSource,
        }
        let old: Old = serde_json::from_str("{}").unwrap();
        assert_eq!(old.source, DistSource::Apache);
        let maven = DistSource::Maven {
            repo: "https://repo.example/maven2".into(),
            lock: "the built-in lock kafka_2.13-3.9.2.lock".into(),
            jars: 57,
            signatures_verified: 14,
            signers_unknown: 1,
            unsigned: 2,
        };
        let json = serde_json::to_string(&maven).unwrap();
        assert!(json.contains(r#""kind":"maven""#), "{json}");
        assert_eq!(serde_json::from_str::<DistSource>(&json).unwrap(), maven);
        assert!(maven
            .describe()
            .contains("1 by a signer not in the KEYS at hand, 2 unsigned"));
    }
}
