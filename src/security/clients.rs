//! The ready-to-use client configurations of a user: Java properties (Java clients and Kafka's
//! own tools, `--command-config`), librdkafka properties (`kcat -F`, confluent-kafka,
//! kafkup's own clients) and a Python snippet (kafka-python and confluent-kafka). Pure.

use super::SCRAM_MECHANISM;
use crate::render::properties_escape;
use crate::vocab::Security;
use std::path::PathBuf;

/// What a client needs to connect as one user.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub user: String,
    pub bootstrap: String,
    pub security: Security,
    /// The CA's certificate (every secured mode).
    pub ca: PathBuf,
    /// mtls: the user's certificate, its key, and both in one file (Java's PEM keystore).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub keystore: Option<PathBuf>,
    /// scram: the user's password.
    pub password: Option<String>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("user", &self.user)
            .field("security", &self.security)
            .finish_non_exhaustive()
    }
}

/// The formats `kafkup client-config` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Java,
    Librdkafka,
    Python,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Java, Format::Librdkafka, Format::Python];

    /// Its file in the user's client directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Java => "client.properties",
            Format::Librdkafka => "librdkafka.conf",
            Format::Python => "client.py",
        }
    }
}

impl ClientIdentity {
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Java => self.java(),
            Format::Librdkafka => {
                let mut text = self.header("kcat -F FILE, or each line as a librdkafka property");
                for (k, v) in self.librdkafka() {
                    text.push_str(&format!("{k}={v}\n"));
                }
                text
            }
            Format::Python => self.python(),
        }
    }

    fn header(&self, use_it: &str) -> String {
        format!(
            "# kafkup: the {} user of this environment ({}); {use_it}.\n",
            self.user, self.security
        )
    }

    /// librdkafka's properties, in the order they are written.
    pub fn librdkafka(&self) -> Vec<(&'static str, String)> {
        let mut props = vec![("bootstrap.servers", self.bootstrap.clone())];
        if self.security == Security::Plaintext {
            return props;
        }
        let protocol = self.security.client_protocol().to_lowercase();
        props.push(("security.protocol", protocol));
        props.push(("ssl.ca.location", path(&self.ca)));
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            props.push(("ssl.certificate.location", path(cert)));
            props.push(("ssl.key.location", path(key)));
        }
        if let Some(password) = &self.password {
            props.push(("sasl.mechanisms", SCRAM_MECHANISM.into()));
            props.push(("sasl.username", self.user.clone()));
            props.push(("sasl.password", password.clone()));
        }
        props
    }

    fn java(&self) -> String {
        let mut lines = vec![format!("bootstrap.servers={}", self.bootstrap)];
        if self.security != Security::Plaintext {
            lines.push(format!(
                "security.protocol={}",
                self.security.client_protocol()
            ));
            lines.push("ssl.truststore.type=PEM".into());
            lines.push(format!("ssl.truststore.location={}", escaped(&self.ca)));
        }
        if let Some(keystore) = &self.keystore {
            lines.push("ssl.keystore.type=PEM".into());
            lines.push(format!("ssl.keystore.location={}", escaped(keystore)));
        }
        if let Some(password) = &self.password {
            lines.push(format!("sasl.mechanism={SCRAM_MECHANISM}"));
            lines.push(format!(
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{}\" password=\"{password}\";",
                self.user
            ));
        }
        let mut text = self.header("Java clients, and Kafka's tools with --command-config FILE");
        text.push_str(&lines.join("\n"));
        text.push('\n');
        text
    }

    fn python(&self) -> String {
        let mut kafka_python = vec![("bootstrap_servers", self.bootstrap.clone())];
        if self.security != Security::Plaintext {
            let protocol = self.security.client_protocol();
            kafka_python.push(("security_protocol", protocol.into()));
            kafka_python.push(("ssl_cafile", path(&self.ca)));
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            kafka_python.push(("ssl_certfile", path(cert)));
            kafka_python.push(("ssl_keyfile", path(key)));
        }
        if let Some(password) = &self.password {
            kafka_python.push(("sasl_mechanism", SCRAM_MECHANISM.into()));
            kafka_python.push(("sasl_plain_username", self.user.clone()));
            kafka_python.push(("sasl_plain_password", password.clone()));
        }
        let mut text = self.header("import it, or copy what you need");
        text.push_str("\n# kafka-python: KafkaProducer(**KAFKA_PYTHON), KafkaConsumer(\"topic\", **KAFKA_PYTHON)\n");
        text.push_str(&python_dict("KAFKA_PYTHON", &kafka_python));
        text.push_str("\n# confluent-kafka: Producer(CONFLUENT_KAFKA), Consumer({**CONFLUENT_KAFKA, \"group.id\": \"mine\"})\n");
        text.push_str(&python_dict("CONFLUENT_KAFKA", &self.librdkafka()));
        text
    }
}

