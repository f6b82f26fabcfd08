//! Secured listeners (`setup --security tls|mtls|scram`): kafkup's local CA and the
//! certificates it signs, the users and their passwords, the files each node and each client
//! reads, and the ACLs of the developer user.
//!
//! Where things are: the CA's key and the users' passwords in the state directory's
//! `secrets/` (0700, files 0600; kept by `teardown`, removed by `teardown --purge`); each
//! node's keystore, truststore and (scram) JAAS file in its config directory's `tls/`
//! (readable by the service user only); each user's ready client configuration in
//! `config/clients/<user>/`.

pub mod acl;
pub mod clients;
pub mod pki;
pub mod store;
pub mod users;

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

/// The security an environment's manifest records (plaintext before there was a choice).
pub fn of_manifest(manifest: &crate::state::Manifest) -> crate::vocab::Security {
    manifest
        .settings
        .as_ref()
        .and_then(|s| s.security)
        .unwrap_or(crate::vocab::Security::Plaintext)
}

/// What the files of the environment `manifest` records are made for (its nodes aside).
pub fn inputs_of(manifest: &crate::state::Manifest) -> store::Inputs {
    store::Inputs {
        paths: manifest.paths.clone(),
        security: of_manifest(manifest),
        bootstrap: manifest.bootstrap_server(),
        nodes: vec![],
    }
}

/// Makes kafkup's own clients of this run connect as `user` of the environment `inputs`
/// describe (see [`crate::messaging::connect_with`]).
pub fn connect_as(inputs: &store::Inputs, user: &str) -> std::io::Result<()> {
    let mut properties = Vec::new();
    if inputs.security != crate::vocab::Security::Plaintext {
        let identity = store::load_identity(inputs, user)?;
        properties = identity
            .librdkafka()
            .into_iter()
            .filter(|(k, _)| *k != "bootstrap.servers")
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    }
    crate::messaging::connect_with(properties);
    Ok(())
}
