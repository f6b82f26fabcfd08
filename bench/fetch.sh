#!/usr/bin/env bash
# Fetch benchmark: the guide's shell steps against `kafkup fetch`, side by side, on the ~120 MB
# benchmark tarball served from 127.0.0.1 by python3 -m http.server.
#
#   (a) shell:  curl -sS -o FILE URL; sha512sum -c; tar -xzf FILE into a fresh dir
#   (b) kafkup: kafkup fetch --root <fresh root> --mode kraft --kafka-version V
#                 --mirror http://127.0.0.1:PORT --dist http://127.0.0.1:PORT -q
#       (which also fetches .sha512, .asc and KEYS and checks the OpenPGP signature)
# What the shell steps do not do that kafkup does: fetch the checksum (it is at hand, converted
# once, untimed), check the OpenPGP signature, check every tar entry (no `..`, absolute paths,
# links out or devices), unpack into a staging dir and rename, keep a verified cache.
# A round that fails (any step exits non-zero or leaves no libs/) fails the benchmark;
# MISSED lines are informational.
#
# Runs each BENCH_RUNS times (default 3; 5 with KAFKUP_BENCH_FULL=1), alternating (odd rounds shell first, even rounds kafkup
# first), after BENCH_WARMUP untimed rounds of each (default 1), and prints the median wall time of
# each, the ratio kafkup/shell and kafkup's peak RSS (/usr/bin/time -f %M).
#
# Environment: KAFKUP_BIN (default target/release/kafkup), KAFKUP_FIXTURES_OUT (default
# fixtures/out), FIXTURE_BENCH_KAFKA_VERSION and FIXTURE_SCALA_VERSION (fixtures/versions.sh),
# BENCH_RUNS, BENCH_WARMUP, BENCH_STEP_TIMEOUT (seconds per command, default 300).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${KAFKUP_FIXTURES_OUT:-$REPO/fixtures/out}
KAFKUP_BIN=${KAFKUP_BIN:-$REPO/target/release/kafkup}
. "$REPO/fixtures/versions.sh"
. "$REPO/bench/lib/common.sh"
V=${FIXTURE_BENCH_KAFKA_VERSION:-$FIXTURE_KAFKA_ZOOKEEPER_MODE}
SCALA=${FIXTURE_SCALA_VERSION:-$FIXTURE_SCALA}
RUNS=${BENCH_RUNS:-$([ "${KAFKUP_BENCH_FULL:-0}" = 1 ] && echo 5 || echo 3)}
WARMUP=${BENCH_WARMUP:-1}
STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-300}
TARBALL="kafka_$SCALA-$V.tgz"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

