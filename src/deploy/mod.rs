//! `setup` as plan, then act: [`observe`] what is there, [`decide`] what to do (pure, printed
//! by `--dry-run`), and [`execute`] it with whichever runner the environment uses.

pub mod decide;
pub mod execute;
pub mod migration;
pub mod observe;
pub mod renames;
pub mod roll;
pub mod secure;
pub mod zookeeper_tool;

pub use decide::{decide, Action, Decision, Observed};
pub use execute::{execute, Executor};
pub use observe::observe;
