#!/usr/bin/env bash
# Writes the Maven locks kafkup ships (catalog/maven/*.lock, embedded in the binary): for one
# Kafka or ZooKeeper release, every jar of the runtime closure that kafkup assembles the
# distribution from, with its SHA-256, size and (for Apache Kafka and ZooKeeper jars) the key
# that signed its .asc. The closure rules are fixtures/build.sh's own (scripts/lib/maven-closure.sh).
#
# Usage: scripts/lock-maven.sh [kafka VERSION | zookeeper VERSION]...
#   no arguments     every lock kafkup ships: kafka 3.9.1 3.9.2 4.3.2 4.4.0, zookeeper 3.9.4 3.9.5
#   --out DIR        where the locks go (default: catalog/maven beside this script)
#   --repo URL       Maven repository to resolve from (default https://repo.maven.apache.org/maven2)
# Environment: LOCK_SCALA_VERSION (2.13), LOCK_SLF4J_RELOAD4J_VERSION (1.7.36), LOCK_LOG4J2_VERSION
# (2.24.3) — the same defaults as fixtures/build.sh.
#
# Maven resolves into a fresh local repository with strict checksums, so every jar pinned here
# came from the repository during this run; each jar must also match the .sha256 (or .sha1)
# published beside it, and the .asc of each Apache jar is fetched to record its signer (or
# "unsigned" when the repository has none: Maven Central had no .asc for Kafka 4.4.0 in Dec 2026).
# Needs mvn, curl, gpg, python3. This is the one script that talks to Maven Central.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/.." && pwd)
OUT="$REPO_ROOT/catalog/maven"
MAVEN_REPO=https://repo.maven.apache.org/maven2
SCALA=${LOCK_SCALA_VERSION:-2.13}
RELOAD4J_BINDING=${LOCK_SLF4J_RELOAD4J_VERSION:-1.7.36}
LOG4J2=${LOCK_LOG4J2_VERSION:-2.24.3}
SHIPPED=(kafka 3.9.1 kafka 3.9.2 kafka 4.3.2 kafka 4.4.0 zookeeper 3.9.4 zookeeper 3.9.5)

log() { printf '[lock-maven] %s\n' "$*" >&2; }
die() { printf '[lock-maven] error: %s\n' "$*" >&2; exit 1; }

wanted=()
while [ $# -gt 0 ]; do
  case "$1" in
    kafka|zookeeper) [ $# -ge 2 ] || die "$1 needs a version"; wanted+=("$1" "$2"); shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift 2 ;;
    --repo) [ $# -ge 2 ] || die "--repo needs a URL"; MAVEN_REPO=${2%/}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=("${SHIPPED[@]}")
for ((i = 1; i < ${#wanted[@]}; i += 2)); do
  [[ ${wanted[i]} =~ ^[0-9]+(\.[0-9]+)+([.-][A-Za-z0-9]+)*$ ]] || die "not a version: '${wanted[i]}'"
done
for t in mvn curl gpg python3 java; do command -v "$t" >/dev/null || die "$t is required"; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kafkup-lock-maven.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
M2_REPO="$WORK/m2"
CLOSURE_STAMP="lock-maven"
MVN_EXTRA_ARGS=(--strict-checksums -s "$WORK/settings.xml")
# Every request of Maven goes to the one repository named here.
cat >"$WORK/settings.xml" <<EOF
<settings><mirrors><mirror><id>kafkup-lock</id><mirrorOf>*</mirrorOf><url>$MAVEN_REPO</url></mirror></mirrors></settings>
EOF
# shellcheck source=lib/maven-closure.sh
. "$HERE/lib/maven-closure.sh"

# fetch_published REPO_DIR PUBLISHED_DIR: the checksums (and Apache jars' signatures) the
# repository publishes beside each jar, into the same layout under PUBLISHED_DIR.
fetch_published() {
  local repo=$1 published=$2 rel
  mkdir -p "$published"
  : >"$WORK/curl-sha256"; : >"$WORK/curl-sha1"; : >"$WORK/curl-asc"
  while IFS= read -r rel; do
    mkdir -p "$published/$(dirname "$rel")"
    printf 'url = "%s/%s.sha256"\noutput = "%s/%s.sha256"\n' "$MAVEN_REPO" "$rel" "$published" "$rel" >>"$WORK/curl-sha256"
    printf 'url = "%s/%s.sha1"\noutput = "%s/%s.sha1"\n' "$MAVEN_REPO" "$rel" "$published" "$rel" >>"$WORK/curl-sha1"
    case "$rel" in
      org/apache/kafka/*|org/apache/zookeeper/*)
        printf 'url = "%s/%s.asc"\noutput = "%s/%s.asc"\n' "$MAVEN_REPO" "$rel" "$published" "$rel" >>"$WORK/curl-asc" ;;
    esac
  done < <(cd "$repo" && find . -name '*.jar' | sed 's|^\./||' | sort)
  # Not every jar has a .sha256 (older uploads only have .sha1), nor every Apache jar an .asc
  # (the lock then says "unsigned", and kafkup warns): a 404 there is expected.
  curl -s --no-progress-meter --fail --parallel --parallel-max 8 -K "$WORK/curl-sha256" || true
  curl -s --no-progress-meter --fail --parallel --parallel-max 8 -K "$WORK/curl-asc" || true
  curl -sS --no-progress-meter --fail --parallel --parallel-max 8 -K "$WORK/curl-sha1" \
    || die "could not fetch every .sha1 from $MAVEN_REPO"
}

# lock_one PROJECT VERSION
lock_one() {
  local project=$1 v=$2 dir roots
  resolve_closure "$project" "$v"
  dir=$(closure_dir "$project" "$v")
  [ ! -f "$dir/standin.txt" ] || log "$project $v: resolved with a stand-in parent POM ($(cat "$dir/standin.txt"))"
  fetch_published "$dir/repo" "$dir/published"
  roots=$(paste -sd' ' "$dir/coordinates.txt")
  mkdir -p "$OUT"
  python3 "$HERE/lib/maven_lock.py" --dist "$(dist_name "$project" "$v")" --repo "$dir/repo" \
    --published "$dir/published" --out "$OUT/$(lock_name "$project" "$v")" --roots "$roots" \
    --source "$MAVEN_REPO"
}

for ((i = 0; i < ${#wanted[@]}; i += 2)); do
  lock_one "${wanted[i]}" "${wanted[i + 1]}"
done
log "locks in $OUT"
