//! Checks made before anything is started: are the ports free, and if not, who holds them.

use crate::error::Diagnose;
use std::io;
use std::net::{IpAddr, Ipv4Addr, TcpListener};

const PORT_HELP: &str =
    "stop that process or choose another port with --kafka-port / --zookeeper-port / --controller-port";

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("port {port} ({what}) is already in use{}", holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default())]
    PortBusy {
        port: u16,
        what: String,
        /// "pid 1234 (java): /usr/bin/java -Xmx1g …" when /proc tells us.
        holder: Option<String>,
    },
    #[error("cannot bind port {port} ({what}) on {addr}")]
    PortUnusable {
        port: u16,
        what: String,
        addr: IpAddr,
        #[source]
        source: io::Error,
    },
}

impl Diagnose for PreflightError {
    fn help(&self) -> Option<String> {
        Some(match self {
            PreflightError::PortBusy {
                holder: Some(_), ..
            } => PORT_HELP.into(),
            // Sockets of other users' processes are invisible to us without root.
            PreflightError::PortBusy { port, .. } => {
                format!("{PORT_HELP}; `sudo ss -ltnp 'sport = :{port}'` shows who holds it")
            }
            PreflightError::PortUnusable { source, .. }
                if source.kind() == io::ErrorKind::PermissionDenied =>
            {
                "ports below 1024 need root; choose another port with --kafka-port / --zookeeper-port / --controller-port".into()
            }
            PreflightError::PortUnusable { .. } => PORT_HELP.into(),
        })
    }
}

/// Each `(port, what)` must be bindable on 127.0.0.1 and on 0.0.0.0. std sets SO_REUSEADDR on
/// listeners, as the JVM does, so connections in TIME_WAIT do not count as busy.
pub fn check_ports<S: AsRef<str>>(ports: &[(u16, S)]) -> Result<(), PreflightError> {
    for (port, what) in ports {
        let (port, what) = (*port, what.as_ref());
        for ip in [Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED] {
            match TcpListener::bind((ip, port)) {
                Ok(_listener) => {}
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    return Err(PreflightError::PortBusy {
                        port,
                        what: what.into(),
                        holder: port_holder(port),
                    })
                }
                Err(source) => {
                    return Err(PreflightError::PortUnusable {
                        port,
                        what: what.into(),
                        addr: ip.into(),
                        source,
                    })
                }
            }
        }
    }
    Ok(())
}

/// Who listens on `port`: LISTEN sockets of /proc/net/tcp{,6} → inode → the process with
/// that socket among its fds. None when that process is not ours to look at.
pub fn port_holder(port: u16) -> Option<String> {
    port_holder_pid(port).map(|(_, who)| who)
}

/// [`port_holder`] with the holder's pid.
pub fn port_holder_pid(port: u16) -> Option<(u32, String)> {
    use procfs::net::TcpState;
    let tables = [procfs::net::tcp(), procfs::net::tcp6()];
    let inodes: Vec<u64> = tables
        .into_iter()
        .flatten()
        .flatten()
        .filter(|s| s.local_address.port() == port && s.state == TcpState::Listen && s.inode != 0)
        .map(|s| s.inode)
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let holder = procfs::process::all_processes()
        .ok()?
        .flatten()
        .find(|p| holds_any(p, &inodes))?;
    Some((holder.pid as u32, describe_process(&holder)))
}

fn holds_any(process: &procfs::process::Process, inodes: &[u64]) -> bool {
    let Ok(fds) = process.fd() else {
        return false;
    };
    fds.flatten().any(|fd| {
        matches!(fd.target, procfs::process::FDTarget::Socket(inode) if inodes.contains(&inode))
    })
}

/// "pid 1234 (java): /usr/bin/java -Xmx1g …", the command line cut at 100 characters.
fn describe_process(process: &procfs::process::Process) -> String {
    let comm = process.stat().map(|s| s.comm).unwrap_or_default();
    let cmdline = process.cmdline().unwrap_or_default().join(" ");
    let mut text = format!("pid {} ({comm})", process.pid);
    if !cmdline.is_empty() {
        text.push_str(": ");
        if cmdline.chars().count() > 100 {
            text.extend(cmdline.chars().take(99));
            text.push('…');
        } else {
            text.push_str(&cmdline);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_passes() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        check_ports(&[(port, "kafka")]).unwrap();
    }

    #[test]
    fn a_busy_port_names_its_holder() {
        for ip in ["127.0.0.1", "0.0.0.0"] {
            let listener = TcpListener::bind((ip, 0)).unwrap();
            let port = listener.local_addr().unwrap().port();
            let err = check_ports(&[(port, "zookeeper")]).unwrap_err();
            let PreflightError::PortBusy {
                port: p,
                what,
                holder,
            } = &err
            else {
                panic!("{err:?}");
            };
            assert_eq!((*p, what.as_str()), (port, "zookeeper"));
            let holder = holder.as_deref().expect("we can see our own sockets");
            assert!(
                holder.starts_with(&format!("pid {} (", std::process::id())),
                "{holder}"
            );
            let message = err.to_string();
            assert!(
                message.contains(&format!("port {port} (zookeeper) is already in use by pid")),
                "{message}"
            );
            assert!(err.help().unwrap().contains("--zookeeper-port"));
        }
    }
}
