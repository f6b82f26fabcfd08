#!/usr/bin/env bash
# Benchmark: a 3-broker cluster to ready, warm cache, process runner, both modes, side by side:
#   floor:  the same JVMs (same distributions, same rendered configs, same heaps) started by hand
#           at once as background processes, polled every 50 ms until ZooKeeper answers `imok`
#           (ZooKeeper mode) and kcat's metadata lists all 3 brokers. KRaft storage of every
#           node is formatted beforehand, untimed (kafkup's time includes its format step).
#   kafkup: `kafkup setup --brokers 3` until its self-test passed (replicated on every broker,
#           acks=all, ISR checked), its class-data archives made by an earlier run.
# Beside each time, the peak memory of the cluster's JVMs (sum of their resident sets, sampled
# every 200 ms). Rounds alternate which goes first; a failed round fails the benchmark.
#   MODES (default "zookeeper kraft"), ROUNDS (default 1; 3 with KAFKUP_BENCH_FULL=1).
# The systemd and docker runners run the same nodes (tests/it/systemd.rs, docker.rs); their
# cluster times are not benchmarked here: one more systemd container of 4 JVMs on 2 cores.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib/common.sh"
. "$repo/fixtures/versions.sh"
kafkup_bin=${KAFKUP_BIN:-$repo/target/release/kafkup}
fixtures=${KAFKUP_FIXTURES:-$repo/fixtures/out}
rounds=${ROUNDS:-$([ "${KAFKUP_BENCH_FULL:-0}" = 1 ] && echo 3 || echo 1)}
modes=${MODES:-zookeeper kraft}
mirror="file://$fixtures/mirror"
bench_parent=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
mkdir -p "$bench_parent"
# Not under /tmp: kafkup refuses to keep data where the system empties it.
work=$(mktemp -d "$bench_parent/bench-cluster.XXXXXX")
floor=$work/floor floor_pids=()
k() { "$kafkup_bin" --root "$work/kafkup" "$@"; }
cleanup() {
  floor_stop
  k teardown --purge -q >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# peak_rss DIR: until killed, the largest sum of resident set sizes (MiB) of the JVMs whose
# command line names DIR, written to DIR.peak every 200 ms.
peak_rss() {
  local dir=$1 peak=0 now
  while :; do
    now=$({ pgrep -f -- "$dir/" || true; } | xargs -r ps -o rss= -p 2>/dev/null | awk '{s+=$1} END {print int(s/1024)}') || now=0
    [ "${now:-0}" -gt "$peak" ] && peak=$now && echo "$peak" >"$dir.peak"
    sleep 0.2
  done
}

# measured DIR CMD...: runs CMD in this shell (the floor's JVMs stay its children), timed,
# with peak_rss over DIR; sets `took` (seconds) and `peak` (MiB). A failure fails the bench.
measured() {
  local dir=$1 sampler t0; shift
  rm -f "$dir.peak"
  peak_rss "$dir" & sampler=$!
  t0=$(now)
  "$@" >/dev/null || { printf 'bench: failed: %s\n' "$*" >&2; kill "$sampler" 2>/dev/null; exit 1; }
  took=$(echo "$(now) - $t0" | bc)
  sleep 0.3
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  peak=$(cat "$dir.peak" 2>/dev/null || echo 0)
}

# The floor's distributions, configs and JVM command lines, rendered by kafkup for the floor.
prepare_floor() {
  "$kafkup_bin" --root "$floor" fetch "${common[@]}" -q >/dev/null
  "$kafkup_bin" --root "$floor" render "${common[@]}" --out "$floor/config" -q >/dev/null
  zk_top=$(cd "$floor/install" && echo apache-zookeeper-*-bin)
  kafka_libs="$floor/install/kafka_$FIXTURE_SCALA-$kv/libs/*"
  logging="-Dlog4j.configuration=file:$floor/config/kafka-NODE/log4j.properties"
  [ "$mode" = kraft ] && logging="-Dlog4j2.configurationFile=$floor/config/kafka-NODE/log4j2.properties"
  java_bin=$(readlink -f "$(command -v java)")
}

floor_start() {
  local i
  if [ "$mode" = zookeeper ]; then
    "$java_bin" -Xms512m -Xmx512m -cp "$floor/install/$zk_top/lib/*" \
      -Dlogback.configurationFile="$floor/config/zookeeper/logback.xml" \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$floor/config/zookeeper/zoo.cfg" \
      >"$work/floor-zookeeper.log" 2>&1 &
    floor_pids+=("$!")
  fi
  for i in 1 2 3; do
    "$java_bin" -Xms512m -Xmx512m "${logging//NODE/$i}" -cp "$kafka_libs" kafka.Kafka \
      "$floor/config/kafka-$i/server.properties" >"$work/floor-kafka-$i.log" 2>&1 &
    floor_pids+=("$!")
  done
}

floor_stop() {
  if [ "${#floor_pids[@]}" -gt 0 ]; then
    kill "${floor_pids[@]}" 2>/dev/null || true
    wait "${floor_pids[@]}" 2>/dev/null || true
  fi
  floor_pids=()
}

# Fresh data; every KRaft node formatted with one cluster id (untimed).
floor_reset() {
  local i id
  rm -rf "$floor/data" && mkdir -p "$floor/data"
  [ "$mode" = kraft ] || return 0
  id=$(python3 -c 'import base64,uuid;print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=").replace("-","A"))')
  for i in 1 2 3; do
    run_or_die "$java_bin" -Xmx256m "${logging//NODE/$i}" -cp "$kafka_libs" kafka.tools.StorageTool \
      format -t "$id" -c "$floor/config/kafka-$i/server.properties" --ignore-formatted
  done
}

# Polls (at most 90 s) until ZooKeeper answers and the metadata lists 3 brokers.
wait_cluster() {
  local zk_ok=1
  [ "$mode" = zookeeper ] && zk_ok=0
  local deadline=$((SECONDS + 90))
  # Bounded by time, not only by tries: each try may wait seconds for its probes.
  for _ in $(seq 1 1800); do
    [ "$SECONDS" -lt "$deadline" ] || break
    [ $zk_ok = 1 ] || { [ "$(echo ruok | timeout 2 nc -q1 127.0.0.1 "$zk_port" 2>/dev/null)" = imok ] && zk_ok=1; }
    if [ $zk_ok = 1 ] && timeout 2 nc -z 127.0.0.1 "$kafka_port" 2>/dev/null &&
      timeout 5 kcat -b "$bootstrap" -L 2>/dev/null | grep -q ' 3 brokers:'; then
      return 0
    fi
    sleep 0.05
  done
  tail -n 20 "$work"/floor-*.log >&2
  echo "bench: the floor cluster did not become ready in 90 s" >&2
  return 1
}

floor_once() { floor_reset; floor_start; wait_cluster; }
kafkup_once() { k setup "${common[@]}" -q; }

table=()
for mode in $modes; do
  kv=$FIXTURE_KAFKA_ZOOKEEPER_MODE
  [ "$mode" = kraft ] && kv=$FIXTURE_KAFKA_KRAFT_MODE
  # Brokers on 3 consecutive ports, controllers on the next 3: a free block of 8.
  while :; do
    kafka_port=$(free_port)
    for p in $(seq 1 7); do nc -z 127.0.0.1 $((kafka_port + p)) 2>/dev/null && continue 2; done
    [ $((kafka_port + 7)) -lt 32000 ] && break
  done
  # ZooKeeper on the free slot between the brokers' and the controllers' ports.
  zk_port=$((kafka_port + 3)) controller_port=$((kafka_port + 4))
  bootstrap="127.0.0.1:$kafka_port,127.0.0.1:$((kafka_port + 1)),127.0.0.1:$((kafka_port + 2))"
  common=(--mirror "$mirror" --dist "$mirror" --backend process --mode "$mode" --brokers 3
    --kafka-port "$kafka_port" --zookeeper-port "$zk_port" --controller-port "$controller_port")
  # Warm the cache and make the class-data archives once, untimed.
  run_or_die k setup "${common[@]}" -q
  run_or_die k teardown --purge -q
  prepare_floor
  fl=() ka=() flm=() kam=()
  for i in $(seq 1 "$rounds"); do
    for who in $( ((i % 2)) && echo "floor kafkup" || echo "kafkup floor"); do
      if [ "$who" = floor ]; then
        measured "$floor" floor_once; floor_stop; fl+=("$took"); flm+=("$peak")
      else
        measured "$work/kafkup" kafkup_once
        run_or_die k teardown --purge -q; ka+=("$took"); kam+=("$peak")
      fi
    done
    echo "cluster $mode round $i: floor ${fl[-1]} s (${flm[-1]} MiB), kafkup ${ka[-1]} s (${kam[-1]} MiB)"
  done
  f=$(printf '%s\n' "${fl[@]}" | median); a=$(printf '%s\n' "${ka[@]}" | median)
  fm=$(printf '%s\n' "${flm[@]}" | median); am=$(printf '%s\n' "${kam[@]}" | median)
  r=$(printf '%.2f' "$(echo "$a / $f" | bc -l)")
  table+=("$(printf '%-10s %7.2f %7.2f %6sx %9s %9s' "$mode" "$f" "$a" "$r" "$fm" "$am")")
  goal "3-broker $mode cluster setup/floor" "$r" "<=" 1.0 x
done
printf '\n3-broker cluster to ready, process runner, warm cache, median of %d round(s):\n' "$rounds"
printf '%-10s %7s %7s %7s %9s %9s\n' mode floor kafkup ratio floor-MiB kafkup-MiB
printf '%s\n' "${table[@]}"
