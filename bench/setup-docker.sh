#!/usr/bin/env bash
# Benchmark: time to ready under the docker runner, warm cache, image present, ZooKeeper mode,
# side by side:
#   kafkup: `kafkup setup --backend docker` until its self-test passed;
#   floor:  the same image and java command lines started by hand with `docker run` (same
#           distributions, configs rendered for containers by `kafkup render --backend docker`,
#           a network, ports on 127.0.0.1) and polled every 50 ms like bench/setup.sh's floor.
# ROUNDS (default 3, 5 with KAFKUP_BENCH_FULL=1) alternating rounds; medians and the ratio.
# Needs a running Engine and the JRE image (scripts/test.sh provides both; KAFKUP_TEST_IMAGE).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib/common.sh"
. "$repo/fixtures/versions.sh"
kafkup=${KAFKUP_BIN:-$repo/target/release/kafkup}
fixtures=${KAFKUP_FIXTURES:-$repo/fixtures/out}
image=${KAFKUP_TEST_IMAGE:-kafkup-test/jre:17}
rounds=${ROUNDS:-$([ "${KAFKUP_BENCH_FULL:-0}" = 1 ] && echo 5 || echo 3)}
kv=$FIXTURE_KAFKA_ZOOKEEPER_MODE
bench_parent=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
mkdir -p "$bench_parent"
work=$(mktemp -d "$bench_parent/bench-setup-docker.XXXXXX")
floor="$work/floor"
net="kafkup-bench-floor-$$"
cleanup() {
  floor_down
  docker network rm "$net" >/dev/null 2>&1 || true
  "$kafkup" --root "$work/kafkup" teardown --purge -q >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

zk_port=$(free_port); kafka_port=$(free_port)
mirror="file://$fixtures/mirror"
common=(--mirror "$mirror" --dist "$mirror" --kafka-port "$kafka_port" --zookeeper-port "$zk_port" --mode zookeeper)
k() { "$kafkup" --root "$work/kafkup" "$@"; }

# Warm kafkup's cache once, untimed; the floor gets the same distributions and configs.
k setup "${common[@]}" --backend docker --image "$image" -q >/dev/null
k teardown --purge -q >/dev/null
"$kafkup" --root "$floor" fetch "${common[@]}" -q >/dev/null
"$kafkup" --root "$floor" render "${common[@]}" --backend docker --out "$floor/config" >/dev/null
zk_name=$(sed -n 's/^zookeeper.connect=\(.*\):.*/\1/p' "$floor/config/kafka/server.properties")
kafka_name="$zk_name-floor-kafka"
zk_top=$(basename "$floor"/install/apache-zookeeper-*-bin)
kafka_top="kafka_$FIXTURE_SCALA-$kv"
docker network create "$net" >/dev/null

floor_down() { docker rm -f "$zk_name" "$kafka_name" >/dev/null 2>&1 || true; }

floor_once() {
  floor_down
  local t0 t1; t0=$(now)
  docker run -d --name "$zk_name" --network "$net" -p "127.0.0.1:$zk_port:$zk_port" \
    -v "$floor/install/$zk_top:/opt/kafkup/$zk_top:ro" -v "$floor/config/zookeeper:/etc/kafkup/zookeeper:ro" \
    --tmpfs /var/lib/kafkup/data/zookeeper --entrypoint java "$image" -Xms512m -Xmx512m \
    -cp "/etc/kafkup/zookeeper:/opt/kafkup/$zk_top/lib/*" -Dlogback.configurationFile=/etc/kafkup/zookeeper/logback.xml \
    org.apache.zookeeper.server.quorum.QuorumPeerMain /etc/kafkup/zookeeper/zoo.cfg >/dev/null
  docker run -d --name "$kafka_name" --network "$net" -p "127.0.0.1:$kafka_port:$kafka_port" \
    -v "$floor/install/$kafka_top:/opt/kafkup/$kafka_top:ro" -v "$floor/config/kafka:/etc/kafkup/kafka:ro" \
    --tmpfs /var/lib/kafkup/data/kafka --entrypoint java "$image" -Xms1g -Xmx1g \
    -Dlog4j.configuration=file:/etc/kafkup/kafka/log4j.properties -cp "/opt/kafkup/$kafka_top/libs/*" \
    kafka.Kafka /etc/kafkup/kafka/server.properties >/dev/null
  wait_floor "$zk_port" "$kafka_port" || { docker logs --tail 20 "$kafka_name" >&2; exit 1; }
  t1=$(now)
  floor_down
  echo "$t1 - $t0" | bc
}

kafkup_once() {
  local t0 t1 t2
  t0=$(now)
  k setup "${common[@]}" --backend docker --image "$image" -q >/dev/null
  t1=$(now)
  k setup "${common[@]}" --backend docker --image "$image" -q >/dev/null
  t2=$(now)
  k teardown --purge -q >/dev/null
  echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)"
}

floor_t=() kafkup_t=() rerun_t=()
for i in $(seq 1 "$rounds"); do
  if ((i % 2)); then f=$(floor_once); kr=$(kafkup_once); else kr=$(kafkup_once); f=$(floor_once); fi
  read -r kt r <<<"$kr"
  floor_t+=("$f"); kafkup_t+=("$kt"); rerun_t+=("$r")
  echo "round $i: floor (docker run) $f s, kafkup setup (docker) $kt s, re-run $r s"
done
f=$(printf '%s\n' "${floor_t[@]}" | median); kt=$(printf '%s\n' "${kafkup_t[@]}" | median)
r=$(printf '%s\n' "${rerun_t[@]}" | median)
ratio=$(printf '%.2f' "$(echo "$kt / $f" | bc -l)")
printf 'setup to ready under docker (zookeeper mode, warm cache, image present), median of %d:\n' "$rounds"
printf '  floor (2 containers by docker run, imok + broker in metadata): %6.2f s\n' "$f"
printf '  kafkup setup (docker runner, incl. self-test):                %6.2f s   ratio %sx (goal <= 1.25x)\n' "$kt" "$ratio"
printf '  kafkup setup re-run (idempotent):                             %6.2f s   (goal < 1 s)\n' "$r"
goal "docker setup ratio kafkup/floor" "$ratio" "<=" 1.25 x
goal "docker idempotent re-run" "$r" "<" 1 " s"
