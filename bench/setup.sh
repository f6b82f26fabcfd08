#!/usr/bin/env bash
# Benchmark: time to ready with a warm cache, ZooKeeper mode (the default).
#   kafkup: `kafkup setup` until its self-test passed;
#   floor:  the same two JVMs (same tarballs, same rendered configs) started by hand at once and
#           polled every 50 ms until ZooKeeper answers `imok` and the broker is in metadata (kcat -L).
# Then kafkup's idempotent re-run. Runs each side ROUNDS times, alternating; prints medians and ratios.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
kafkup=${KAFKUP_BIN:-$repo/target/release/kafkup}
fixtures=${KAFKUP_FIXTURES:-$repo/fixtures/out}
rounds=${ROUNDS:-3}
mirror="file://$fixtures/mirror"
. "$repo/fixtures/versions.sh"
kv=$FIXTURE_KAFKA_ZOOKEEPER_MODE
# Not under /tmp or /var/tmp: kafkup refuses to keep data where the system empties it.
bench_parent=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
mkdir -p "$bench_parent"
work=$(mktemp -d "$bench_parent/bench-setup.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  "$kafkup" --root "$work/kafkup" teardown --purge -q >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

. "$repo/bench/lib/common.sh"

zk_port=$(free_port); kafka_port=$(free_port)
common=(--mirror "$mirror" --dist "$mirror" --kafka-port "$kafka_port" --zookeeper-port "$zk_port" --mode zookeeper)

# Warm the cache (and the page cache) once, untimed.
"$kafkup" --root "$work/kafkup" setup "${common[@]}" --backend process -q >/dev/null
"$kafkup" --root "$work/kafkup" teardown --purge -q >/dev/null

# The floor's tree: same distributions, configs rendered for its own root.
floor="$work/floor"
mkdir -p "$floor/install"
for t in "$fixtures"/mirror/zookeeper/*/apache-zookeeper-*-bin.tar.gz "$fixtures/mirror/kafka/$kv/kafka_$FIXTURE_SCALA-$kv.tgz"; do
  tar -xzf "$t" -C "$floor/install"
done
"$kafkup" --root "$floor" render "${common[@]}" --out "$floor/config" -q >/dev/null
zk_dist=$(echo "$floor"/install/apache-zookeeper-*-bin)
kafka_dist="$floor/install/kafka_$FIXTURE_SCALA-$kv"

floor_once() {
  rm -rf "$floor/data"; mkdir -p "$floor/data/zookeeper" "$floor/data/kafka"
  local t0; t0=$(now)
  java -Xms512m -Xmx512m -cp "$floor/config/zookeeper:$zk_dist/lib/*" \
    -Dlogback.configurationFile="$floor/config/zookeeper/logback.xml" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$floor/config/zookeeper/zoo.cfg" >"$work/floor-zk.log" 2>&1 &
  pids=("$!")
  java -Xms1g -Xmx1g -Dlog4j.configuration="file:$floor/config/kafka/log4j.properties" \
    -cp "$kafka_dist/libs/*" kafka.Kafka "$floor/config/kafka/server.properties" >"$work/floor-kafka.log" 2>&1 &
  pids+=("$!")
  wait_floor "$zk_port" "$kafka_port" || { tail "$work"/floor-*.log >&2; exit 1; }
  local t1; t1=$(now)
  kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true; pids=()
  echo "$t1 - $t0" | bc
}

kafkup_once() {
  local t0 t1 t2
  t0=$(now)
  "$kafkup" --root "$work/kafkup" setup "${common[@]}" --backend process -q >/dev/null
  t1=$(now)
  "$kafkup" --root "$work/kafkup" setup "${common[@]}" --backend process -q >/dev/null
  t2=$(now)
  "$kafkup" --root "$work/kafkup" teardown --purge -q >/dev/null
  echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)"
}

: >"$work/floor.txt"; : >"$work/kafkup.txt"; : >"$work/rerun.txt"
for i in $(seq 1 "$rounds"); do
  floor_once >>"$work/floor.txt"
  read -r first rerun < <(kafkup_once)
  echo "$first" >>"$work/kafkup.txt"; echo "$rerun" >>"$work/rerun.txt"
  echo "round $i: floor $(tail -1 "$work/floor.txt") s, kafkup setup $first s, re-run $rerun s"
done
f=$(median <"$work/floor.txt"); k=$(median <"$work/kafkup.txt"); r=$(median <"$work/rerun.txt")
printf 'setup to ready (zookeeper mode, warm cache), median of %d:\n' "$rounds"
printf '  floor (2 JVMs by hand, imok + broker in metadata): %6.2f s\n' "$f"
ratio=$(printf '%.2f' "$(echo "$k / $f" | bc -l)")
printf '  kafkup setup (incl. self-test):                   %6.2f s   ratio %sx (goal <= 1.25x)\n' "$k" "$ratio"
printf '  kafkup setup re-run (idempotent):                 %6.2f s   (goal < 1 s)\n' "$r"
goal "setup ratio kafkup/floor" "$ratio" "<=" 1.25 x
goal "idempotent re-run" "$r" "<" 1 " s"
