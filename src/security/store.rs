//! The security files on disk: what an environment's nodes and users need (see [`super`]),
//! compared with what is there ([`plan`]) and made where missing, changed or about to expire
//! ([`apply`]). The CA and the passwords are made once and kept.

use super::clients::{ClientIdentity, Format};
use super::pki::{self, Pair, Purpose};
use super::users::{self, Passwords};
use super::{ADMIN, JAAS, KEYSTORE, TRUSTSTORE, USERS};
use crate::paths::Paths;
use crate::vocab::{NodeId, Security};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// What the files are made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    pub paths: Paths,
    pub security: Security,
    /// What clients on the host dial (`127.0.0.1:9092,…`).
    pub bootstrap: String,
    /// The Kafka nodes (brokers and controllers); ZooKeeper stays plaintext on loopback.
    pub nodes: Vec<NodeNames>,
}

/// A Kafka node and the names it is dialed by (its certificate's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeNames {
    pub id: NodeId,
    pub names: Vec<String>,
    /// Serves clients (gets the JAAS file under scram).
    pub broker: bool,
}

/// What [`apply`] would do; empty when everything is in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub make_ca: bool,
    pub make_passwords: bool,
    /// Nodes and users whose certificate is (re)issued.
    pub issue: Vec<String>,
    /// Files written (new or changed), and the node each belongs to (None: a client's).
    pub files: Vec<(PathBuf, Option<NodeId>)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        !self.make_ca && !self.make_passwords && self.files.is_empty()
    }

    /// The nodes whose files change (they restart to read them).
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut nodes: Vec<NodeId> = self.files.iter().filter_map(|(_, n)| *n).collect();
        nodes.dedup();
        nodes
    }

    /// "make the local CA; certificates for kafka, developer; 9 files".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.make_ca {
            parts.push("make the local CA".to_string());
        }
        if self.make_passwords {
            parts.push("make the users' passwords".to_string());
        }
        if !self.issue.is_empty() {
            parts.push(format!("certificates for {}", self.issue.join(", ")));
        }
        parts.push(format!("{} files", self.files.len()));
        parts.join("; ")
    }
}

/// The CA and the passwords, as kept.
struct Secrets {
    ca: Option<Pair>,
    passwords: Passwords,
}

fn load_secrets(paths: &Paths) -> std::io::Result<Secrets> {
    let dir = super::secrets_dir(paths);
    let read = |name: &str| match fs_err::read_to_string(dir.join(name)) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    };
    let ca = match (read("ca.pem")?, read("ca.key")?) {
        (Some(cert), Some(key)) => Some(Pair { cert, key }),
        _ => None,
    };
    Ok(Secrets {
        ca,
        passwords: users::load(&dir)?,
    })
}

/// One file a node or user needs.
enum Wanted {
    /// Contents known in advance (a CA copy, a JAAS file, a client configuration).
    Fixed {
        path: PathBuf,
        contents: String,
        mode: u32,
    },
    /// A new key and certificate, written into `parts`, when the certificate in `check` is
    /// missing, expiring, for other names or of another CA.
    Issued {
        subject: String,
        names: Vec<String>,
        purpose: Purpose,
        check: PathBuf,
        parts: Vec<(PathBuf, Part, u32)>,
    },
}

/// What an issued file holds.
#[derive(Clone, Copy)]
enum Part {
    /// The certificate, then the CA's.
    Chain,
    Key,
    /// Certificate, CA, then key: a PEM keystore.
    Keystore,
}

/// What `apply` would do now.
pub fn plan(inputs: &Inputs, now: OffsetDateTime) -> std::io::Result<Plan> {
    let mut plan = Plan::default();
    if inputs.security == Security::Plaintext {
        return Ok(plan);
    }
    let secrets = load_secrets(&inputs.paths)?;
    plan.make_ca = secrets.ca.is_none();
    let scram = inputs.security == Security::Scram;
    plan.make_passwords = scram && !secrets.passwords.complete();
    let ca = secrets.ca.clone().unwrap_or(Pair {
        cert: String::new(),
        key: String::new(),
    });
    let passwords = secrets.passwords.clone().completed();
    for (wanted, node) in wanted(inputs, &ca, &passwords) {
        match wanted {
            Wanted::Fixed { path, contents, .. } => {
                let same = !plan.make_ca
                    && !plan.make_passwords
                    && fs_err::read_to_string(&path).is_ok_and(|t| t == contents);
                if !same {
                    plan.files.push((path, node));
                }
            }
            Wanted::Issued {
                subject,
                names,
                check,
                parts,
                ..
            } => {
                if plan.make_ca || issue_due(&check, &names, &ca, now) {
                    plan.issue.push(subject);
                    plan.files
                        .extend(parts.into_iter().map(|(p, _, _)| (p, node)));
                }
            }
        }
    }
    Ok(plan)
}

