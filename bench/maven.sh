#!/usr/bin/env bash
# Maven-source benchmark: a cold `kafkup setup --source maven` (every jar of the closures from a
# Maven-layout repository, in parallel) against a cold `kafkup setup` from the release tarballs,
# both served from 127.0.0.1 by bench/serve.py (keep-alive), ZooKeeper mode (the default). Cold:
# a fresh --root each time, so nothing is cached. Also times `kafkup fetch` alone (download,
# verify, assemble or unpack), where the two differ most.
#
# The baseline is kafkup's own tarball path: one download, SHA-512 and one signature per
# distribution; the Maven path fetches ~100 jars, checks each SHA-256 against the lock and the
# Apache jars' signatures, and assembles the tree. Rounds alternate which source goes first.
# Goal (issue 12): the Maven path takes at most 1.5x the tarball path's setup time. A miss
# prints a `MISSED` line; it never fails the run. A failed round (any kafkup command exits
# non-zero) fails the benchmark with that command's output.
#
#   bench/maven.sh                   short: 1 setup round and 3 fetch rounds each
#   KAFKUP_BENCH_FULL=1 bench/maven.sh   full: 3 setup rounds each in both modes, 5 fetch rounds
#
# Environment: KAFKUP_BIN (default target/release/kafkup), KAFKUP_FIXTURES_OUT (fixtures/out),
# BENCH_STEP_TIMEOUT (seconds per command, default 300).
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${KAFKUP_FIXTURES_OUT:-$REPO/fixtures/out}
KAFKUP_BIN=${KAFKUP_BIN:-$REPO/target/release/kafkup}
STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-300}
GOAL=1.5
if [ "${KAFKUP_BENCH_FULL:-0}" = 1 ]; then
  SETUP_ROUNDS=3 FETCH_ROUNDS=5 MODES="zookeeper kraft"
else
  SETUP_ROUNDS=1 FETCH_ROUNDS=3 MODES="zookeeper"
fi

log() { printf '[bench-maven] %s\n' "$*" >&2; }
die() { printf '[bench-maven] error: %s\n' "$*" >&2; exit 1; }

