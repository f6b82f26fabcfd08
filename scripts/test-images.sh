#!/usr/bin/env bash
# Build (cached) the two local Docker images the systemd and docker runner tests use.
# No registry is reachable from these machines, so the images are made from Debian's own
# packages: debootstrap a bookworm minbase rootfs, then `docker import` it.
#
#   ./scripts/test-images.sh            # both images
#   ./scripts/test-images.sh jre        # only kafkup-test/jre:17
#   ./scripts/test-images.sh systemd    # only kafkup-test/systemd:17
#   KAFKUP_IMAGES_REBUILD=1 ...         # ignore the tarball cache and debootstrap again
#
#   kafkup-test/jre:17      minbase + openjdk-17-jre-headless: what a user's "JRE 17+ image" is.
#                           No ENTRYPOINT; CMD java -version; JAVA_HOME and PATH set.
#   kafkup-test/systemd:17  minbase + systemd, systemd-sysv, the JRE, procps, iproute2, kcat.
#                           CMD /sbin/init, STOPSIGNAL SIGRTMIN+3, ENV container=docker.
#                           Run it with ./scripts/systemd-container.sh (it has the right flags).
#
# Cache: $KAFKUP_CACHE/images/<name>-<key>.tar (default ~/.cache/kafkup-dev). The key is a hash
# of this script (package lists included), so editing the script rebuilds; the same key is
# set as the image label dev.kafkup.test-image.key, so an image left by an older script is
# re-imported. Image present and current: well under a second. Tarball cached but image
# missing (fresh daemon): only the import, about 3 s per image. Nothing cached: 40 s to 2 min
# per image (debootstrap; most of it is dpkg, so it is slower when the CPU is busy).
#
# Needs root (debootstrap chroots) and a running Engine (./scripts/docker-engine.sh).
set -euo pipefail

cache=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
imgdir="$cache/images"
suite=bookworm
mirror=${KAFKUP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
arch=$(dpkg --print-architecture)
java_home="/usr/lib/jvm/java-17-openjdk-$arch"
label=dev.kafkup.test-image.key

# Package lists (debootstrap --include). They are part of this file, so part of the key.
jre_pkgs="openjdk-17-jre-headless"
# kcat: an independent Kafka client inside the container for interop tests.
# procps/iproute2: ps, pgrep, ss for tests poking at the services inside.
# dbus: systemd-run --wait (and anything else on the system bus) fails with "Failed to
# connect to bus" without it; systemctl alone would manage through systemd's private socket.
# libnss-systemd: DynamicUser= users resolve by name, as on a standard Debian install.
# dpkg, apt, passwd (useradd) and util-linux (runuser) are already in minbase.
systemd_pkgs="systemd systemd-sysv dbus libnss-systemd openjdk-17-jre-headless procps iproute2 kcat"

# Units that have no business in a test container. Masking them does not make the boot
# faster (about 0.7 s to "running" either way, nothing failed either way); it keeps timers
# from firing in the middle of a test (apt-daily would even reach for the network) and
# keeps networkd/resolved/timesyncd from touching the host's network (--network host).
systemd_mask="apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
 fstrim.timer systemd-tmpfiles-clean.timer e2scrub_reap.service getty@tty1.service
 console-getty.service systemd-networkd.service systemd-networkd.socket
 systemd-networkd-wait-online.service systemd-resolved.service systemd-timesyncd.service"

key=$(sha256sum "$0" | cut -c1-12)

die() { echo "test-images: $*" >&2; exit 1; }
say() { echo "test-images: $*"; }

# step LABEL CMD...: run and report how long it took (the timings are part of the output
# because "why is the test run slow" is always the first question).
step() {
  local what=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  say "$(awk -v a="$t0" -v b="$t1" -v w="$what" 'BEGIN{printf "%-38s %6.1f s", w, b-a}')"
}

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap)"
curl -s --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping | grep -qx OK ||
  die "Docker Engine not answering: run ./scripts/docker-engine.sh first"

install_debootstrap() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 ||
    die "apt-get install debootstrap failed"
}
if ! command -v debootstrap >/dev/null 2>&1; then
  step "apt-get install debootstrap" install_debootstrap
fi

mkdir -p "$imgdir"
# Parallel test scripts may all call this; one builds, the others wait and then find it done.
exec 9>"$imgdir/.lock"
flock -w 900 9 || die "another test-images.sh held $imgdir/.lock for 15 minutes"

