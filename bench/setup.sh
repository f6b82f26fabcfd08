#!/usr/bin/env bash
# Benchmark: time to ready with a warm cache, for every runner and both modes, side by side:
#   floor:  the same JVMs (same distributions, same rendered configs, same heap) started by hand
#           at once the way that runner would (background processes, `systemd-run`, `docker run`),
#           polled every 50 ms until ZooKeeper answers `imok` and the broker is listed in
#           metadata (kcat -L). KRaft storage is formatted beforehand, untimed (kafkup's time
#           includes its format step).
#   first:  `kafkup setup` until its self-test passed, with no class-data archive yet;
#   kafkup: `kafkup setup` again after a teardown, its archives now made (the usual case);
#   re-run: kafkup's idempotent second setup.
# What the floor does not do that kafkup's time includes: the lock, reading the manifest and the
# verified distributions, rendering and comparing the configs, the port and data checks, units
# or containers made and labelled, the health topic with a leader, the coordinator warm-up and
# the self-test (100 messages, acks=all, read back by a fresh group). What kafkup does that the
# floor does not, to be faster: C1-only JIT (-XX:TieredStopAtLevel=1; the floor runs the JVM's
# default tiered JIT) and, from its second start, a class-data archive (the floor has none).
# Each round runs the floor and kafkup back to back, alternating which goes first. A round
# that fails (any kafkup or floor command exits non-zero, or the floor is not ready in 60 s)
# fails the benchmark with that command's error; MISSED lines are informational.
#   RUNNERS (default "process systemd docker"), MODES (default "zookeeper kraft"),
#   ROUNDS (default 1; 3 with KAFKUP_BENCH_FULL=1).
# systemd runs in a systemd container (scripts/systemd-container.sh, needs KAFKUP_DEB); docker
# needs an Engine and the JRE image (KAFKUP_TEST_IMAGE). scripts/test.sh provides all three.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib/common.sh"
. "$repo/fixtures/versions.sh"
kafkup_bin=${KAFKUP_BIN:-$repo/target/release/kafkup}
fixtures=${KAFKUP_FIXTURES:-$repo/fixtures/out}
image=${KAFKUP_TEST_IMAGE:-kafkup-test/jre:17}
rounds=${ROUNDS:-$([ "${KAFKUP_BENCH_FULL:-0}" = 1 ] && echo 3 || echo 1)}
runners=${RUNNERS:-process systemd docker}
modes=${MODES:-zookeeper kraft}
mirror="file://$fixtures/mirror"
bench_parent=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
mkdir -p "$bench_parent"
# Not under /tmp: kafkup refuses to keep data where the system empties it.
work=$(mktemp -d "$bench_parent/bench-setup.XXXXXX")
box=kafkup-bench-setup-$$
net=kafkup-bench-floor-$$
floor_pids=() extra= runner=process
cleanup() {
  floor_stop 2>/dev/null || true
  k teardown --purge -q >/dev/null 2>&1 || true
  docker rm -f "$box" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- one runner's way of running kafkup and the floor ------------------------------------
# x: runs a command where that runner's kafkup runs; k: kafkup there with the runner's flags.
use_runner() {
  runner=$1
  case $runner in
    process)
      x() { "$@"; }
      k() { "$kafkup_bin" --root "$work/kafkup" "$@"; }
      extra="--backend process"
      floor_root=$work/floor archives=$work/kafkup/cache/class-archives ;;
    systemd)
      : "${KAFKUP_DEB:?KAFKUP_DEB must name the kafkup .deb}"
      "$repo/scripts/systemd-container.sh" start "$box" "$(dirname "$KAFKUP_DEB")" "$fixtures/mirror" >/dev/null
      x() { timeout 300 docker exec "$box" "$@"; }
      x apt-get install -y -qq "$KAFKUP_DEB" >/dev/null
      k() { x kafkup "$@"; }
      extra="--backend systemd"
      floor_root=/srv/floor archives=/var/cache/kafkup/class-archives ;;
    docker)
      x() { "$@"; }
      k() { "$kafkup_bin" --root "$work/kafkup" "$@"; }
      extra="--backend docker --image $image"
      floor_root=$work/floor archives=$work/kafkup/cache/class-archives
      docker network create "$net" >/dev/null ;;
  esac
}

leave_runner() {
  k teardown --purge -q >/dev/null 2>&1 || true
  case $runner in
    systemd) docker rm -f "$box" >/dev/null 2>&1 || true ;;
    docker) docker network rm "$net" >/dev/null 2>&1 || true ;;
  esac
  rm -rf "$work/kafkup" "$work/floor"
  extra=
}

