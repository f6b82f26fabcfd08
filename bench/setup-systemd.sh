#!/usr/bin/env bash
# Benchmark: time to ready under a real systemd, warm cache, ZooKeeper mode, side by side:
#   kafkup: `kafkup setup` (systemd runner, installed from the .deb) until its self-test passed;
#   floor:  the same two JVMs (same distributions, same rendered configs) started at once by
#           `systemd-run` by hand and polled every 50 ms like bench/setup.sh's floor.
# Both run in one systemd container (scripts/systemd-container.sh) and are driven through
# `docker exec`; the polling runs on the host (the container shares its network).
# ROUNDS (default 3, 5 with KAFKUP_BENCH_FULL=1) alternating rounds; medians and the ratio.
# Needs KAFKUP_DEB and the systemd image (scripts/test.sh provides both).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib/common.sh"
. "$repo/fixtures/versions.sh"
deb=${KAFKUP_DEB:?KAFKUP_DEB must name the kafkup .deb}
fixtures=${KAFKUP_FIXTURES:-$repo/fixtures/out}
rounds=${ROUNDS:-$([ "${KAFKUP_BENCH_FULL:-0}" = 1 ] && echo 5 || echo 3)}
kv=$FIXTURE_KAFKA_ZOOKEEPER_MODE
name=kafkup-bench-systemd-$$
container="$repo/scripts/systemd-container.sh"
trap '[ -n "${KEEP:-}" ] || "$container" stop "$name" >/dev/null 2>&1 || true' EXIT

"$container" start "$name" "$(dirname "$deb")" "$fixtures/mirror" >/dev/null
x() { timeout 300 docker exec "$name" "$@"; }
x apt-get install -y -qq "$deb" >/dev/null

zk_port=$(free_port); kafka_port=$(free_port)
mirror="file://$fixtures/mirror"
common=(--mirror "$mirror" --dist "$mirror" --kafka-port "$kafka_port" --zookeeper-port "$zk_port" --mode zookeeper)

# Warm kafkup's cache once, untimed; the floor gets the same distributions and configs.
x kafkup setup "${common[@]}" -q >/dev/null
x kafkup teardown --purge -q >/dev/null
x kafkup --root /srv/floor fetch "${common[@]}" -q >/dev/null
x kafkup --root /srv/floor render "${common[@]}" --out /srv/floor/config -q >/dev/null
zk_dist=$(x sh -c 'echo /srv/floor/install/apache-zookeeper-*-bin')
kafka_dist="/srv/floor/install/kafka_$FIXTURE_SCALA-$kv"
java=$(x readlink -f /usr/bin/java)

floor_once() {
  x sh -c 'rm -rf /srv/floor/data && mkdir -p /srv/floor/data/zookeeper /srv/floor/data/kafka'
  local t0 t1; t0=$(now)
  x systemd-run --quiet --collect --unit=floor-zookeeper "$java" -Xms512m -Xmx512m \
    -cp "/srv/floor/config/zookeeper:$zk_dist/lib/*" \
    -Dlogback.configurationFile=/srv/floor/config/zookeeper/logback.xml \
    org.apache.zookeeper.server.quorum.QuorumPeerMain /srv/floor/config/zookeeper/zoo.cfg
  x systemd-run --quiet --collect --unit=floor-kafka "$java" -Xms1g -Xmx1g \
    -Dlog4j.configuration=file:/srv/floor/config/kafka/log4j.properties \
    -cp "$kafka_dist/libs/*" kafka.Kafka /srv/floor/config/kafka/server.properties
  wait_floor "$zk_port" "$kafka_port" || { x journalctl -u floor-kafka -n 20 >&2; exit 1; }
  t1=$(now)
  x systemctl stop floor-kafka floor-zookeeper
  echo "$t1 - $t0" | bc
}

kafkup_once() {
  local t0 t1 t2
  t0=$(now)
  x kafkup setup "${common[@]}" -q >/dev/null
  t1=$(now)
  x kafkup setup "${common[@]}" -q >/dev/null
  t2=$(now)
  x kafkup teardown --purge -q >/dev/null
  echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)"
}

floor_t=() kafkup_t=() rerun_t=()
for i in $(seq 1 "$rounds"); do
  if ((i % 2)); then f=$(floor_once); kr=$(kafkup_once); else kr=$(kafkup_once); f=$(floor_once); fi
  read -r k r <<<"$kr"
  floor_t+=("$f"); kafkup_t+=("$k"); rerun_t+=("$r")
  echo "round $i: floor (systemd-run) $f s, kafkup setup (systemd) $k s, re-run $r s"
done
f=$(printf '%s\n' "${floor_t[@]}" | median); k=$(printf '%s\n' "${kafkup_t[@]}" | median)
r=$(printf '%s\n' "${rerun_t[@]}" | median)
ratio=$(printf '%.2f' "$(echo "$k / $f" | bc -l)")
printf 'setup to ready under systemd (zookeeper mode, warm cache), median of %d:\n' "$rounds"
printf '  floor (2 JVMs by systemd-run, imok + broker in metadata): %6.2f s\n' "$f"
printf '  kafkup setup (systemd runner, incl. self-test):          %6.2f s   ratio %sx (goal <= 1.25x)\n' "$k" "$ratio"
printf '  kafkup setup re-run (idempotent):                        %6.2f s   (goal < 1 s)\n' "$r"
goal "systemd setup ratio kafkup/floor" "$ratio" "<=" 1.25 x
goal "systemd idempotent re-run" "$r" "<" 1 " s"
