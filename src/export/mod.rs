//! Handing an environment to what a team moves to when one machine is not enough: Strimzi on
//! Kubernetes ([`strimzi`]). Pure mappings; `commands::export` reads the environment.

pub mod strimzi;
