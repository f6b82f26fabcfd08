//! The one integration-test binary; each module is one area.

mod cli;
mod env;
mod fetch;
mod hostile;
mod lifecycle;
mod messaging;
mod mirror;
mod render;
mod services;