/// A librdkafka properties file (`key=value` lines; `#` starts a comment), as kcat reads it.
pub fn read_properties(file: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = fs_err::read_to_string(file)?;
    parse_properties(&text).map_err(|said| anyhow::anyhow!("{}:{said}", file.display()))
}

/// `key=value` lines in order (blank lines and `#` comments left out); an error names the
/// first other line ("3: not a key=value line: …").
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut properties = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("{}: not a key=value line: {line}", n + 1));
        };
        properties.push((key.trim().to_string(), value.trim().to_string()));
    }
    Ok(properties)
}

fn path(p: &std::path::Path) -> String {
    p.display().to_string()
}

fn escaped(p: &std::path::Path) -> String {
    properties_escape(&p.display().to_string())
}

/// `NAME = {"key": "value", …}`; a JSON string is a Python string literal.
fn python_dict(name: &str, entries: &[(&str, String)]) -> String {
    let mut text = format!("{name} = {{\n");
    for (k, v) in entries {
        let v = serde_json::to_string(v).expect("a string serializes");
        text.push_str(&format!("    \"{k}\": {v},\n"));
    }
    text.push_str("}\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(security: Security) -> ClientIdentity {
        let mtls = security == Security::Mtls;
        ClientIdentity {
            user: "developer".into(),
            bootstrap: "127.0.0.1:9092".into(),
            security,
            ca: "/r/config/clients/developer/ca.pem".into(),
            cert: mtls.then(|| "/r/c/cert.pem".into()),
            key: mtls.then(|| "/r/c/key.pem".into()),
            keystore: mtls.then(|| "/r/c/keystore.pem".into()),
            password: (security == Security::Scram).then(|| "s3cret".into()),
        }
    }

    #[test]
    fn scram_configs_name_the_mechanism_user_and_password() {
        let id = identity(Security::Scram);
        let java = id.render(Format::Java);
        assert!(java.contains("security.protocol=SASL_SSL\n"), "{java}");
        assert!(
            java.contains("username=\"developer\" password=\"s3cret\";"),
            "{java}"
        );
        let rdkafka = id.render(Format::Librdkafka);
        assert!(
            rdkafka.contains(
                "sasl.mechanisms=SCRAM-SHA-512\nsasl.username=developer\nsasl.password=s3cret\n"
            ),
            "{rdkafka}"
        );
        let python = id.render(Format::Python);
        assert!(
            python.contains("\"sasl_plain_password\": \"s3cret\","),
            "{python}"
        );
        assert!(
            python.contains("\"security.protocol\": \"sasl_ssl\","),
            "{python}"
        );
    }

    #[test]
    fn mtls_configs_name_the_certificate_and_key() {
        let id = identity(Security::Mtls);
        let java = id.render(Format::Java);
        assert!(
            java.contains("ssl.keystore.location=/r/c/keystore.pem"),
            "{java}"
        );
        assert!(!java.contains("sasl"), "{java}");
        let rdkafka = id.render(Format::Librdkafka);
        assert!(rdkafka
            .contains("ssl.certificate.location=/r/c/cert.pem\nssl.key.location=/r/c/key.pem\n"));
        assert!(id
            .render(Format::Python)
            .contains("\"ssl_keyfile\": \"/r/c/key.pem\","));
    }

    #[test]
    fn a_debug_print_holds_no_password() {
        assert!(!format!("{:?}", identity(Security::Scram)).contains("s3cret"));
    }
}
