//! OpenPGP detached signatures (`.asc`) checked against a project's `KEYS` file.
//!
//! A KEYS file is many armored key blocks with listing text between them; each block is parsed on
//! its own so that one block rpgp cannot read does not hide the others.

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{PublicKey, PublicSubkey, Signature, SignatureType, SignatureVersionSpecific};
use pgp::types::{KeyDetails, KeyVersion, VerifyingKey};
use sha2::digest::DynDigest;
use sha2::Sha512;
use std::io::Read;

const BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const END: &str = "-----END PGP PUBLIC KEY BLOCK-----";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature file cannot be read as an OpenPGP signature: {0}")]
    Malformed(String),
    #[error("the signing key {issuers} is not among the {keys} keys in KEYS")]
    UnknownSigner { issuers: String, keys: usize },
    #[error("the signature by {signer} does not match the file: {reason}")]
    Bad { signer: String, reason: String },
}

/// The armored public-key blocks of a KEYS file, without the text around them.
pub fn armored_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after_begin = &rest[start..];
        match after_begin.find(END) {
            Some(end) => {
                blocks.push(&after_begin[..end + END.len()]);
                rest = &after_begin[end + END.len()..];
            }
            None => {
                // An unterminated block is still a block: it counts as unreadable.
                blocks.push(after_begin);
                break;
            }
        }
    }
    blocks
}

/// All keys that could be read from a KEYS file.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    pub keys: Vec<SignedPublicKey>,
    /// Armored blocks found in the file.
    pub blocks: usize,
    /// Blocks that could not be parsed and were left out.
    pub skipped: usize,
}

impl Keyring {
    /// Parse every armored block of a KEYS file; a block that fails is skipped and counted.
    pub fn parse(keys_file: &[u8]) -> Keyring {
        let text = String::from_utf8_lossy(keys_file);
        let blocks = armored_blocks(&text);
        let mut ring = Keyring {
            blocks: blocks.len(),
            ..Keyring::default()
        };
        for block in blocks {
            match parse_block(block) {
                Ok(keys) if !keys.is_empty() => ring.keys.extend(keys),
                _ => ring.skipped += 1,
            }
        }
        ring
    }

    /// Find the key (primary or subkey) that made `signature`, by issuer key id or fingerprint.
    pub fn signer_of(&self, signature: &DetachedSignature) -> Result<Verifier, SignatureError> {
        let sig = &signature.signature;
        let ids = sig.issuer_key_id();
        let fingerprints = sig.issuer_fingerprint();
        let matches = |k: &dyn KeyDetails| {
            ids.iter().any(|id| **id == k.legacy_key_id())
                || fingerprints.iter().any(|fp| **fp == k.fingerprint())
        };
        let mut candidates = Vec::new();
        for key in &self.keys {
            if matches(&key.primary_key) {
                candidates.push(Candidate::Primary(key.primary_key.clone(), user_of(key)));
            }
            for sub in &key.public_subkeys {
                if matches(&sub.key) {
                    candidates.push(Candidate::Subkey(sub.key.clone(), user_of(key)));
                }
            }
        }
        if candidates.is_empty() {
            return Err(SignatureError::UnknownSigner {
                issuers: issuers_of(sig),
                keys: self.keys.len(),
            });
        }
        Ok(Verifier {
            signature: sig.clone(),
            candidates,
        })
    }
}

fn parse_block(block: &str) -> pgp::errors::Result<Vec<SignedPublicKey>> {
    let (keys, _headers) = SignedPublicKey::from_armor_many(block.as_bytes())?;
    keys.collect()
}

