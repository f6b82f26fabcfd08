//! Dialing one advertised broker address the way a client on this host would: the name
//! resolved, the port connected, then a metadata request through librdkafka with this run's
//! connection settings. A failure is named by its cause — the traps of `advertised.listeners`.

use super::advertised::Listed;
use super::report::Check;
use crate::messaging::admin::Admin;
use std::time::Duration;

/// How long each step may take.
pub const STEP: Duration = Duration::from_secs(3);

/// The brokers `bootstrap` lists, each dialed at the address it advertises: asked with
/// Kafka's protocol over plain TCP (what a broker hands out even when those addresses are
/// wrong), or through librdkafka where the listener speaks TLS.
/// `configured`: the brokers an environment's configuration says exist, with the address each
/// advertises; those the answer leaves out are dialed too.
pub async fn listeners(bootstrap: &str, configured: &[Listed]) -> Vec<Check> {
    let first = bootstrap.split(',').next().unwrap_or(bootstrap);
    let name = format!("bootstrap {bootstrap}");
    let mut listed = match super::advertised::brokers(first, STEP).await {
        Ok(listed) => listed,
        Err(plain) => match through_librdkafka(bootstrap).await {
            Ok(listed) => listed,
            Err(said) => {
                let help = protocol_hint(&said);
                return vec![Check::problem(
                    name,
                    format!("{said} (plain: {plain})"),
                    help,
                )];
            }
        },
    };
    let ids: Vec<String> = listed.iter().map(|b| b.id.to_string()).collect();
    let said = match ids.is_empty() {
        true => "lists no broker".to_string(),
        false => format!("lists {} broker(s): {}", listed.len(), ids.join(", ")),
    };
    let missing: Vec<&Listed> = configured
        .iter()
        .filter(|c| !listed.iter().any(|l| l.id == c.id))
        .collect();
    let mut checks = vec![match missing.is_empty() {
        true if listed.is_empty() => Check::problem(
            name,
            said,
            "no broker has its metadata yet: one shows up once the controller reaches it at the address it advertises (its log says where it tries)",
        ),
        true => Check::ok(name, said),
        false => Check::problem(
            name,
            format!("{said}, not all {} of the environment's", configured.len()),
            "a broker is left out until the controller reaches it at the address it advertises: see its listener below",
        ),
    }];
    listed.extend(missing.into_iter().cloned());
    for broker in &listed {
        checks.push(advertised(broker.id, &broker.host, broker.port).await);
    }
    checks
}

async fn through_librdkafka(bootstrap: &str) -> Result<Vec<Listed>, String> {
    let admin = Admin::new(bootstrap, STEP).map_err(|e| e.to_string())?;
    let cluster = admin.reach().await;
    admin.close().await;
    let cluster = cluster.map_err(|e| e.to_string())?;
    Ok(cluster
        .brokers
        .iter()
        .map(|b| Listed {
            id: b.id,
            host: b.host.clone(),
            port: u16::try_from(b.port).unwrap_or(0),
        })
        .collect())
}

/// The check of the broker `id` advertised at `host:port`.
pub async fn advertised(id: i32, host: &str, port: u16) -> Check {
    let name = format!("listener of broker {id} at {host}:{port}");
    let resolved = tokio::time::timeout(STEP, tokio::net::lookup_host((host, port))).await;
    let addrs: Vec<std::net::SocketAddr> = match resolved {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(e)) => return unresolved(name, host, &e.to_string()),
        Err(_) => return unresolved(name, host, "no answer from the resolver"),
    };
    let Some(addr) = addrs.first().copied() else {
        return unresolved(name, host, "no address");
    };
    match tokio::time::timeout(STEP, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Check::problem(
                name,
                format!("{host} is {addr}, but nothing listens there (connection refused)"),
                "the broker advertises a port it does not listen on: advertised.listeners must name a port of listeners (or the one published for it)",
            )
        }
        Ok(Err(e)) => return Check::problem(name, format!("cannot connect to {addr}: {e}"), "is that address on this host's network?"),
        Err(_) => {
            return Check::problem(
                name,
                format!("no answer from {addr} within {} s", STEP.as_secs()),
                "a firewall, or an address of another network than this host's",
            )
        }
    }
    metadata(name, host, port).await
}

fn unresolved(name: String, host: &str, why: &str) -> Check {
    let help = match host.contains('.') || host == "localhost" {
        false => format!(
            "\"{host}\" looks like a container's or machine's own name: clients on this host cannot resolve it; advertise an address they can dial (127.0.0.1 and the published port)"
        ),
        true => "advertise a name clients resolve, or an IP address".to_string(),
    };
    Check::problem(name, format!("{host} does not resolve here ({why})"), help)
}

/// The address answers a metadata request with this run's client settings.
async fn metadata(name: String, host: &str, port: u16) -> Check {
    let address = format!("{host}:{port}");
    let answered = match Admin::new(&address, STEP) {
        Ok(admin) => {
            let reach = admin.reach().await;
            admin.close().await;
            reach.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    match answered {
        Ok(cluster) => Check::ok(
            name,
            format!(
                "resolves, connects and answers metadata ({} broker(s) listed)",
                cluster.brokers.len()
            ),
        ),
        Err(said) => {
            let help = protocol_hint(&said);
            Check::problem(name, format!("connects, but no metadata: {said}"), help)
        }
    }
}

/// What librdkafka's words say about a mismatch of protocols.
pub fn protocol_hint(said: &str) -> String {
    if said.contains("SSL listener") || said.contains("incorrect security.protocol") {
        return "this port speaks TLS and the client does not: give --client-config with security.protocol=ssl (or sasl_ssl) and ssl.ca.location".into();
    }
    if said.contains("SSL handshake failed") || said.contains("wrong version number") {
        return "TLS failed: the port may speak plaintext (leave security.protocol out), or its certificate is not signed by ssl.ca.location's CA".into();
    }
    if said.contains("Authentication") || said.contains("SASL") {
        return "the broker refused the login: check sasl.username and sasl.password (kafkup credentials)".into();
    }
    "the broker's log says why it did not answer (kafkup logs NODE for an environment of kafkup's)"
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librdkafkas_words_name_the_protocol_mismatch() {
        let plain_on_tls = "Disconnected while requesting ApiVersion: might be caused by incorrect security.protocol configuration (connecting to a SSL listener?)";
        assert!(protocol_hint(plain_on_tls).contains("speaks TLS"));
        let tls_on_plain =
            "SSL handshake failed: error:0A00010B:SSL routines::wrong version number";
        assert!(protocol_hint(tls_on_plain).contains("may speak plaintext"));
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_and_a_closed_port_are_named() {
        let check = advertised(1, "kafka-broker-that-is-not-here", 9092).await;
        assert_eq!(check.verdict, super::super::report::Verdict::Problem);
        assert!(check.help.unwrap().contains("container's"), "{}", check.saw);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let check = advertised(1, "127.0.0.1", port).await;
        assert!(check.saw.contains("connection refused"), "{}", check.saw);
    }
}
