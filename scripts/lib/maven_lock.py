#!/usr/bin/env python3
"""Writes a kafkup Maven lock: every jar of a resolved closure, pinned by SHA-256.

Usage:
  maven_lock.py --dist NAME --repo DIR --published DIR --out FILE --roots COORDS --source TEXT

  --repo DIR       the closure in Maven's repository layout (scripts/lib/maven-closure.sh's repo/)
  --published DIR  the same layout holding what the repository publishes beside each jar:
                   <jar>.sha256 or <jar>.sha1 (required: each jar must match it), and for the
                   jars of Apache Kafka and ZooKeeper <jar>.asc (its signer is recorded; without
                   one the jar is recorded as "unsigned")
  --roots COORDS   the coordinates the closure was resolved from (for the header)
  --source TEXT    where the jars came from (for the header)
  --writer TEXT    what wrote the lock (for the header; default scripts/lock-maven.sh)

The format (read by kafkup's src/fetch/maven/lock.rs):
  # comment lines
  kafkup-maven-lock 1
  dist <distribution directory name>
  jar <group>:<artifact>:<version>[:<classifier>] <sha256> <bytes> [<signer>]
Jars are sorted by coordinates; <signer> is the issuer fingerprint (or, when the signature
names none, the long key id) of the jar's .asc, or "unsigned" when the repository had none, for
org.apache.kafka and org.apache.zookeeper jars only.
"""

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile

SIGNED_GROUPS = ("org.apache.kafka", "org.apache.zookeeper")


def coordinates(rel):
    """group:artifact:version[:classifier] from a repository-layout path."""
    parts = rel.split("/")
    if len(parts) < 4:
        raise ValueError(f"not a repository-layout path: {rel}")
    group, artifact, version, name = ".".join(parts[:-3]), parts[-3], parts[-2], parts[-1]
    stem = f"{artifact}-{version}"
    if not name.startswith(stem) or not name.endswith(".jar"):
        raise ValueError(f"{rel}: file name does not start with {stem}")
    rest = name[len(stem):-len(".jar")]
    if rest and not rest.startswith("-"):
        raise ValueError(f"{rel}: cannot tell the classifier")
    coord = f"{group}:{artifact}:{version}"
    return coord + (f":{rest[1:]}" if rest else "")


def digest(path, algorithm):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_published(jar, published):
    """The jar must match the strongest checksum published beside it."""
    for algorithm in ("sha256", "sha1"):
        path = f"{published}.{algorithm}"
        if os.path.isfile(path):
            words = open(path, encoding="ascii", errors="replace").read().split()
            want = words[0].lower() if words else ""
            got = digest(jar, algorithm)
            if want != got:
                raise ValueError(f"{jar}: {algorithm} {got} but {path} says {want or '(empty)'}")
            return
    raise ValueError(f"{jar}: no .sha256 or .sha1 published beside it ({published}.*)")


def signer(asc, gnupg_home):
    """The issuer fingerprint of a detached signature, else its issuer key id."""
    if not os.path.isfile(asc):
        print(f"maven_lock.py: warning: no signature {asc}: recorded as unsigned", file=sys.stderr)
        return "unsigned"
    out = subprocess.run(
        ["gpg", "--homedir", gnupg_home, "--batch", "--list-packets", asc],
        capture_output=True, text=True, check=False).stdout
    fpr = re.search(r"issuer fpr v[45] ([0-9A-F]{40,64})", out)
    if fpr:
        return fpr.group(1)
    keyid = re.search(r"^:signature packet: algo \d+, keyid ([0-9A-F]{16})", out, re.M)
    if keyid:
        return keyid.group(1)
    raise ValueError(f"{asc}: no signature packet naming its key")


def jar_lines(repo, published, gnupg_home):
    lines, names = [], {}
    for top, _, files in os.walk(repo):
        for name in files:
            if not name.endswith(".jar"):
                continue
            path = os.path.join(top, name)
            rel = os.path.relpath(path, repo).replace(os.sep, "/")
            coord = coordinates(rel)
            if name in names:
                raise ValueError(f"{coord} and {names[name]} are both named {name}")
            names[name] = coord
            check_published(path, os.path.join(published, rel))
            line = f"jar {coord} {digest(path, 'sha256')} {os.path.getsize(path)}"
            if coord.split(":")[0] in SIGNED_GROUPS:
                line += " " + signer(os.path.join(published, rel) + ".asc", gnupg_home)
            lines.append((coord, line))
    if not lines:
        raise ValueError(f"no jars under {repo}")
    return [line for _, line in sorted(lines)]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for flag in ("--dist", "--repo", "--published", "--out", "--roots", "--source"):
        p.add_argument(flag, required=True)
    p.add_argument("--writer", default="scripts/lock-maven.sh")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="kafkup-lock-gpg-") as home:
        try:
            jars = jar_lines(a.repo, a.published, home)
        except ValueError as e:
            print(f"maven_lock.py: {e}", file=sys.stderr)
            return 1
    header = [
        f"# kafkup Maven lock: {a.dist}, assembled from the runtime closure of",
        f"#   {a.roots}",
        f"# Written by {a.writer} from {a.source}; every jar matched the",
        "# SHA-256 or SHA-1 published beside it. Do not edit: run the script again.",
        "# jar GROUP:ARTIFACT:VERSION[:CLASSIFIER] SHA-256 BYTES [SIGNER of its .asc]",
        "kafkup-maven-lock 1",
        f"dist {a.dist}",
    ]
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("\n".join(header + jars) + "\n")
    os.replace(tmp, a.out)
    print(f"{a.out}: {len(jars)} jars", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