/// Makes what [`plan`] says is missing; returns the files written.
pub fn apply(inputs: &Inputs, now: OffsetDateTime) -> anyhow::Result<Vec<PathBuf>> {
    if inputs.security == Security::Plaintext {
        return Ok(vec![]);
    }
    let dir = super::secrets_dir(&inputs.paths);
    let mut secrets = load_secrets(&inputs.paths)?;
    let made_ca = secrets.ca.is_none();
    if made_ca {
        crate::files::create_private_dirs(&dir)?;
        fs_err::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let label = inputs.paths.state.display().to_string();
        let ca = pki::new_ca(&label, now)?;
        crate::files::write_atomic(&dir.join("ca.key"), ca.key.as_bytes(), 0o600)?;
        crate::files::write_atomic(&dir.join("ca.pem"), ca.cert.as_bytes(), 0o644)?;
        secrets.ca = Some(ca);
    }
    if inputs.security == Security::Scram && !secrets.passwords.complete() {
        secrets.passwords = secrets.passwords.completed();
        users::save(&dir, &secrets.passwords)?;
    }
    let ca = secrets.ca.expect("made above");
    let mut written = Vec::new();
    for (wanted, _) in wanted(inputs, &ca, &secrets.passwords) {
        written.extend(write_wanted(wanted, &ca, now, made_ca)?);
    }
    Ok(written)
}

fn write_wanted(
    wanted: Wanted,
    ca: &Pair,
    now: OffsetDateTime,
    force: bool,
) -> anyhow::Result<Vec<PathBuf>> {
    match wanted {
        Wanted::Fixed {
            path,
            contents,
            mode,
        } => {
            if !force && fs_err::read_to_string(&path).is_ok_and(|t| t == contents) {
                return Ok(vec![]);
            }
            write(&path, &contents, mode)?;
            Ok(vec![path])
        }
        Wanted::Issued {
            subject,
            names,
            purpose,
            check,
            parts,
        } => {
            if !force && !issue_due(&check, &names, ca, now) {
                return Ok(vec![]);
            }
            let leaf = pki::issue(ca, &subject, &names, purpose, now)?;
            let mut written = Vec::new();
            for (path, part, mode) in parts {
                let contents = match part {
                    Part::Chain => format!("{}{}", leaf.cert, ca.cert),
                    Part::Key => leaf.key.clone(),
                    Part::Keystore => format!("{}{}{}", leaf.cert, ca.cert, leaf.key),
                };
                write(&path, &contents, mode)?;
                written.push(path);
            }
            Ok(written)
        }
    }
}

fn write(path: &Path, contents: &str, mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().expect("security files have a directory");
    crate::files::create_private_dirs(dir)?;
    crate::files::write_atomic(path, contents.as_bytes(), mode)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// The certificate in `check` must be made anew.
fn issue_due(check: &Path, names: &[String], ca: &Pair, now: OffsetDateTime) -> bool {
    let Ok(text) = fs_err::read_to_string(check) else {
        return true;
    };
    let mut certs = pem_certificates(&text);
    let (Some(cert), Some(issuer)) = (certs.next(), certs.next()) else {
        return true;
    };
    pki::renewal_due(cert, now) || pki::names(cert) != names || issuer.trim() != ca.cert.trim()
}

/// The CERTIFICATE blocks of a PEM file, in order.
fn pem_certificates(text: &str) -> impl Iterator<Item = &str> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    text.match_indices(BEGIN).filter_map(move |(at, _)| {
        let end = text[at..].find(END)? + at + END.len();
        Some(&text[at..end])
    })
}

/// Every file of the environment's nodes and users, with the node each belongs to.
fn wanted(inputs: &Inputs, ca: &Pair, passwords: &Passwords) -> Vec<(Wanted, Option<NodeId>)> {
    let mut all = Vec::new();
    for node in &inputs.nodes {
        let dir = super::node_files_dir(&inputs.paths, node.id);
        let fixed = |name: &str, contents: String, mode| Wanted::Fixed {
            path: dir.join(name),
            contents,
            mode,
        };
        all.push((fixed(TRUSTSTORE, ca.cert.clone(), 0o644), Some(node.id)));
        all.push((
            Wanted::Issued {
                subject: node.id.name(),
                names: node.names.clone(),
                purpose: Purpose::Node,
                check: dir.join(KEYSTORE),
                parts: vec![(dir.join(KEYSTORE), Part::Keystore, 0o640)],
            },
            Some(node.id),
        ));
        if inputs.security == Security::Scram && node.broker {
            all.push((
                fixed(JAAS, jaas(passwords.of(ADMIN).unwrap_or_default()), 0o640),
                Some(node.id),
            ));
        }
    }
    for user in USERS {
        all.extend(
            client_files(inputs, user, ca, passwords)
                .into_iter()
                .map(|w| (w, None)),
        );
    }
    all
}