image_key() { docker image inspect -f "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null || true; }

# Delete what a minimal test image never reads. The package database stays intact (dpkg -L
# still lists the removed files; reinstalling brings them back), so apt and dpkg keep working.
shrink_rootfs() {
  local root=$1
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/debconf/*-old \
    "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian \
    "$root"/usr/share/linda "$root"/var/cache/man
  # Docs: keep the copyright files (licences), drop the rest.
  find "$root"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root"/usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
  # Translations: the tests read English messages anyway.
  find "$root"/usr/share/locale -mindepth 1 -maxdepth 1 -type d -not -name 'en*' \
    -exec rm -rf {} + 2>/dev/null || true
  # Each container must get its own machine id (systemd makes one at boot when it is empty).
  [ -e "$root/etc/machine-id" ] && : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
}

systemd_tweaks() {
  local root=$1 u
  for u in $systemd_mask; do ln -sf /dev/null "$root/etc/systemd/system/$u"; done
  # A login prompt on the container's console would only wait forever for input.
  ln -sf /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"
}

run_debootstrap() {
  debootstrap --variant=minbase --cache-dir="$imgdir/debs" --include="${2// /,}" \
    "$suite" "$1" "$mirror" >"$3" 2>&1
}

# bootstrap NAME PKGS [TWEAK_FN]: debootstrap into a scratch dir and write the tarball.
bootstrap() {
  local name=$1 pkgs=$2 tweak=${3:-} out=$4
  local work="$imgdir/work-$name"
  rm -rf "$work"; mkdir -p "$work" "$imgdir/debs"
  # --cache-dir: the two images share most packages; the second run downloads little.
  step "$name: debootstrap" run_debootstrap "$work/root" "$pkgs" "$imgdir/debootstrap-$name.log" ||
    { tail -n 20 "$imgdir/debootstrap-$name.log" >&2; die "debootstrap of $name failed (log $imgdir/debootstrap-$name.log)"; }
  if [ -n "$tweak" ]; then "$tweak" "$work/root"; fi
  step "$name: shrink" shrink_rootfs "$work/root"
  # --numeric-owner: the rootfs' own /etc/passwd decides names, not the host's.
  step "$name: tar rootfs" tar --numeric-owner --xattrs -C "$work/root" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$work"
  say "$name: rootfs $(du -h "$out" | cut -f1) in $out"
}

# import NAME TARBALL CHANGE...: docker import with the key label; drop the stale image.
# Engine 20.10's import (and commit) accept CMD ENTRYPOINT ENV EXPOSE LABEL ONBUILD USER
# VOLUME WORKDIR but not STOPSIGNAL ("stopsignal is not a valid change command"), so a
# STOPSIGNAL change is applied by a one-line legacy-builder build on top (no network: the
# base is local; BuildKit would try to resolve it on a registry).
import() {
  local ref=$1 tarball=$2; shift 2
  local old new c out
  local changes=(-c "LABEL $label=$key") dockerfile=""
  old=$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)
  for c in "$@"; do
    case $c in
      STOPSIGNAL*) dockerfile+="$c"$'\n' ;;
      *) changes+=(-c "$c") ;;
    esac
  done
  new=$(docker import "${changes[@]}" "$tarball" "$ref")
  if [ -n "$dockerfile" ]; then
    local ctx
    ctx=$(mktemp -d)
    printf 'FROM %s\n%s' "$ref" "$dockerfile" >"$ctx/Dockerfile"
    out=$(DOCKER_BUILDKIT=0 docker build -q -t "$ref" "$ctx" 2>&1) ||
      { rm -rf "$ctx"; die "docker build of $ref failed: $out"; }
    rm -rf "$ctx"
    new=$(docker image inspect -f '{{.Id}}' "$ref")
  fi
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    # Untagged now; remove it unless a container still uses it (then docker refuses: fine).
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
}

# ensure SHORT REF PKGS TWEAK VERIFY_FN CHANGE...
ensure() {
  local short=$1 ref=$2 pkgs=$3 tweak=$4 verify=$5; shift 5
  local tarball="$imgdir/$short-$key.tar"
  local t0=$SECONDS
  if [ "$(image_key "$ref")" = "$key" ] && [ "${KAFKUP_IMAGES_REBUILD:-0}" != 1 ]; then
    say "$ref is current (key $key), nothing to do"
    return
  fi
  if [ ! -s "$tarball" ] || [ "${KAFKUP_IMAGES_REBUILD:-0}" = 1 ]; then
    rm -f "$imgdir/$short"-*.tar "$imgdir/$short"-*.tar.tmp   # older keys
    bootstrap "$short" "$pkgs" "$tweak" "$tarball"
  else
    say "$short: cached rootfs $tarball"
  fi
  step "$short: docker import" import "$ref" "$tarball" "$@"
  step "$short: verify" "$verify" "$ref"
  say "$ref ready (key $key) after $((SECONDS - t0)) s"
}

verify_jre() {
  local out
  out=$(docker run --rm --network none "$1" java -version 2>&1) || die "java -version failed in $1: $out"
  case $out in *'openjdk version "17'*) ;; *) die "java -version did not report 17 in $1: $out" ;; esac
}

verify_systemd() {
  # Not booted here (that needs the systemd-container.sh flags): just check the pieces exist.
  local out
  out=$(docker run --rm --network none "$1" sh -c '
    set -e
    java -version 2>&1 | head -n1
    for c in /sbin/init systemctl journalctl systemd-run useradd runuser apt dpkg ps ip kcat; do
      command -v "$c" >/dev/null || { echo "missing $c"; exit 1; }
    done
    echo pieces-ok') || die "verify of $1 failed: $out"
  case $out in *'openjdk version "17'*pieces-ok*) ;; *) die "verify of $1: $out" ;; esac
}

what=${1:-all}
case $what in all | jre | systemd) ;; *) die "usage: $0 [all|jre|systemd]" ;; esac

if [ "$what" != systemd ]; then
  ensure jre kafkup-test/jre:17 "$jre_pkgs" "" verify_jre \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV JAVA_HOME=$java_home" \
    'CMD ["java", "-version"]'
fi
if [ "$what" != jre ]; then
  ensure systemd kafkup-test/systemd:17 "$systemd_pkgs" systemd_tweaks verify_systemd \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV JAVA_HOME=$java_home" \
    "ENV container=docker" \
    "STOPSIGNAL SIGRTMIN+3" \
    'CMD ["/sbin/init"]'
fi
rm -rf "$imgdir/debs"/partial 2>/dev/null || true
