//! Handing an environment to what a team moves to when one machine is not enough: Strimzi on
//! Kubernetes ([`strimzi`]), or plain machines and their own automation ([`properties`]).
//! Pure mappings; `commands::export` reads the environment.

pub mod properties;
pub mod strimzi;
