//! The one integration-test binary; each module is one area.

mod architecture;
mod changes;
mod class_archive;
mod cli;
mod commands;
mod docker;
mod env;
mod faults;
mod fetch;
mod hostile;
mod lifecycle;
mod maven;
mod messaging;
mod mirror;
mod nodes;
mod render;
mod services;
mod systemd;
mod topics;
