//! Maven coordinates (`group:artifact:version[:classifier]`) and where a repository keeps a jar.
//! Pure: no I/O. Every part is checked against a safe alphabet, because it ends up in URLs and
//! file names.

use crate::catalog::Project;
use std::fmt;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Coordinate {
    pub group: String,
    pub artifact: String,
    pub version: String,
    pub classifier: Option<String>,
}

impl Coordinate {
    /// Parse `group:artifact:version[:classifier]`.
    pub fn parse(text: &str) -> Result<Coordinate, String> {
        let parts: Vec<&str> = text.split(':').collect();
        if !(3..=4).contains(&parts.len()) {
            return Err(format!(
                "{text:?} is not group:artifact:version[:classifier]"
            ));
        }
        for part in &parts {
            check_part(part).map_err(|why| format!("{text:?}: {why}"))?;
        }
        if parts[0].split('.').any(str::is_empty) {
            return Err(format!("{text:?}: the group has an empty segment"));
        }
        Ok(Coordinate {
            group: parts[0].to_string(),
            artifact: parts[1].to_string(),
            version: parts[2].to_string(),
            classifier: parts.get(3).map(|c| c.to_string()),
        })
    }

    /// `artifact-version[-classifier].jar`, as Maven names it and a distribution's `libs/` holds it.
    pub fn file_name(&self) -> String {
        match &self.classifier {
            Some(c) => format!("{}-{}-{c}.jar", self.artifact, self.version),
            None => format!("{}-{}.jar", self.artifact, self.version),
        }
    }

    /// `group/as/dirs/artifact/version/file` below a repository's base.
    pub fn repo_path(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.group.replace('.', "/"),
            self.artifact,
            self.version,
            self.file_name()
        )
    }

    /// The jar's URL in `repo`, plus `suffix` (e.g. `.asc`).
    pub fn url(&self, repo: &Url, suffix: &str) -> Url {
        let mut text = repo.as_str().trim_end_matches('/').to_string();
        text.push('/');
        text.push_str(&self.repo_path());
        text.push_str(suffix);
        Url::parse(&text).expect("a valid base joined with checked coordinates is a valid URL")
    }

    /// The Apache project whose release managers sign this jar, if it is one of ours.
    pub fn signing_project(&self) -> Option<Project> {
        match self.group.as_str() {
            "org.apache.kafka" => Some(Project::Kafka),
            "org.apache.zookeeper" => Some(Project::Zookeeper),
            _ => None,
        }
    }
}

impl fmt::Display for Coordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.group, self.artifact, self.version)?;
        if let Some(c) = &self.classifier {
            write!(f, ":{c}")?;
        }
        Ok(())
    }
}

fn check_part(part: &str) -> Result<(), &'static str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if part.is_empty() {
        Err("an empty part")
    } else if part.len() > 100 {
        Err("a part longer than 100 characters")
    } else if !part.chars().all(safe) {
        Err("only letters, digits, '.', '-' and '_' are allowed")
    } else if part.starts_with('.') || part.contains("..") {
        Err("a part that starts with '.' or holds '..'")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_map_to_the_repository_layout() {
        let c = Coordinate::parse("org.apache.kafka:kafka_2.13:3.9.2").unwrap();
        assert_eq!(c.file_name(), "kafka_2.13-3.9.2.jar");
        assert_eq!(
            c.repo_path(),
            "org/apache/kafka/kafka_2.13/3.9.2/kafka_2.13-3.9.2.jar"
        );
        let repo = Url::parse("https://repo.maven.apache.org/maven2/").unwrap();
        assert_eq!(
            c.url(&repo, ".asc").as_str(),
            "https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/3.9.2/kafka_2.13-3.9.2.jar.asc"
        );
        assert_eq!(c.signing_project(), Some(Project::Kafka));
        assert_eq!(c.to_string(), "org.apache.kafka:kafka_2.13:3.9.2");
    }

    #[test]
    fn classifiers_are_part_of_the_file_name() {
        let c =
            Coordinate::parse("io.netty:netty-transport-native-epoll:4.1.130.Final:linux-x86_64")
                .unwrap();
        assert_eq!(
            c.file_name(),
            "netty-transport-native-epoll-4.1.130.Final-linux-x86_64.jar"
        );
        assert_eq!(c.signing_project(), None);
        assert_eq!(
            c.to_string(),
            "io.netty:netty-transport-native-epoll:4.1.130.Final:linux-x86_64"
        );
    }

    #[test]
    fn unsafe_or_malformed_coordinates_are_refused() {
        for bad in [
            "a:b",
            "a:b:c:d:e",
            "a::1",
            "../x:y:1",
            "a/b:c:1",
            "a..b:c:1",
            "a.:c:1",
            "a:b:1 2",
            "a:b:%2e%2e",
        ] {
            assert!(Coordinate::parse(bad).is_err(), "{bad}");
        }
    }
}