# The floor's distributions and configs (rendered for the runner's view), and its JVM flags.
prepare_floor() {
  x "$kafkup_bin_there" --root "$floor_root" fetch "${common[@]}" -q >/dev/null
  x "$kafkup_bin_there" --root "$floor_root" render "${common[@]}" --out "$floor_root/config" -q >/dev/null
  zk_top=$(x sh -c "cd $floor_root/install && echo apache-zookeeper-*-bin")
  kafka_top=kafka_$FIXTURE_SCALA-$kv
  # Where the JVM sees them: a container mounts them at kafkup's container paths.
  local dist=$floor_root/install cfg=$floor_root/config
  [ "$runner" = docker ] && dist=/opt/kafkup cfg=/etc/kafkup
  zk_java=(-Xms512m -Xmx512m -cp "$dist/$zk_top/lib/*"
    -Dlogback.configurationFile="$cfg/zookeeper/logback.xml"
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$cfg/zookeeper/zoo.cfg")
  local logging="-Dlog4j.configuration=file:$cfg/kafka/log4j.properties"
  [ "$mode" = kraft ] && logging="-Dlog4j2.configurationFile=$cfg/kafka/log4j2.properties"
  kafka_java=(-Xms1g -Xmx1g "$logging" -cp "$dist/$kafka_top/libs/*" kafka.Kafka "$cfg/kafka/server.properties")
  format_java=(-Xmx256m "$logging" -cp "$dist/$kafka_top/libs/*" kafka.tools.StorageTool format
    -t "$(python3 -c 'import base64,uuid;print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=").replace("-","A"))')"
    -c "$cfg/kafka/server.properties" --ignore-formatted)
  java_there=$(x readlink -f "$(x sh -c 'command -v java')")
}

# Mounts and names of the floor's containers (docker runner only).
floor_container() {
  local name=$1 service=$2; shift 2
  local port=$kafka_port top=$kafka_top
  [ "$service" = zookeeper ] && port=$zk_port top=$zk_top
  docker run -d --name "$name" --network "$net" -p "127.0.0.1:$port:$port" \
    -v "$floor_root/install/$top:/opt/kafkup/$top:ro" -v "$floor_root/config/$service:/etc/kafkup/$service:ro" \
    --tmpfs "/var/lib/kafkup/data/$service" --entrypoint java "$image" "$@" >/dev/null
}

floor_start() {
  case $runner in
    process)
      "$java_there" "${zk_java[@]}" >"$work/floor-zk.log" 2>&1 & floor_pids=("$!")
      "$java_there" "${kafka_java[@]}" >"$work/floor-kafka.log" 2>&1 & floor_pids+=("$!") ;;
    systemd)
      x systemd-run --quiet --collect --unit=floor-zookeeper "$java_there" "${zk_java[@]}"
      x systemd-run --quiet --collect --unit=floor-kafka "$java_there" "${kafka_java[@]}" ;;
    docker)
      floor_container "$zk_name" zookeeper "${zk_java[@]}"
      floor_container "$kafka_name" kafka "${kafka_java[@]}" ;;
  esac
}

floor_only_kafka() {
  case $runner in
    process) "$java_there" "${kafka_java[@]}" >"$work/floor-kafka.log" 2>&1 & floor_pids=("$!") ;;
    systemd) x systemd-run --quiet --collect --unit=floor-kafka "$java_there" "${kafka_java[@]}" ;;
    docker) floor_container "$kafka_name" kafka "${kafka_java[@]}" ;;
  esac
}

floor_stop() {
  case $runner in
    process) kill "${floor_pids[@]}" 2>/dev/null || true; wait "${floor_pids[@]}" 2>/dev/null || true; floor_pids=() ;;
    systemd) x systemctl stop floor-kafka floor-zookeeper 2>/dev/null || true ;;
    docker) docker rm -f "$zk_name" "$kafka_name" >/dev/null 2>&1 || true ;;
  esac
}

# Fresh floor data; KRaft storage formatted (untimed).
floor_reset() {
  if [ "$runner" = docker ]; then
    return 0 # tmpfs data: new on every container; formatted below
  fi
  x sh -c "rm -rf $floor_root/data && mkdir -p $floor_root/data/zookeeper $floor_root/data/kafka"
  if [ "$mode" = kraft ]; then run_or_die x "$java_there" "${format_java[@]}"; fi
}

