//! The one integration-test binary; each module is one area.

mod architecture;
mod changes;
mod class_archive;
mod cli;
pub mod cluster;
mod commands;
pub mod docker;
mod doctor;
mod env;
mod faults;
mod fetch;
mod hostile;
mod large;
mod lifecycle;
mod maven;
pub mod messaging;
mod mirror;
mod nodes;
mod output;
mod owner;
mod render;
mod security;
mod services;
mod small;
mod snapshot;
mod systemd;
mod topics;