[[ $STEP_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_STEP_TIMEOUT must be a positive integer"
[ -x "$KAFKUP_BIN" ] || die "no kafkup binary at $KAFKUP_BIN (cargo build --release, or set KAFKUP_BIN)"
for t in python3 curl timeout awk; do command -v "$t" >/dev/null || die "$t is required"; done
[ -d "$OUT/maven-repo" ] && [ -d "$OUT/maven-locks" ] && [ -d "$OUT/mirror" ] \
  || die "fixtures missing in $OUT: run fixtures/build.sh"

# Everything goes to 127.0.0.1: keep any configured proxy out of the way.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# Not under /tmp: kafkup refuses to keep data where the system empties it.
parent=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
mkdir -p "$parent"
WORK=$(mktemp -d "$parent/bench-maven.XXXXXX")
SERVER_PID=""
CURRENT_ROOT=""
cleanup() {
  if [ -n "$CURRENT_ROOT" ]; then
    "$KAFKUP_BIN" --root "$CURRENT_ROOT" teardown --purge -q >/dev/null 2>&1 || true
  fi
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One server for both sources, answering requests in threads.
for _attempt in 1 2 3; do
  PORT=$(free_port)
  python3 "$REPO/bench/serve.py" "$OUT" "$PORT" >"$WORK/http.log" 2>&1 &
  SERVER_PID=$!
  up=0
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/mirror/kafka/KEYS" 2>/dev/null; then up=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ "$up" = 1 ] && break
  kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
done
[ -n "$SERVER_PID" ] || die "could not start the HTTP server"
BASE="http://127.0.0.1:$PORT"
TARBALL_ARGS=(--source apache --mirror "$BASE/mirror" --dist "$BASE/mirror")
MAVEN_ARGS=(--source maven --maven-repo "$BASE/maven-repo" --maven-lock-dir "$OUT/maven-locks" --dist "$BASE/mirror")
ZK_PORT=$(free_port); KAFKA_PORT=$(free_port); CONTROLLER_PORT=$(free_port)
PORT_ARGS=(--kafka-port "$KAFKA_PORT" --zookeeper-port "$ZK_PORT" --controller-port "$CONTROLLER_PORT")

now_ns() { date +%s%N; }

# cold_run SOURCE COMMAND MODE TAG: a cold run in a fresh root; prints milliseconds
cold_run() {
  local source=$1 command=$2 mode=$3 tag=$4 root="$WORK/root-$4" rc=0
  local args=("${TARBALL_ARGS[@]}")
  [ "$source" = maven ] && args=("${MAVEN_ARGS[@]}")
  [ "$command" = setup ] && args+=(--backend process "${PORT_ARGS[@]}")
  rm -rf "$root"; mkdir -p "$root"
  CURRENT_ROOT=$root
  local t0 t1
  t0=$(now_ns)
  timeout "$STEP_TIMEOUT" "$KAFKUP_BIN" --root "$root" "$command" --mode "$mode" "${args[@]}" -q \
    >"$WORK/$tag.log" 2>&1 || rc=$?
  t1=$(now_ns)
  if [ "$command" = setup ]; then
    "$KAFKUP_BIN" --root "$root" teardown --purge -q >/dev/null 2>&1 || true
  fi
  CURRENT_ROOT=""
  if [ "$rc" != 0 ]; then
    log "kafkup $command ($source, $mode) exited with $rc; its output:"
    tail -n 20 "$WORK/$tag.log" >&2
    exit 1
  fi
  rm -rf "$root"
  echo $(((t1 - t0) / 1000000))
}

secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
ratio() { awk -v m="$1" -v t="$2" 'BEGIN { printf "%.2f", (t > 0 ? m / t : 0) }'; }

# compare COMMAND MODE ROUNDS: alternating rounds (odd: tarball first); prints "tarball maven" medians
compare() {
  local command=$1 mode=$2 rounds=$3 i t m
  local tarball=() maven=()
  for ((i = 1; i <= rounds; i++)); do
    if ((i % 2)); then
      t=$(cold_run apache "$command" "$mode" "t-$command-$mode-$i"); m=$(cold_run maven "$command" "$mode" "m-$command-$mode-$i")
    else
      m=$(cold_run maven "$command" "$mode" "m-$command-$mode-$i"); t=$(cold_run apache "$command" "$mode" "t-$command-$mode-$i")
    fi
    tarball+=("$t"); maven+=("$m")
    log "$command $mode round $i/$rounds: tarball $(secs "$t") s, maven $(secs "$m") s"
  done
  echo "$(printf '%s\n' "${tarball[@]}" | median) $(printf '%s\n' "${maven[@]}" | median)"
}

log "warm-up: one untimed fetch of each (page cache, not kafkup's cache)"
warm=$(cold_run apache fetch zookeeper warmup-t); warm=$(cold_run maven fetch zookeeper warmup-m)

missed=()
echo "Maven-source benchmark, cold (fresh root, nothing cached), both sources on $BASE"
for mode in $MODES; do
  # (assignments, not `< <(...)`: a failed round must stop the script under set -e)
  fetched=$(compare fetch "$mode" "$FETCH_ROUNDS"); read -r ft fm <<<"$fetched"
  set_up=$(compare setup "$mode" "$SETUP_ROUNDS"); read -r st sm <<<"$set_up"
  r_setup=$(ratio "$sm" "$st"); r_fetch=$(ratio "$fm" "$ft")
  printf '  %-9s setup (incl. self-test), median of %d:  tarball %6s s   maven %6s s   ratio %s (goal <= %s)\n' \
    "$mode" "$SETUP_ROUNDS" "$(secs "$st")" "$(secs "$sm")" "$r_setup" "$GOAL"
  printf '  %-9s fetch only, median of %d:              tarball %6s s   maven %6s s   ratio %s\n' \
    "$mode" "$FETCH_ROUNDS" "$(secs "$ft")" "$(secs "$fm")" "$r_fetch"
  if awk -v r="$r_setup" -v g="$GOAL" 'BEGIN { exit !(r > g) }'; then
    missed+=("$mode setup ratio $r_setup > $GOAL")
  fi
done
for m in "${missed[@]}"; do echo "MISSED: $m"; done
