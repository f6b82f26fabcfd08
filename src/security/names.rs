//! The names every part of security agrees on: users, mechanism, files and where they are.
//! Imports only paths and the vocabulary, so the configuration of nodes can use it.

use crate::paths::Paths;
use crate::vocab::NodeId;
use std::path::{Path, PathBuf};

/// The SASL mechanism of `scram`.
pub const SCRAM_MECHANISM: &str = "SCRAM-SHA-512";
/// The super user: kafkup's own clients act as it.
pub const ADMIN: &str = "admin";
/// The user the client configurations are for by default: topics, groups, transactions.
pub const DEVELOPER: &str = "developer";
pub const USERS: [&str; 2] = [ADMIN, DEVELOPER];

/// Certificates name their principal in the common name: `CN=developer` is `User:developer`.
pub const PRINCIPAL_MAPPING: &str = "RULE:^CN=([^,]+).*$/$1/,DEFAULT";

/// The directory of the CA key and the passwords.
pub fn secrets_dir(paths: &Paths) -> PathBuf {
    paths.state.join("secrets")
}

/// A node's TLS directory as its service sees it, given its config directory as it sees it.
pub fn node_tls_dir(config_dir: &Path) -> PathBuf {
    config_dir.join("tls")
}

/// The PEM keystore of a node: its private key, then its certificate and the CA's.
pub const KEYSTORE: &str = "node.pem";
/// The PEM truststore of a node or client: the CA's certificate.
pub const TRUSTSTORE: &str = "ca.pem";
/// The broker's JAAS file (scram): the admin's credentials for talking to the other brokers.
pub const JAAS: &str = "jaas.conf";

/// Where a node's files are on the host.
pub fn node_files_dir(paths: &Paths, node: NodeId) -> PathBuf {
    node_tls_dir(&paths.node_config(node))
}

/// Where a user's client configuration is kept.
pub fn client_dir(paths: &Paths, user: &str) -> PathBuf {
    paths.config.join("clients").join(user)
}
