//! kafkup: a verified, working ZooKeeper + Kafka environment with one command.

pub mod catalog;
pub mod cli;
pub mod commands;
pub mod datacheck;
pub mod defaults;
pub mod deploy;
pub mod environment;
pub mod error;
pub mod fetch;
pub mod files;
pub mod java;
pub mod lifecycle;
pub mod lock;
pub mod logtail;
pub mod messaging;
pub mod paths;
pub mod plan;
pub mod preflight;
pub mod probe;
pub mod render;
pub mod report;
pub mod runner;
pub mod selftest;
pub mod settings;
pub mod spec;
pub mod state;
