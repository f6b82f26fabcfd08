//! kafkup's local certificate authority and the certificates it signs: one CA per environment,
//! a certificate per node (the names clients and the other nodes dial) and per client user.
//! Keys are ECDSA P-256 in PKCS#8 PEM, which Kafka reads as a PEM keystore (no keytool, no
//! JKS), and librdkafka, Python and Java clients read as they are. Pure: no files.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// The CA lives ten years: clients that trust it keep working across setups.
const CA_LIFETIME: Duration = Duration::days(3650);
/// A node's or user's certificate lives a year and is renewed by the first `setup` in its
/// last month.
const LEAF_LIFETIME: Duration = Duration::days(365);
pub const RENEW_BEFORE: Duration = Duration::days(30);

#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct PkiError {
    what: String,
    source: rcgen::Error,
}

fn failed(what: &str) -> impl FnOnce(rcgen::Error) -> PkiError + '_ {
    move |source| PkiError {
        what: what.to_string(),
        source,
    }
}

/// A certificate and its private key, both PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct Pair {
    pub cert: String,
    pub key: String,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key: a Debug print must not leak it into a log.
        f.debug_struct("Pair")
            .field("cert", &self.cert)
            .finish_non_exhaustive()
    }
}

/// What a leaf certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A node: serves TLS, and presents itself to the other nodes (mutual TLS between them).
    Node,
    /// A client user: presents itself to the brokers.
    Client,
}

/// A new CA named after the environment (`kafkup local CA (/var/lib/kafkup)`).
pub fn new_ca(label: &str, now: OffsetDateTime) -> Result<Pair, PkiError> {
    let key = KeyPair::generate().map_err(failed("generating the CA key"))?;
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, format!("kafkup local CA ({label})"));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = now - Duration::hours(1);
    params.not_after = now + CA_LIFETIME;
    params.serial_number = Some(random_serial());
    let cert = params
        .self_signed(&key)
        .map_err(failed("signing the CA certificate"))?;
    Ok(Pair {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// A certificate for `common_name` (its Kafka principal, `User:<common_name>`) and the names
/// it is dialed by, signed by `ca`.
pub fn issue(
    ca: &Pair,
    common_name: &str,
    names: &[String],
    purpose: Purpose,
    now: OffsetDateTime,
) -> Result<Pair, PkiError> {
    let ca_key = KeyPair::from_pem(&ca.key).map_err(failed("reading the CA key"))?;
    let issuer =
        Issuer::from_ca_cert_pem(&ca.cert, ca_key).map_err(failed("reading the CA certificate"))?;
    let key = KeyPair::generate().map_err(failed("generating a key"))?;
    let mut params =
        CertificateParams::new(names.to_vec()).map_err(failed("a name of the certificate"))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = match purpose {
        Purpose::Node => vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
        Purpose::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
    };
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - Duration::hours(1);
    params.not_after = now + LEAF_LIFETIME;
    params.serial_number = Some(random_serial());
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(failed("signing a certificate"))?;
    Ok(Pair {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// When a PEM certificate stops being valid; None if it cannot be read.
pub fn expires(cert_pem: &str) -> Option<OffsetDateTime> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).ok()?;
    let cert = pem.parse_x509().ok()?;
    Some(cert.validity().not_after.to_datetime())
}

/// Whether a certificate must be made anew: unreadable, or in its last [`RENEW_BEFORE`].
pub fn renewal_due(cert_pem: &str, now: OffsetDateTime) -> bool {
    expires(cert_pem).is_none_or(|end| end - now < RENEW_BEFORE)
}

/// The names a certificate was made for (its subject alternative names), to notice a node
/// that is now dialed by another name.
pub fn names(cert_pem: &str) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()) else {
        return vec![];
    };
    let Ok(cert) = pem.parse_x509() else {
        return vec![];
    };
    let Ok(Some(sans)) = cert.subject_alternative_name() else {
        return vec![];
    };
    sans.value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::DNSName(dns) => dns.to_string(),
            GeneralName::IPAddress(bytes) => match <[u8; 4]>::try_from(*bytes) {
                Ok(v4) => std::net::Ipv4Addr::from(v4).to_string(),
                Err(_) => <[u8; 16]>::try_from(*bytes).map_or_else(
                    |_| hex::encode(bytes),
                    |v6| std::net::Ipv6Addr::from(v6).to_string(),
                ),
            },
            other => other.to_string(),
        })
        .collect()
}

/// Sixteen random bytes, positive (a serial number is a positive integer).
fn random_serial() -> SerialNumber {
    let mut bytes = *uuid::Uuid::new_v4().as_bytes();
    bytes[0] &= 0x7f;
    SerialNumber::from_slice(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[test]
    fn a_node_certificate_carries_its_names_and_a_year() {
        let ca = new_ca("test", now()).unwrap();
        let names = vec![
            "127.0.0.1".to_string(),
            "localhost".into(),
            "kafka-2".into(),
        ];
        let node = issue(&ca, "kafka-2", &names, Purpose::Node, now()).unwrap();
        assert_eq!(super::names(&node.cert), names);
        let left = expires(&node.cert).unwrap() - now();
        assert!(
            left > Duration::days(364) && left <= LEAF_LIFETIME,
            "{left}"
        );
        assert!(
            node.key.starts_with("-----BEGIN PRIVATE KEY-----"),
            "PKCS#8"
        );
        assert!(!renewal_due(&node.cert, now()));
    }

    #[test]
    fn a_certificate_in_its_last_month_or_unreadable_is_renewed() {
        let ca = new_ca("test", now()).unwrap();
        let cert = issue(&ca, "developer", &[], Purpose::Client, now())
            .unwrap()
            .cert;
        assert!(renewal_due(&cert, now() + Duration::days(340)));
        assert!(!renewal_due(&cert, now() + Duration::days(300)));
        assert!(renewal_due("not a certificate", now()));
    }

    #[test]
    fn the_debug_print_of_a_pair_holds_no_key() {
        let ca = new_ca("test", now()).unwrap();
        assert!(!format!("{ca:?}").contains("PRIVATE KEY"));
    }
}
