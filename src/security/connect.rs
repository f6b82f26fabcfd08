//! kafkup's own clients of a run connect to a secured environment as one of its users.

use super::store;

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
/// describe (see [`crate::messaging::connect_with`]). Passwords that cannot be read (another
/// user's environment) are left out: the command then fails where it checks the owner, or
/// where the broker refuses, and says so there.
pub fn connect_as(inputs: &store::Inputs, user: &str) {
    let mut properties = Vec::new();
    if inputs.security != crate::vocab::Security::Plaintext {
        let identity = store::load_identity(inputs, user).unwrap_or_else(|e| {
            tracing::debug!("the environment's passwords cannot be read: {e}");
            store::identity(inputs, user, &Default::default())
        });
        properties = identity
            .librdkafka()
            .into_iter()
            .filter(|(k, _)| *k != "bootstrap.servers")
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    }
    crate::messaging::connect_with(properties);
}
