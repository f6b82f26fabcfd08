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
pub mod connect;
pub mod grants;
pub mod names;
pub mod pki;
pub mod store;
pub mod users;

pub use connect::{connect_as, inputs_of, of_manifest};
pub use names::*;
