//! The environment's own JVMs that nothing records: a process whose command line names the
//! environment's config directory was started for it (by kafkup, or from a rendered file), so
//! it is the environment's even when a manifest or pid file that knew it is gone.

use serde::Serialize;
use std::path::Path;

/// A process of the environment that no runner accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stray {
    pub pid: u32,
    /// Its command line, shortened for messages.
    pub command: String,
}

impl std::fmt::Display for Stray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} ({})", self.pid, self.command)
    }
}

/// Live JVMs (not zombies) with an argument below `config_dir`, except `known` pids. Only JVMs:
/// an editor open on a config file is the user's, not the environment's.
pub fn under(config_dir: &Path, known: &[u32]) -> Vec<Stray> {
    let prefix = format!("{}/", config_dir.display());
    let Ok(all) = procfs::process::all_processes() else {
        return vec![];
    };
    all.flatten()
        .filter(|p| !known.contains(&(p.pid as u32)) && p.pid as u32 != std::process::id())
        .filter(|p| p.stat().is_ok_and(|s| !matches!(s.state, 'Z' | 'X')))
        .filter_map(|p| Some((p.pid as u32, p.cmdline().ok()?)))
        .filter(|(_, args)| crate::class_archive::is_java(args))
        .filter(|(_, args)| args.iter().skip(1).any(|a| a.contains(&prefix)))
        .map(|(pid, args)| Stray {
            pid,
            command: shorten(&args),
        })
        .collect()
}

/// Stops `strays` (SIGTERM, then SIGKILL after `grace`) and waits until they are gone; the
/// ones that would not go are the error.
pub async fn stop(strays: &[Stray], grace: std::time::Duration) -> Result<(), Vec<Stray>> {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let gone = |s: &Stray| {
        !procfs::process::Process::new(s.pid as i32)
            .is_ok_and(|p| p.stat().is_ok_and(|st| st.state != 'Z'))
    };
    for signal in [Signal::SIGTERM, Signal::SIGKILL] {
        for s in strays.iter().filter(|s| !gone(s)) {
            let _ = kill(Pid::from_raw(s.pid as i32), signal);
            // A paused (SIGSTOPped) JVM acts on SIGTERM only once continued.
            let _ = kill(Pid::from_raw(s.pid as i32), Signal::SIGCONT);
        }
        let deadline = tokio::time::Instant::now() + grace;
        let all_gone = || async {
            match strays.iter().all(gone) {
                true => crate::poll::Attempt::Ready(()),
                false => crate::poll::Attempt::NotYet(()),
            }
        };
        let interval = std::time::Duration::from_millis(100);
        if crate::poll::until(deadline, interval, all_gone)
            .await
            .is_ok()
        {
            return Ok(());
        }
    }
    Err(strays.iter().filter(|s| !gone(s)).cloned().collect())
}

/// The program and the last arguments (the main class and its config file), enough to say
/// what it is.
fn shorten(args: &[String]) -> String {
    let program = args.first().map(String::as_str).unwrap_or("?");
    let tail = &args[args.len().saturating_sub(2).max(1)..];
    format!("{program} … {}", tail.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_naming_the_config_dir_is_found_and_a_known_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let file = config.join("zookeeper/zoo.cfg");
        // A shell under the name `java` stands in for a JVM.
        let java = dir.path().join("java");
        std::os::unix::fs::symlink("/bin/sh", &java).unwrap();
        let mut child = std::process::Command::new(&java)
            .args(["-c", "sleep 30", "sh"])
            .arg(&file)
            .spawn()
            .unwrap();
        let mut editor = std::process::Command::new("sh")
            .args(["-c", "sleep 30", "vi"])
            .arg(&file)
            .spawn()
            .unwrap();
        let found = under(&config, &[]);
        let pid = child.id();
        let seen = found
            .iter()
            .any(|s| s.pid == pid && s.command.contains("zoo.cfg"));
        let known = under(&config, &[pid]).iter().any(|s| s.pid == pid);
        let editor_seen = found.iter().any(|s| s.pid == editor.id());
        for c in [&mut child, &mut editor] {
            c.kill().unwrap();
            c.wait().unwrap();
        }
        assert!(seen, "{found:?}");
        assert!(!editor_seen, "{found:?}");
        assert!(!known);
        assert!(under(&dir.path().join("other"), &[]).is_empty());
    }
}