fn user_of(key: &SignedPublicKey) -> String {
    key.details
        .users
        .first()
        .and_then(|u| u.id.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The keys a signature says made it: issuer fingerprints, then issuer key ids (uppercase hex).
pub fn issuer_ids(signature: &DetachedSignature) -> Vec<String> {
    issuer_names(&signature.signature)
}

fn issuer_names(sig: &Signature) -> Vec<String> {
    let mut names: Vec<String> = sig
        .issuer_fingerprint()
        .iter()
        .map(|fp| format!("{fp:X}"))
        .collect();
    names.extend(
        sig.issuer_key_id()
            .iter()
            .map(|id| hex::encode_upper(id.as_ref())),
    );
    names
}

fn issuers_of(sig: &Signature) -> String {
    let names = issuer_names(sig);
    if names.is_empty() {
        "(the signature names no key)".to_string()
    } else {
        names.join(" / ")
    }
}

/// Read an `.asc` file (armored, or binary as a fallback).
pub fn parse_signature(asc: &[u8]) -> Result<DetachedSignature, SignatureError> {
    let (signature, _) = DetachedSignature::from_reader_single(asc)
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    match signature.signature.typ() {
        Some(SignatureType::Binary) | Some(SignatureType::Text) => Ok(signature),
        other => Err(SignatureError::Malformed(format!(
            "it is not a data signature ({other:?})"
        ))),
    }
}

#[derive(Debug, Clone)]
enum Candidate {
    Primary(PublicKey, String),
    Subkey(PublicSubkey, String),
}

impl Candidate {
    fn describe(&self) -> String {
        let (fp, user) = match self {
            Candidate::Primary(k, user) => (k.fingerprint(), user),
            Candidate::Subkey(k, user) => (k.fingerprint(), user),
        };
        if user.is_empty() {
            format!("{fp:X}")
        } else {
            format!("{fp:X} ({user})")
        }
    }

    fn with_key<T>(&self, f: impl FnOnce(&dyn VerifyKey) -> T) -> T {
        match self {
            Candidate::Primary(k, _) => f(k),
            Candidate::Subkey(k, _) => f(k),
        }
    }
}

/// `VerifyingKey` is not object safe; this is the part of it we need.
trait VerifyKey {
    fn version(&self) -> KeyVersion;
    fn verify_digest(
        &self,
        hash: HashAlgorithm,
        digest: &[u8],
        sig: &Signature,
    ) -> pgp::errors::Result<()>;
    fn verify_data(&self, sig: &Signature, data: &mut dyn Read) -> pgp::errors::Result<()>;
}

impl<K: VerifyingKey> VerifyKey for K {
    fn version(&self) -> KeyVersion {
        KeyDetails::version(self)
    }
    fn verify_digest(
        &self,
        hash: HashAlgorithm,
        digest: &[u8],
        sig: &Signature,
    ) -> pgp::errors::Result<()> {
        let bytes = sig.signature().ok_or_else(|| {
            pgp::errors::Error::from("signature without signature bytes".to_string())
        })?;
        VerifyingKey::verify(self, hash, digest, bytes)
    }
    fn verify_data(&self, sig: &Signature, data: &mut dyn Read) -> pgp::errors::Result<()> {
        sig.verify(self, data)
    }
}

/// A signature and the key(s) from KEYS that claim to have made it.
#[derive(Debug, Clone)]
pub struct Verifier {
    signature: Signature,
    candidates: Vec<Candidate>,
}

impl Verifier {
    /// Who made the signature (fingerprint and first user id), for messages.
    pub fn signer(&self) -> String {
        self.candidates[0].describe()
    }

    /// True when the signature hashes the data exactly as plain SHA-512 does (a v4 binary
    /// signature made with SHA-512), so the download's own SHA-512 state can be reused instead
    /// of hashing the whole file a second time.
    pub fn reuses_sha512(&self) -> bool {
        self.signature.config().is_some_and(|c| {
            c.hash_alg == HashAlgorithm::Sha512
                && c.typ == SignatureType::Binary
                && matches!(c.version_specific, SignatureVersionSpecific::V4)
        })
    }

    /// Verify with the SHA-512 state after the whole file (see [`Verifier::reuses_sha512`]).
    /// This finishes the hash the way rpgp's `Signature::verify` does for v4 signatures.
    pub fn verify_sha512_state(&self, data_state: Sha512) -> Result<(), SignatureError> {
        assert!(
            self.reuses_sha512(),
            "verify_sha512_state needs a v4 binary SHA-512 signature"
        );
        let config = self.signature.config().expect("checked by reuses_sha512");
        let mut hasher: Box<dyn DynDigest + Send> = Box::new(data_state);
        let digest = config
            .hash_signature_data(&mut hasher)
            .and_then(|len| config.trailer(len))
            .map(|trailer| {
                hasher.update(&trailer);
                hasher.finalize()
            })
            .map_err(|e| self.bad(&e.to_string()))?;
        if self.signature.signed_hash_value() != Some([digest[0], digest[1]]) {
            return Err(self.bad("the digest does not match the signature"));
        }
        self.try_candidates(|key| {
            if key.version() != KeyVersion::V4 {
                return Err(pgp::errors::Error::from(
                    "a v4 signature by a non-v4 key".to_string(),
                ));
            }
            key.verify_digest(config.hash_alg, &digest, &self.signature)
        })
    }

    /// Verify by hashing the data again (any signature rpgp supports).
    pub fn verify_reader<R: Read>(
        &self,
        mut open: impl FnMut() -> std::io::Result<R>,
    ) -> Result<(), SignatureError> {
        self.try_candidates(|key| {
            let mut data = open()?;
            key.verify_data(&self.signature, &mut data)
        })
    }

    fn try_candidates(
        &self,
        mut verify: impl FnMut(&dyn VerifyKey) -> pgp::errors::Result<()>,
    ) -> Result<(), SignatureError> {
        let mut last = None;
        for candidate in &self.candidates {
            match candidate.with_key(&mut verify) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e.to_string()),
            }
        }
        Err(self.bad(&last.unwrap_or_default()))
    }

    fn bad(&self, reason: &str) -> SignatureError {
        SignatureError::Bad {
            signer: self.signer(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;
    use std::path::Path;
    use std::process::Command;

    #[test]
    fn finds_blocks_between_listing_text() {
        let text = format!(
            "pub rsa4096\nuid A\n{BEGIN}\n\nAAA\n{END}\nsig x\n{BEGIN}\nBBB\n{END}\n{BEGIN}\nCCC"
        );
        let blocks = armored_blocks(&text);
        assert_eq!(blocks.len(), 3);
        assert!(
            blocks[0].starts_with(BEGIN) && blocks[0].ends_with(END) && blocks[0].contains("AAA")
        );
        assert!(blocks[1].contains("BBB") && !blocks[1].contains("AAA"));
        assert!(blocks[2].ends_with("CCC"));
        assert!(armored_blocks("no keys here").is_empty());
    }

    /// Kafka's real KEYS file (src/fetch/keys/kafka-KEYS, built into kafkup): 37 armored blocks holding
    /// 39 keys. One key (DA2546E4…) is in two blocks, so there are 40 certificates, as
    /// `gpg --show-keys` lists them; GnuPG imports 39.
    #[test]
    fn parses_the_real_kafka_keys_file_whole() {
        let ring = Keyring::parse(include_bytes!("keys/kafka-KEYS"));
        assert_eq!(ring.blocks, 37);
        assert_eq!(ring.skipped, 0, "blocks rpgp could not parse");
        assert_eq!(ring.keys.len(), 40);
        let distinct: std::collections::BTreeSet<_> = ring
            .keys
            .iter()
            .map(|k| format!("{:X}", k.primary_key.fingerprint()))
            .collect();
        assert_eq!(distinct.len(), 39);
    }

    #[test]
    fn a_broken_block_is_skipped_and_counted() {
        let text = format!("{BEGIN}\n\nnot base64 at all!!\n{END}\n");
        let ring = Keyring::parse(text.as_bytes());
        assert_eq!((ring.blocks, ring.skipped, ring.keys.len()), (1, 1, 0));
    }

    #[test]
    fn garbage_is_not_a_signature() {
        assert!(matches!(
            parse_signature(b"<html>404</html>"),
            Err(SignatureError::Malformed(_))
        ));
    }

    /// A throw-away GnuPG home with one key; signs files with `gpg --detach-sign --armor`.
    struct Gpg {
        home: tempfile::TempDir,
    }

    impl Gpg {
        fn new(algo: &str, name: &str) -> Gpg {
            let home = tempfile::tempdir().unwrap();
            let gpg = Gpg { home };
            gpg.run(&[
                "--quick-generate-key",
                &format!("{name} <{name}@example.org>"),
                algo,
                "sign",
                "never",
            ]);
            gpg
        }

        fn run(&self, args: &[&str]) -> Vec<u8> {
            let out = Command::new("gpg")
                .arg("--homedir")
                .arg(self.home.path())
                .args([
                    "--batch",
                    "--yes",
                    "--quiet",
                    "--pinentry-mode",
                    "loopback",
                    "--passphrase",
                    "",
                ])
                .args(args)
                .output()
                .expect("gpg is installed");
            assert!(
                out.status.success(),
                "gpg {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }

        fn public_keys(&self) -> Vec<u8> {
            self.run(&["--armor", "--export"])
        }

        fn sign(&self, file: &Path, digest: &str) -> Vec<u8> {
            self.run(&[
                "--digest-algo",
                digest,
                "--armor",
                "--detach-sign",
                "--output",
                "-",
                file.to_str().unwrap(),
            ])
        }
    }

    fn sha512_state(data: &[u8]) -> Sha512 {
        let mut h = Sha512::new();
        Digest::update(&mut h, data);
        h
    }

    #[test]
    fn verifies_gpg_signatures_both_ways_and_rejects_changed_data() {
        let signer = Gpg::new("ed25519", "release");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.tgz");
        let data = b"release bytes".repeat(1000);
        std::fs::write(&file, &data).unwrap();

        // KEYS as the ASF writes it: listing text, then the armored block.
        let mut keys = b"pub   ed25519 2026-01-01 [SC]\nuid   release\n\n".to_vec();
        keys.extend(signer.public_keys());
        let ring = Keyring::parse(&keys);
        assert_eq!((ring.blocks, ring.skipped, ring.keys.len()), (1, 0, 1));

        for digest in ["SHA512", "SHA256"] {
            let sig = parse_signature(&signer.sign(&file, digest)).unwrap();
            let verifier = ring.signer_of(&sig).unwrap();
            assert!(verifier.signer().contains("release@example.org"));
            assert_eq!(verifier.reuses_sha512(), digest == "SHA512");
            verifier.verify_reader(|| Ok(&data[..])).unwrap();
            let mut changed = data.clone();
            changed[7] ^= 1;
            assert!(matches!(
                verifier.verify_reader(|| Ok(&changed[..])),
                Err(SignatureError::Bad { .. })
            ));
            if verifier.reuses_sha512() {
                verifier.verify_sha512_state(sha512_state(&data)).unwrap();
                let err = verifier
                    .verify_sha512_state(sha512_state(&changed))
                    .unwrap_err();
                assert!(matches!(err, SignatureError::Bad { .. }), "{err:?}");
            }
        }
    }

    #[test]
    fn a_signature_by_a_key_outside_keys_is_an_unknown_signer() {
        let known = Gpg::new("ed25519", "known");
        let stranger = Gpg::new("ed25519", "stranger");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.tgz");
        std::fs::write(&file, b"x").unwrap();
        let ring = Keyring::parse(&known.public_keys());
        let sig = parse_signature(&stranger.sign(&file, "SHA512")).unwrap();
        let err = ring.signer_of(&sig).unwrap_err();
        assert!(
            matches!(err, SignatureError::UnknownSigner { keys: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn finds_a_signing_subkey_and_verifies_rsa() {
        // Primary key certifies only; the signature comes from its RSA signing subkey.
        let gpg = Gpg::new("rsa2048", "primary");
        let fpr = String::from_utf8(gpg.run(&["--with-colons", "--list-keys"])).unwrap();
        let fpr = fpr
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .unwrap()
            .split(':')
            .nth(9)
            .unwrap()
            .to_string();
        gpg.run(&["--quick-add-key", &fpr, "rsa2048", "sign", "never"]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.tgz");
        std::fs::write(&file, b"subkey signed").unwrap();
        let sig = gpg.run(&[
            "--local-user",
            &format!("{fpr}!"),
            "--armor",
            "--detach-sign",
            "--output",
            "-",
            file.to_str().unwrap(),
        ]);
        // Sign with the newest signing (sub)key.
        let sig2 = gpg.sign(&file, "SHA512");
        let ring = Keyring::parse(&gpg.public_keys());
        assert_eq!(ring.keys.len(), 1);
        assert_eq!(ring.keys[0].public_subkeys.len(), 1);
        for sig in [sig, sig2] {
            let sig = parse_signature(&sig).unwrap();
            let verifier = ring.signer_of(&sig).unwrap();
            verifier
                .verify_reader(|| Ok(&b"subkey signed"[..]))
                .unwrap();
        }
    }
}
