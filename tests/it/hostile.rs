//! Test releases: small tarballs (well-formed or hostile), laid out like an ASF mirror with
//! `.sha512` files in each project's real format, and signed at test time by a throw-away key.

#![allow(dead_code)]

use flate2::write::GzEncoder;
use std::path::{Path, PathBuf};
use std::process::Command;
use tar::{EntryType, Header};

/// A release as the ASF lays it out (independent of kafkup's own catalog, on purpose).
#[derive(Debug, Clone)]
pub struct Release {
    pub project: &'static str,
    pub version: String,
    pub file_name: String,
    pub top_dir: String,
    /// Path below a mirror base.
    pub path: String,
}

impl Release {
    pub fn kafka(version: &str) -> Release {
        let top_dir = format!("kafka_2.13-{version}");
        let file_name = format!("{top_dir}.tgz");
        Release {
            project: "kafka",
            version: version.into(),
            path: format!("kafka/{version}/{file_name}"),
            file_name,
            top_dir,
        }
    }

    pub fn zookeeper(version: &str) -> Release {
        let top_dir = format!("apache-zookeeper-{version}-bin");
        let file_name = format!("{top_dir}.tar.gz");
        Release {
            project: "zookeeper",
            version: version.into(),
            path: format!("zookeeper/zookeeper-{version}/{file_name}"),
            file_name,
            top_dir,
        }
    }

    /// Where the tarball is in a mirror directory.
    pub fn tarball_in(&self, mirror: &Path) -> PathBuf {
        mirror.join(&self.path)
    }

    pub fn sha512_in(&self, mirror: &Path) -> PathBuf {
        mirror.join(format!("{}.sha512", self.path))
    }

    pub fn asc_in(&self, mirror: &Path) -> PathBuf {
        mirror.join(format!("{}.asc", self.path))
    }

    pub fn keys_in(&self, mirror: &Path) -> PathBuf {
        mirror.join(self.project).join("KEYS")
    }

    /// Write the tarball, its `.sha512` and, with a signer, its `.asc` and the project's KEYS.
    pub fn publish(&self, mirror: &Path, tarball: &[u8], signer: Option<&TestSigner>) {
        let file = self.tarball_in(mirror);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, tarball).unwrap();
        std::fs::write(self.sha512_in(mirror), self.sha512_file(tarball)).unwrap();
        if let Some(signer) = signer {
            std::fs::write(self.asc_in(mirror), signer.sign(&file)).unwrap();
            let mut keys = b"This file contains the PGP keys of test release managers.\n\npub   ed25519\nuid   test\n\n".to_vec();
            keys.extend(signer.public_key());
            std::fs::write(self.keys_in(mirror), keys).unwrap();
        }
    }

    /// The `.sha512` content in the project's real format: Kafka's `gpg --print-md SHA512`
    /// (uppercase, grouped, wrapped), ZooKeeper's `sha512sum` (no trailing newline).
    pub fn sha512_file(&self, tarball: &[u8]) -> String {
        let hex = sha512_hex(tarball);
        if self.project == "kafka" {
            let groups: Vec<String> = hex
                .to_uppercase()
                .as_bytes()
                .chunks(8)
                .map(|c| String::from_utf8(c.to_vec()).unwrap())
                .collect();
            let indent = " ".repeat(self.file_name.len() + 2);
            let lines: Vec<String> = groups.chunks(6).map(|g| g.join(" ")).collect();
            format!(
                "{}: {}\n",
                self.file_name,
                lines.join(&format!("\n{indent}"))
            )
        } else {
            format!("{hex}  {}", self.file_name)
        }
    }
}

pub fn sha512_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha512::digest(data))
}

/// A GnuPG home with one fresh ed25519 signing key, removed when dropped.
pub struct TestSigner {
    home: tempfile::TempDir,
}

impl TestSigner {
    pub fn new(name: &str) -> TestSigner {
        let signer = TestSigner {
            home: tempfile::Builder::new()
                .prefix("kafkup-gpg-")
                .tempdir()
                .unwrap(),
        };
        signer.gpg(&[
            "--quick-generate-key",
            &format!("{name} <{name}@example.org>"),
            "ed25519",
            "sign",
            "never",
        ]);
        signer
    }