[[ $RUNS =~ ^[1-9][0-9]?$ && $WARMUP =~ ^[0-9]$ ]] || die "BENCH_RUNS must be 1-99 and BENCH_WARMUP 0-9"
[[ $STEP_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_STEP_TIMEOUT must be a positive integer"
[ -x "$KAFKUP_BIN" ] || die "no kafkup binary at $KAFKUP_BIN (cargo build --release, or set KAFKUP_BIN)"
KAFKUP_BIN=$(cd "$(dirname "$KAFKUP_BIN")" && pwd)/$(basename "$KAFKUP_BIN")
if [ ! -x /usr/bin/time ]; then
  [ "$(id -u)" = 0 ] || die "/usr/bin/time is missing (apt-get install time)"
  log "installing GNU time"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
for t in curl sha512sum tar python3 timeout; do command -v "$t" >/dev/null || die "$t is required"; done

# Everything goes to 127.0.0.1: keep any configured proxy out of both contestants' way.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

KAFKUP_FIXTURES_OUT=$OUT FIXTURE_BENCH_KAFKA_VERSION=$V FIXTURE_SCALA_VERSION=$SCALA \
  "$REPO/bench/make-bench-fixture.sh" >/dev/null
MIRROR="$OUT/bench-mirror"
[ -s "$MIRROR/kafka/$V/$TARBALL" ] || die "bench fixture missing: $MIRROR/kafka/$V/$TARBALL"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kafkup-bench.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start the mirror; a port taken between free_port and bind costs one more (bounded) try.
for _attempt in 1 2 3; do
  PORT=$(free_port)
  python3 -m http.server --bind 127.0.0.1 --directory "$MIRROR" "$PORT" >"$WORK/http.log" 2>&1 &
  SERVER_PID=$!
  up=0
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/kafka/KEYS" 2>/dev/null; then up=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ "$up" = 1 ] && break
  kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
done
[ -n "$SERVER_PID" ] || die "could not start the mirror server (see attempts above)"
BASE="http://127.0.0.1:$PORT"
URL="$BASE/kafka/$V/$TARBALL"
log "mirror $MIRROR on $BASE; $TARBALL is $(($(stat -c %s "$MIRROR/kafka/$V/$TARBALL") / 1000000)) MB"

# The published .sha512 is in Kafka's `gpg --print-md` format, which `sha512sum -c` cannot read.
# It is converted to sha512sum's format once, here, outside the timed region; the timed shell
# steps then run `sha512sum -c` on the converted file (like following the guide with the
# checksum already in hand). Conversion: drop "<name>:" when a colon comes before any
# whitespace, keep hex digits, lowercase, require 128 of them.
published=$(curl -fsS "$URL.sha512")
first_word=${published%%[[:space:]]*}
[[ $first_word == *:* ]] && published=${published#*:}
hex=$(printf '%s' "$published" | tr -cd '0-9A-Fa-f' | tr 'A-F' 'a-f')
[ ${#hex} = 128 ] || die "could not read a SHA-512 from $URL.sha512"
printf '%s  %s\n' "$hex" "$TARBALL" >"$WORK/$TARBALL.sha512sum"

now_ns() { date +%s%N; }

# shell_once TAG: prints milliseconds
shell_once() {
  local d="$WORK/shell-$1"
  rm -rf "$d"; mkdir -p "$d/unpacked"
  cp "$WORK/$TARBALL.sha512sum" "$d/"
  local t0 t1
  t0=$(now_ns)
  # (&&: errexit does not apply inside a subshell that `||` follows)
  (
    cd "$d" &&
      timeout "$STEP_TIMEOUT" curl -fsS -o "$TARBALL" "$URL" &&
      timeout "$STEP_TIMEOUT" sha512sum -c --quiet "$TARBALL.sha512sum" &&
      timeout "$STEP_TIMEOUT" tar -xzf "$TARBALL" -C unpacked
  ) || die "shell steps failed (round $1)"
  t1=$(now_ns)
  [ -d "$d/unpacked/kafka_$SCALA-$V/libs" ] || die "shell steps left no kafka_$SCALA-$V/libs (round $1)"
  rm -rf "$d"
  echo $(((t1 - t0) / 1000000))
}

# kafkup_once TAG: prints "milliseconds peak-RSS-KiB"
kafkup_once() {
  local root="$WORK/kafkup-root-$1" rc=0
  rm -rf "$root"; mkdir -p "$root"
  local t0 t1
  t0=$(now_ns)
  /usr/bin/time -f '%M' -o "$WORK/rss-$1" \
    timeout "$STEP_TIMEOUT" "$KAFKUP_BIN" fetch --root "$root" --mode kraft --kafka-version "$V" \
      --mirror "$BASE" --dist "$BASE" -q >"$WORK/kafkup-$1.log" 2>&1 || rc=$?
  t1=$(now_ns)
  if [ "$rc" != 0 ]; then
    log "kafkup fetch exited with $rc (round $1); its output:"
    tail -n 20 "$WORK/kafkup-$1.log" >&2
    exit 1
  fi
  [ -n "$(find "$root" -type d -path "*/kafka_$SCALA-$V/libs" -print -quit)" ] \
    || die "kafkup fetch left no kafka_$SCALA-$V/libs under $root (round $1)"
  rm -rf "$root"
  echo "$(((t1 - t0) / 1000000)) $(tail -n 1 "$WORK/rss-$1")"
}

secs() { awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }'; }

for ((w = 1; w <= WARMUP; w++)); do
  log "warm-up $w (untimed)"
  s=$(shell_once "warmup-$w"); kr=$(kafkup_once "warmup-$w")
done

shell_ms=() kafkup_ms=() kafkup_rss=()
for ((i = 1; i <= RUNS; i++)); do
  # (assignments, so that a failing round stops the script under set -e)
  if ((i % 2)); then
    s=$(shell_once "$i"); kr=$(kafkup_once "$i")
  else
    kr=$(kafkup_once "$i"); s=$(shell_once "$i")
  fi
  read -r k r <<<"$kr"
  shell_ms+=("$s"); kafkup_ms+=("$k"); kafkup_rss+=("$r")
  log "round $i/$RUNS: shell $(secs "$s") s, kafkup $(secs "$k") s ($r KiB peak RSS)"
done

shell_median=$(printf '%s\n' "${shell_ms[@]}" | median)
kafkup_median=$(printf '%s\n' "${kafkup_ms[@]}" | median)
rss_max=$(printf '%s\n' "${kafkup_rss[@]}" | sort -n | tail -n 1)
rss_median=$(printf '%s\n' "${kafkup_rss[@]}" | median)

echo "fetch benchmark: $TARBALL ($(($(stat -c %s "$MIRROR/kafka/$V/$TARBALL") / 1000000)) MB) from $BASE, $RUNS runs each"
printf '  shell  (curl + sha512sum -c + tar -xzf): median %s s   runs: %s\n' \
  "$(secs "$shell_median")" "$(for m in "${shell_ms[@]}"; do printf '%s ' "$(secs "$m")"; done)"
printf '  kafkup fetch (+ signature check):        median %s s   runs: %s\n' \
  "$(secs "$kafkup_median")" "$(for m in "${kafkup_ms[@]}"; do printf '%s ' "$(secs "$m")"; done)"
ratio=$(awk -v k="$kafkup_median" -v s="$shell_median" 'BEGIN { printf "%.2f", (s > 0 ? k / s : 0) }')
printf '  ratio kafkup/shell: %s (goal <= 0.6)\n' "$ratio"
printf '  kafkup peak RSS: %s KiB max, %s KiB median (goal <= 65536 KiB)\n' "$rss_max" "$rss_median"
goal "fetch ratio kafkup/shell" "$ratio" "<=" 0.6
goal "fetch peak RSS" "$rss_max" "<=" 65536 " KiB"