floor_once() {
  floor_reset
  local t0 t1
  if [ "$mode" = kraft ] && [ "$runner" = docker ]; then
    # Format inside the container's own tmpfs first, then start the broker in it.
    t0=$(now)
    docker run -d --name "$kafka_name" --network "$net" -p "127.0.0.1:$kafka_port:$kafka_port" \
      -v "$floor_root/install/$kafka_top:/opt/kafkup/$kafka_top:ro" -v "$floor_root/config/kafka:/etc/kafkup/kafka:ro" \
      --tmpfs /var/lib/kafkup/data/kafka --entrypoint sh "$image" -c \
      "java $(printf '%q ' "${format_java[@]}") >/dev/null && exec java $(printf '%q ' "${kafka_java[@]}")" >/dev/null
  else
    t0=$(now)
    if [ "$mode" = kraft ]; then floor_only_kafka; else floor_start; fi
  fi
  local zk=$zk_port
  [ "$mode" = kraft ] && zk=0
  wait_floor "$zk" "$kafka_port" || { tail -n 20 "$work"/floor-*.log >&2 2>/dev/null; exit 1; }
  t1=$(now)
  floor_stop
  echo "$t1 - $t0" | bc
}

# first (no archive) then kafkup (archive made by the first run's clean stop) and its re-run.
kafkup_once() {
  x rm -rf "$archives"
  local first warm rerun
  first=$(timed k setup "${common[@]}" -q)
  run_or_die k teardown --purge -q
  warm=$(timed k setup "${common[@]}" -q)
  rerun=$(timed k setup "${common[@]}" -q)
  run_or_die k teardown --purge -q
  echo "$first $warm $rerun"
}

table=()
for runner_name in $runners; do
  use_runner "$runner_name"
  kafkup_bin_there=$kafkup_bin
  [ "$runner" = systemd ] && kafkup_bin_there=kafkup
  for mode in $modes; do
    kv=$FIXTURE_KAFKA_ZOOKEEPER_MODE
    [ "$mode" = kraft ] && kv=$FIXTURE_KAFKA_KRAFT_MODE
    zk_port=$(free_port); kafka_port=$(free_port); controller_port=$(free_port)
    common=(--mirror "$mirror" --dist "$mirror" --kafka-port "$kafka_port" --zookeeper-port "$zk_port"
      --controller-port "$controller_port" --mode "$mode" $extra)
    # Warm the cache (and the page cache) once, untimed.
    k setup "${common[@]}" -q >/dev/null
    k teardown --purge -q >/dev/null
    prepare_floor
    zk_name=$(sed -n 's/^zookeeper.connect=\(.*\):.*/\1/p' "$floor_root/config/kafka/server.properties" 2>/dev/null || true)
    [ -n "$zk_name" ] || zk_name=kafkup-bench-floor-$$
    # Under docker the broker advertises its container name to the environment's network (its
    # inter-broker listener): the floor's broker container takes that name.
    kafka_name=$(sed -n 's|^advertised.listeners=.*INTERNAL://\([^:]*\):.*|\1|p' "$floor_root/config/kafka/server.properties" 2>/dev/null || true)
    [ -n "$kafka_name" ] || kafka_name=$zk_name-floor-kafka
    fl=() fi=() wa=() re=()
    for i in $(seq 1 "$rounds"); do
      if ((i % 2)); then f=$(floor_once); kr=$(kafkup_once); else kr=$(kafkup_once); f=$(floor_once); fi
      read -r a b c <<<"$kr"
      fl+=("$f"); fi+=("$a"); wa+=("$b"); re+=("$c")
      echo "$runner $mode round $i: floor $f s, first setup $a s, setup $b s, re-run $c s"
    done
    f=$(printf '%s\n' "${fl[@]}" | median); a=$(printf '%s\n' "${fi[@]}" | median)
    b=$(printf '%s\n' "${wa[@]}" | median); c=$(printf '%s\n' "${re[@]}" | median)
    rb=$(printf '%.2f' "$(echo "$b / $f" | bc -l)"); ra=$(printf '%.2f' "$(echo "$a / $f" | bc -l)")
    table+=("$(printf '%-8s %-10s %7.2f %7.2f %6sx %7.2f %6sx %7.2f' "$runner" "$mode" "$f" "$a" "$ra" "$b" "$rb" "$c")")
    goal "$runner $mode setup/floor (archive made)" "$rb" "<=" 1.0 x
    goal "$runner $mode idempotent re-run" "$c" "<" 1 " s"
  done
  leave_runner
done
printf '\nsetup to ready, warm cache, median of %d round(s) (seconds; goal setup/floor <= 1.0x, aim 0.8x):\n' "$rounds"
printf '%-8s %-10s %7s %7s %7s %7s %7s %7s\n' runner mode floor first ratio setup ratio re-run
printf '%s\n' "${table[@]}"