    fn gpg(&self, args: &[&str]) -> Vec<u8> {
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

    pub fn public_key(&self) -> Vec<u8> {
        self.gpg(&["--armor", "--export"])
    }

    /// An armored detached signature of `file` (SHA-512, as ASF release managers use).
    pub fn sign(&self, file: &Path) -> Vec<u8> {
        self.gpg(&[
            "--digest-algo",
            "SHA512",
            "--armor",
            "--detach-sign",
            "--output",
            "-",
            file.to_str().unwrap(),
        ])
    }
}

/// One tar entry: path, type, content (file) or target (link). Written raw, so hostile names
/// are stored as they are.
pub type Entry<'a> = (&'a str, EntryType, &'a [u8]);

pub fn tarball(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (path, kind, data) in entries {
        let mut header = Header::new_gnu();
        header.set_entry_type(*kind);
        assert!(path.len() <= 100, "test entry names fit the old header");
        header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_mode(if path.ends_with(".sh") || *kind == EntryType::Directory {
            0o755
        } else {
            0o644
        });
        header.set_mtime(1_700_000_000);
        let body: &[u8] = if *kind == EntryType::Regular {
            data
        } else {
            b""
        };
        match kind {
            EntryType::Symlink | EntryType::Link => header.set_link_name_literal(data).unwrap(),
            EntryType::Char | EntryType::Block => {
                header.set_device_major(1).unwrap();
                header.set_device_minor(3).unwrap();
            }
            _ => {}
        }
        header.set_size(body.len() as u64);
        header.set_cksum();
        builder.append(&header, body).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A small, well-formed distribution: a start script, a jar, a config file.
pub fn good_tarball(top: &str) -> Vec<u8> {
    let dir = format!("{top}/");
    let script = format!("{top}/bin/start.sh");
    let jar = format!("{top}/libs/app.jar");
    let config = format!("{top}/config/server.properties");
    let libs = format!("{top}/libs/");
    tarball(&[
        (&dir, EntryType::Directory, b""),
        (&script, EntryType::Regular, b"#!/bin/sh\necho started\n"),
        (&libs, EntryType::Directory, b""),
        (&jar, EntryType::Regular, &[0x50, 0x4b, 3, 4]),
        (&config, EntryType::Regular, b"broker.id=0\n"),
    ])
}

/// The ways a tarball can try to write outside its tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// `top/../../kafkup-hostile-dotdot`
    DotDot,
    /// `/tmp/kafkup-hostile-absolute`
    Absolute,
    /// `top/etc -> /etc`, then a file written through it.
    SymlinkToEtc,
    /// `top/passwd` hard link to `/etc/passwd`.
    HardLinkOutside,
    /// Everything under another top directory than the release's.
    WrongTopDir,
    /// `top/null`, a character device.
    Device,
}

impl Hostile {
    pub const ALL: [Hostile; 6] = [
        Hostile::DotDot,
        Hostile::Absolute,
        Hostile::SymlinkToEtc,
        Hostile::HardLinkOutside,
        Hostile::WrongTopDir,
        Hostile::Device,
    ];

    /// Files that must not exist after unpacking, whatever happened.
    pub fn escape_targets(self) -> Vec<PathBuf> {
        vec![
            PathBuf::from("/tmp/kafkup-hostile-absolute"),
            PathBuf::from("/etc/kafkup-hostile"),
            std::env::temp_dir().join("kafkup-hostile-dotdot"),
        ]
    }
}

/// A tarball for `top` whose only fault is `kind` (the rest is a normal distribution).
pub fn hostile_tarball(kind: Hostile, top: &str) -> Vec<u8> {
    let dir = format!("{top}/");
    let ok_file = format!("{top}/bin/start.sh");
    let good: [Entry; 2] = [
        (&dir, EntryType::Directory, b""),
        (&ok_file, EntryType::Regular, b"#!/bin/sh\n"),
    ];
    let dotdot = format!("{top}/../../kafkup-hostile-dotdot");
    let link = format!("{top}/etc");
    let through = format!("{top}/etc/kafkup-hostile");
    let hard = format!("{top}/passwd");
    let other = format!("{top}-evil/bin/start.sh");
    let device = format!("{top}/null");
    let bad: Vec<Entry> = match kind {
        Hostile::DotDot => vec![(&dotdot, EntryType::Regular, b"escaped")],
        Hostile::Absolute => vec![(
            "/tmp/kafkup-hostile-absolute",
            EntryType::Regular,
            b"escaped",
        )],
        Hostile::SymlinkToEtc => vec![
            (&link, EntryType::Symlink, b"/etc"),
            (&through, EntryType::Regular, b"escaped"),
        ],
        Hostile::HardLinkOutside => vec![(&hard, EntryType::Link, b"/etc/passwd")],
        Hostile::WrongTopDir => return tarball(&[(&other, EntryType::Regular, b"#!/bin/sh\n")]),
        Hostile::Device => vec![(&device, EntryType::Char, b"")],
    };
    let entries: Vec<Entry> = good.iter().copied().chain(bad).collect();
    tarball(&entries)
}