fn client_files(inputs: &Inputs, user: &str, ca: &Pair, passwords: &Passwords) -> Vec<Wanted> {
    let dir = super::client_dir(&inputs.paths, user);
    let identity = identity(inputs, user, passwords);
    let mut files = vec![Wanted::Fixed {
        path: dir.join(TRUSTSTORE),
        contents: ca.cert.clone(),
        mode: 0o644,
    }];
    if inputs.security == Security::Mtls {
        files.push(Wanted::Issued {
            subject: user.to_string(),
            names: vec![],
            purpose: Purpose::Client,
            check: dir.join("cert.pem"),
            parts: vec![
                (dir.join("cert.pem"), Part::Chain, 0o644),
                (dir.join("key.pem"), Part::Key, 0o600),
                (dir.join("keystore.pem"), Part::Keystore, 0o600),
            ],
        });
    }
    for format in Format::ALL {
        let path = dir.join(format.file_name());
        files.push(Wanted::Fixed {
            path,
            contents: identity.render(format),
            mode: 0o600,
        });
    }
    files
}

/// How `user` connects, with its files where [`apply`] writes them.
pub fn identity(inputs: &Inputs, user: &str, passwords: &Passwords) -> ClientIdentity {
    let dir = super::client_dir(&inputs.paths, user);
    let mtls = inputs.security == Security::Mtls;
    ClientIdentity {
        user: user.to_string(),
        bootstrap: inputs.bootstrap.clone(),
        security: inputs.security,
        ca: dir.join(TRUSTSTORE),
        cert: mtls.then(|| dir.join("cert.pem")),
        key: mtls.then(|| dir.join("key.pem")),
        keystore: mtls.then(|| dir.join("keystore.pem")),
        password: (inputs.security == Security::Scram)
            .then(|| passwords.of(user).unwrap_or_default().to_string()),
    }
}

/// The identity of `user` of an environment, with the passwords as kept.
pub fn load_identity(inputs: &Inputs, user: &str) -> std::io::Result<ClientIdentity> {
    let passwords = users::load(&super::secrets_dir(&inputs.paths))?;
    Ok(identity(inputs, user, &passwords))
}

/// A broker's JAAS file: the credentials it presents to the other brokers (as the admin).
fn jaas(admin_password: &str) -> String {
    let lines = [
        format!(
            "// kafkup: what this broker presents to the other brokers (SASL/SCRAM as {ADMIN})."
        ),
        "KafkaServer {".to_string(),
        "    org.apache.kafka.common.security.scram.ScramLoginModule required".to_string(),
        format!("    username=\"{ADMIN}\""),
        format!("    password=\"{admin_password}\";"),
        "};".to_string(),
    ];
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn inputs(root: &Path, security: Security) -> Inputs {
        let id = NodeId::solo(crate::vocab::Role::Kafka);
        Inputs {
            paths: Paths::under_root(root),
            security,
            bootstrap: "127.0.0.1:9092".into(),
            nodes: vec![NodeNames {
                id,
                names: vec!["127.0.0.1".into(), "localhost".into(), "kafka".into()],
                broker: true,
            }],
        }
    }

    #[test]
    fn made_once_then_kept_then_renewed_in_the_last_month() {
        let root = tempfile::tempdir().unwrap();
        let inputs = inputs(root.path(), Security::Scram);
        let now = OffsetDateTime::now_utc();
        let first = plan(&inputs, now).unwrap();
        assert!(first.make_ca && first.make_passwords);
        assert_eq!(first.issue, ["kafka"]);
        apply(&inputs, now).unwrap();
        assert!(
            plan(&inputs, now).unwrap().is_empty(),
            "a second run changes nothing"
        );
        let ca = fs_err::read_to_string(super::super::secrets_dir(&inputs.paths).join("ca.pem"))
            .unwrap();

        let later = now + Duration::days(340);
        let due = plan(&inputs, later).unwrap();
        assert_eq!(due.issue, ["kafka"], "renewed before it expires");
        assert_eq!(due.nodes(), [inputs.nodes[0].id]);
        apply(&inputs, later).unwrap();
        assert!(plan(&inputs, later).unwrap().is_empty());
        let kept = fs_err::read_to_string(super::super::secrets_dir(&inputs.paths).join("ca.pem"))
            .unwrap();
        assert_eq!(kept, ca, "the CA is kept");
    }

    #[test]
    fn a_node_dialed_by_another_name_gets_a_certificate_for_it() {
        let root = tempfile::tempdir().unwrap();
        let mut inputs = inputs(root.path(), Security::Tls);
        let now = OffsetDateTime::now_utc();
        apply(&inputs, now).unwrap();
        inputs.nodes[0].names.push("kafkup-abc-kafka".into());
        assert_eq!(plan(&inputs, now).unwrap().issue, ["kafka"]);
    }

    #[test]
    fn plaintext_needs_nothing() {
        let root = tempfile::tempdir().unwrap();
        let inputs = inputs(root.path(), Security::Plaintext);
        assert!(plan(&inputs, OffsetDateTime::now_utc()).unwrap().is_empty());
        assert!(apply(&inputs, OffsetDateTime::now_utc())
            .unwrap()
            .is_empty());
    }
}
