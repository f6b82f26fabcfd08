//! What the services say: ZooKeeper's four-letter words and AdminServer, the brokers'
//! advertised listeners dialed from this host, and the last errors in each node's log.

use super::report::Check;
use crate::environment::Environment;
use crate::runner::{LogTail, Runner};
use crate::spec::ProbeSpec;
use crate::state::ServiceRecord;
use futures_util::StreamExt;
use std::time::Duration;

/// A ZooKeeper server: `srvr` answers; its zoo.cfg whitelists the words the probes need and
/// keeps the AdminServer off (or on loopback).
pub async fn zookeeper(env: &Environment, record: &ServiceRecord) -> Vec<Check> {
    let node = record.spec.name;
    let mut checks = Vec::new();
    for probe in &record.spec.probes {
        if let ProbeSpec::ZookeeperServing { host, port } = probe {
            let timeouts = crate::probe::zookeeper::Timeouts::within(Duration::from_secs(2));
            checks.push(
                match crate::probe::zookeeper::srvr(host, *port, timeouts).await {
                    Ok(info) => Check::ok(
                        format!("zookeeper {node}"),
                        format!("answers srvr: {}", info.describe()),
                    ),
                    Err(e) => Check::problem(
                        format!("zookeeper {node}"),
                        format!("srvr at {host}:{port}: {e}"),
                        format!("`kafkup logs {node}`; is srvr in 4lw.commands.whitelist?"),
                    ),
                },
            );
        }
    }
    let cfg = env.manifest.paths.node_config(node).join("zoo.cfg");
    let Ok(text) = std::fs::read_to_string(&cfg) else {
        checks.push(Check::warning(
            format!("zoo.cfg of {node}"),
            format!("cannot read {}", cfg.display()),
            "`kafkup setup` writes it again",
        ));
        return checks;
    };
    checks.push(whitelist(node, &text));
    checks.push(admin_server(node, &text));
    checks
}

fn property<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|l| {
            l.split_once('=')
                .filter(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim())
        })
}

/// The four-letter words kafkup's probes use are all whitelisted.
pub fn whitelist(node: crate::vocab::NodeId, zoo_cfg: &str) -> Check {
    let name = format!("four-letter words of {node}");
    let listed: Vec<&str> = property(zoo_cfg, "4lw.commands.whitelist")
        .unwrap_or("srvr")
        .split(',')
        .map(str::trim)
        .collect();
    let missing: Vec<&str> = crate::defaults::FOUR_LETTER_WORDS
        .split(',')
        .filter(|w| !listed.contains(w) && !listed.contains(&"*"))
        .collect();
    match missing.is_empty() {
        true => Check::ok(name, format!("whitelisted: {}", listed.join(","))),
        false => Check::problem(
            name,
            format!("4lw.commands.whitelist lacks {}: probes asking for them get nothing back", missing.join(", ")),
            format!("put them back into zoo.cfg's 4lw.commands.whitelist (`kafkup setup` renders it again), then `kafkup restart {node}`"),
        ),
    }
}

/// The AdminServer (Jetty, port 8080 on every interface by default) is off, or on loopback.
pub fn admin_server(node: crate::vocab::NodeId, zoo_cfg: &str) -> Check {
    let name = format!("AdminServer of {node}");
    if property(zoo_cfg, "admin.enableServer") == Some("false") {
        return Check::ok(name, "off");
    }
    let address = property(zoo_cfg, "admin.serverAddress").unwrap_or("0.0.0.0");
    let port = property(zoo_cfg, "admin.serverPort").unwrap_or("8080");
    match address.starts_with("127.") || address == "localhost" {
        true => Check::ok(name, format!("on {address}:{port} only")),
        false => Check::problem(
            name,
            format!("on {address}:{port}: every network this host is on reaches it"),
            "set admin.enableServer=false (kafkup's zoo.cfg does), or admin.serverAddress=127.0.0.1",
        ),
    }
}

/// How many of a log's last lines are read for errors.
const LOG_LINES: usize = 2000;

/// The distinct errors among the last lines of a node's log, the latest last.
pub async fn log_errors(env: &Environment, record: &ServiceRecord) -> Check {
    let node = record.spec.name;
    let name = format!("log of {node}");
    let Ok(runner) = env.runner() else {
        return Check::ok(name, "no services");
    };
    let tail = LogTail {
        lines: LOG_LINES,
        follow: false,
    };
    let read = async {
        let mut text = Vec::new();
        let mut stream = runner.logs(node, tail).await.ok()?;
        while let Some(chunk) = stream.next().await {
            text.extend_from_slice(&chunk.ok()?);
        }
        Some(String::from_utf8_lossy(&text).into_owned())
    };
    let Ok(Some(text)) = tokio::time::timeout(Duration::from_secs(3), read).await else {
        return Check::warning(name, "cannot be read", format!("`kafkup logs {node}`"));
    };
    let errors = distinct_errors(&text);
    match errors.last() {
        None => Check::ok(name, format!("no errors in its last {LOG_LINES} lines")),
        Some(last) => Check::warning(
            name,
            format!("{} distinct error(s); the last: {last}", errors.len()),
            format!("`kafkup logs {node}` shows them in context"),
        ),
    }
}

/// ERROR and FATAL lines, each message once (timestamps and thread names left out), in order
/// of their last appearance.
pub fn distinct_errors(text: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find(" ERROR ").or_else(|| line.find(" FATAL ")) else {
            continue;
        };
        let message = line[at + 7..].trim();
        let message = message
            .split_once("] ")
            .map_or(message, |(_, m)| m)
            .to_string();
        seen.retain(|m| *m != message);
        seen.push(message);
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::report::Verdict;
    use crate::vocab::{NodeId, Role};

    const ZK: NodeId = NodeId::solo(Role::Zookeeper);

    #[test]
    fn a_whitelist_without_srvr_and_an_open_admin_server_are_problems() {
        let edited = "4lw.commands.whitelist=ruok,mntr\n";
        let check = whitelist(ZK, edited);
        assert_eq!(check.verdict, Verdict::Problem);
        assert!(check.saw.contains("lacks srvr"), "{}", check.saw);
        assert_eq!(
            admin_server(ZK, edited).verdict,
            Verdict::Problem,
            "on by default, everywhere"
        );
        let kafkups = "4lw.commands.whitelist=srvr,ruok,mntr\nadmin.enableServer=false\n";
        assert_eq!(whitelist(ZK, kafkups).verdict, Verdict::Ok);
        assert_eq!(admin_server(ZK, kafkups).verdict, Verdict::Ok);
    }

    #[test]
    fn errors_are_told_once_latest_last() {
        let log = "[2026-12-06 10:00:01,000] ERROR [KafkaServer id=1] Fatal error during startup (kafka.Kafka)\n\
                   [2026-12-06 10:00:02,000] INFO all fine (kafka.Kafka)\n\
                   [2026-12-06 10:00:03,000] ERROR [Log partition=x] disk full (kafka.log)\n\
                   [2026-12-06 10:00:04,000] ERROR [KafkaServer id=1] Fatal error during startup (kafka.Kafka)\n";
        assert_eq!(
            distinct_errors(log),
            [
                "disk full (kafka.log)",
                "Fatal error during startup (kafka.Kafka)"
            ]
        );
    }
}
