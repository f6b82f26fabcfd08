//! The data directories: one cluster id in all of them, the manifest's (the
//! InconsistentClusterId trap, named before Kafka hits it); owned by the user the services run
//! as; not where the system cleans; room left on their disk.

use super::report::Check;
use crate::environment::Environment;
use crate::runner::RunnerRecord;
use crate::vocab::RunnerKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The cluster ids, then each host data directory's owner, place and disk.
pub async fn examine(env: &Environment, min_free_mib: u64) -> Vec<Check> {
    let mut checks = vec![match env.check_data().await {
        Ok(()) => Check::ok(
            "cluster id",
            match &env.manifest.cluster_id {
                Some(id) => format!("{id} in every data directory, as recorded"),
                None => "no data written yet".into(),
            },
        ),
        Err(problem) => {
            let help = crate::error::Diagnose::help(&problem)
                .unwrap_or_else(|| "the data directories are not the environment's".into());
            Check::problem("cluster id", problem.to_string(), help)
        }
    }];
    if env.manifest.runner_kind() == Some(RunnerKind::Docker) {
        checks.push(Check::ok("data", "in the environment's Docker volumes"));
        return checks;
    }
    let owner = expected_owner(env);
    for (node, dir) in env.data_dirs().unwrap_or_default() {
        checks.push(place(node, &dir));
        checks.push(ownership(node, &dir, &owner));
        checks.push(disk(node, &dir, min_free_mib));
    }
    checks
}

/// The user the services run as: the systemd runner's service user, else whoever runs kafkup.
fn expected_owner(env: &Environment) -> (u32, String) {
    if let Some(RunnerRecord::Systemd(record)) = &env.manifest.runner {
        if let Ok(Some(user)) = nix::unistd::User::from_name(&record.user) {
            return (user.uid.as_raw(), record.user.clone());
        }
    }
    let uid = nix::unistd::geteuid();
    let name = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or(uid.to_string(), |u| u.name);
    (uid.as_raw(), name)
}

fn place(node: crate::vocab::NodeId, dir: &Path) -> Check {
    let name = format!("data {node}");
    match crate::paths::refuse_temp_dir("its data directory", dir) {
        Ok(()) => Check::ok(name, dir.display().to_string()),
        Err(e) => Check::problem(
            name,
            e.to_string(),
            "set it up under another --root; the system empties that directory",
        ),
    }
}

fn ownership(node: crate::vocab::NodeId, dir: &Path, (uid, user): &(u32, String)) -> Check {
    let name = format!("owner of data {node}");
    let Ok(meta) = std::fs::metadata(dir) else {
        return Check::warning(
            name,
            format!("{} is missing", dir.display()),
            "`kafkup setup` makes it again",
        );
    };
    if meta.uid() != *uid {
        let owner = nix::unistd::User::from_uid(meta.uid().into())
            .ok()
            .flatten()
            .map_or(meta.uid().to_string(), |u| u.name);
        return Check::problem(
            name,
            format!(
                "{} belongs to {owner}; {node} runs as {user} and cannot write it",
                dir.display()
            ),
            format!(
                "`sudo chown -R {user}: {}` (or `kafkup setup`, which hands it back)",
                dir.display()
            ),
        );
    }
    if meta.mode() & 0o002 != 0 {
        return Check::warning(
            name,
            format!("{} is writable by everybody", dir.display()),
            format!("`chmod o-w {}`", dir.display()),
        );
    }
    Check::ok(name, format!("{user}'s"))
}

fn disk(node: crate::vocab::NodeId, dir: &Path, min_free_mib: u64) -> Check {
    let name = format!("disk of data {node}");
    let Ok(stat) = nix::sys::statvfs::statvfs(dir) else {
        return Check::warning(
            name,
            format!("cannot look at the file system of {}", dir.display()),
            "does it exist?",
        );
    };
    let free_mib = stat.blocks_available() as u64 * stat.fragment_size() as u64 / (1024 * 1024);
    let inodes = stat.files_available() as u64;
    let seen = format!("{free_mib} MiB and {inodes} inodes free");
    if free_mib < min_free_mib {
        return Check::problem(name, format!("{seen}, under {min_free_mib} MiB"), "make room (or `kafkup topic delete` what you do not need): a broker whose disk fills stops");
    }
    if inodes < 10_000 {
        return Check::problem(
            name,
            seen,
            "every log segment takes inodes: make room on that file system",
        );
    }
    Check::ok(name, seen)
}
