#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian/Ubuntu machine,
# builds the fixtures (cached), builds kafkup, runs every test, then the benchmarks.
#
#   ./scripts/test.sh            everything
#   KAFKUP_SKIP_BENCH=1 ...      tests only
#
# Caches live outside the checkout so a fresh clone on the same machine reuses them:
#   $KAFKUP_CACHE (default ~/.cache/kafkup-dev): cargo target dir and fixture tarballs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

cache=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache/target}
export KAFKUP_FIXTURES_OUT=${KAFKUP_FIXTURES_OUT:-$cache/fixtures}
export KAFKUP_FIXTURES=$KAFKUP_FIXTURES_OUT
mkdir -p "$cache"

say() { printf '\n==> %s\n' "$*"; }

# --- system packages -------------------------------------------------------
# kcat: an independent Kafka client for interop tests; gnupg: fixture signatures;
# maven: fixture jars from Maven Central; systemd: systemd-analyze for unit checks;
# build tools + zlib: librdkafka is built from source by the rdkafka crate;
# python3-venv: the venv with kafka-python and Flask (interop tests, the HTTP baseline);
# wrk: the HTTP benchmark's load generator.
need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have kcat || need_pkgs+=(kcat)
have gpg || need_pkgs+=(gnupg)
have mvn || need_pkgs+=(maven)
have systemd-analyze || need_pkgs+=(systemd)
have nc || need_pkgs+=(netcat-openbsd)
have make || need_pkgs+=(make)
have cc || need_pkgs+=(gcc g++)
have curl || need_pkgs+=(curl)
have bc || need_pkgs+=(bc)
have pgrep || need_pkgs+=(procps)
have python3 || need_pkgs+=(python3)
/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || need_pkgs+=(python3-venv)
have wrk || need_pkgs+=(wrk)
have objdump || need_pkgs+=(binutils)
# docker-registry: a local registry for the docker runner's pull test (no registry is reachable).
dpkg -s docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
[ -x /usr/bin/time ] || need_pkgs+=(time)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need_pkgs+=(zlib1g-dev)
# librdkafka is built with TLS and SASL (rdkafka's `ssl` feature): OpenSSL's headers, and
# pkg-config to find them; openssl makes a foreign CA in the security tests.
dpkg -s libssl-dev >/dev/null 2>&1 || need_pkgs+=(libssl-dev)
have pkg-config || need_pkgs+=(pkg-config)
have openssl || need_pkgs+=(openssl)
have java || need_pkgs+=(openjdk-17-jre-headless)
# tests/it/owner.rs runs kafkup as a throw-away user; tests/it/small.rs mounts a small tmpfs.
have useradd || need_pkgs+=(passwd)
{ have runuser && have mount; } || need_pkgs+=(util-linux mount)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
have cargo || { echo "cargo is missing: install Rust (rustup) first" >&2; exit 1; }

# --- fixtures ---------------------------------------------------------------
say "building fixture tarballs from Maven Central jars (cached in $KAFKUP_FIXTURES_OUT)"
./fixtures/build.sh

# The probe and self-test tests start bare JVMs from the unpacked fixture jars.
unpacked="$cache/unpacked"
stamp="$unpacked/.stamp"
sums=$(sha512sum "$KAFKUP_FIXTURES_OUT"/mirror/*/*/*.t*gz | sha512sum | cut -c1-32)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sums" ]; then
  rm -rf "$unpacked"; mkdir -p "$unpacked"
  for t in "$KAFKUP_FIXTURES_OUT"/mirror/*/*/*.t*gz; do tar -xzf "$t" -C "$unpacked"; done
  echo "$sums" >"$stamp"
fi
. fixtures/versions.sh
export KAFKUP_TEST_KAFKA_LIBS="$unpacked/kafka_$FIXTURE_SCALA-$FIXTURE_KAFKA_KRAFT_MODE/libs"
export KAFKUP_TEST_KAFKA39_LIBS="$unpacked/kafka_$FIXTURE_SCALA-$FIXTURE_KAFKA_ZOOKEEPER_MODE/libs"
export KAFKUP_TEST_ZOOKEEPER_LIBS="$unpacked/apache-zookeeper-$FIXTURE_ZOOKEEPER-bin/lib"

# --- Docker Engine and the locally built test images -------------------------
# The systemd runner is tested in a container whose PID 1 is systemd; no registry is
# reachable, so the images are debootstrapped here (cached in $KAFKUP_CACHE/images).
say "Docker Engine and test images"
./scripts/docker-engine.sh
./scripts/test-images.sh

# --- Python: kafka-python (the guide's client) and Flask, from PyPI ----------------
say "preparing the Python venv (kafka-python, Flask; cached in $cache/py)"
KAFKUP_TEST_PYTHON=$(./scripts/python-env.sh)
export KAFKUP_TEST_PYTHON

# --- a second JDK (class-data archives are keyed by JDK) -----------------------------
say "a second JDK for the class-archive test"
KAFKUP_TEST_SECOND_JAVA_HOME=$(./scripts/second-jdk.sh)
export KAFKUP_TEST_SECOND_JAVA_HOME
echo "second JDK: $KAFKUP_TEST_SECOND_JAVA_HOME"

# --- build and test ---------------------------------------------------------
say "building kafkup (release) and its .deb"
cargo build --release --all-targets --locked
have cargo-deb || cargo install cargo-deb --locked --version "^3"
cargo deb --no-build --locked -q >/dev/null
KAFKUP_DEB=$(ls -t "$CARGO_TARGET_DIR"/debian/kafkup_*.deb | head -n 1)
export KAFKUP_DEB

say "running the test suite"
cargo test --release --locked -- --test-threads="${KAFKUP_TEST_THREADS:-2}"

# --- benchmarks -------------------------------------------------------------
if [ "${KAFKUP_SKIP_BENCH:-0}" != 1 ]; then
  export KAFKUP_BIN="$CARGO_TARGET_DIR/release/kafkup"
  for bench in bench/*.sh; do
    case "$bench" in */make-*) continue ;; esac
    say "benchmark: $bench"
    "$bench"
  done
fi
say "all tests passed"
