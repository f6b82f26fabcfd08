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
pub fn check_ports(ports: &[(u16, &str)]) -> Result<(), PreflightError> {
    for &(port, what) in ports {
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

/// Who listens on `port`: LISTEN sockets from /proc/net/tcp{,6} → inode → the process with
/// `socket:[inode]` among its fds. None when that process is not ours to look at.
pub fn port_holder(port: u16) -> Option<String> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            inodes.extend(listening_inodes(&text, port));
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let targets: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let pid = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| holds_any(*pid, &targets))?;
    Some(describe_process(pid))
}

fn holds_any(pid: u32, targets: &[String]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|link| targets.iter().any(|t| link.as_os_str() == t.as_str()))
    })
}

/// "pid 1234 (java): /usr/bin/java -Xmx1g …", the command line cut at 100 characters.
fn describe_process(pid: u32) -> String {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline)
        .split('\0')
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut text = format!("pid {pid} ({})", comm.trim());
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

/// One socket line of /proc/net/tcp or /proc/net/tcp6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SocketEntry {
    local_port: u16,
    /// `st`, e.g. 0x0A LISTEN, 0x06 TIME_WAIT.
    state: u8,
    inode: u64,
}

const TCP_LISTEN: u8 = 0x0A;

/// `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …`, addresses as
/// `HEXADDR:HEXPORT`; the header line and anything malformed give None.
fn parse_tcp_line(line: &str) -> Option<SocketEntry> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if !fields.first()?.ends_with(':') {
        return None;
    }
    let (_, port) = fields.get(1)?.rsplit_once(':')?;
    Some(SocketEntry {
        local_port: u16::from_str_radix(port, 16).ok()?,
        state: u8::from_str_radix(fields.get(3)?, 16).ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// Inodes of LISTEN sockets on `port` (inode 0 means the socket has no owner left).
fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .filter_map(parse_tcp_line)
        .filter(|s| s.local_port == port && s.state == TCP_LISTEN && s.inode != 0)
        .map(|s| s.inode)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 24186 1 0000000000000000 100 0 0 10 0
   1: 0100007F:2384 0100007F:D2F0 06 00000000:00000000 03:00001677 00000000     0        0 0 3 0000000000000000
   2: 0100007F:D2F0 0100007F:2384 01 00000000:00000000 00:00000000 00000000  1000        0 99 1 0000000000000000 20 4 30 10 -1
";
    const TCP6: &str = "\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0885 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn parses_socket_lines_and_skips_the_header() {
        let mut lines = TCP.lines();
        assert_eq!(parse_tcp_line(lines.next().unwrap()), None);
        assert_eq!(
            parse_tcp_line(lines.next().unwrap()),
            Some(SocketEntry {
                local_port: 9092,
                state: TCP_LISTEN,
                inode: 24186
            })
        );
        assert_eq!(parse_tcp_line("   7: garbage"), None);
    }

    #[test]
    fn only_listening_sockets_on_the_port_count() {
        assert_eq!(listening_inodes(TCP, 9092), vec![24186]);
        assert_eq!(listening_inodes(TCP, 0xD2F0), Vec::<u64>::new());
        assert_eq!(listening_inodes(TCP6, 2181), vec![31337]);
    }

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
