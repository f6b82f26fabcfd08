#!/usr/bin/env bash
# Benchmark: JVM options for a local broker. kafkup's own broker command (read from the JVM that
# `kafkup setup` started) is run again with one option set changed at a time; each set first
# records its own class-data archive (as kafkup would), then every timed start maps it.
# Per set and start: time from `java` to "broker listed in metadata" (kcat -L), then two
# `kcat -P` runs of the same small messages (acks=all): "cold" right after the start, "warm"
# once the JIT has seen the load. Sets take turns within a round, each round starting with the
# next set, so drift hits them alike. The reference is kafkup's own command (C1-only JIT, G1,
# fixed heap); the others differ from it only in the options named. A failed start or produce
# fails the benchmark; MISSED lines are informational.
#   MODES (default "kraft zookeeper"), ROUNDS (1; 3 with KAFKUP_BENCH_FULL=1),
#   MESSAGES (200 000; 1 000 000 with KAFKUP_BENCH_FULL=1), SETS (names of the sets below,
#   default all; the first one is the reference).
# Prints each set's medians and its ratios to kafkup's current options.
set -euo pipefail
source "$(dirname "$0")/lib/broker.sh"
. "$repo/fixtures/versions.sh"
rounds=${ROUNDS:-$([ "$full" = 1 ] && echo 3 || echo 1)}
messages=${MESSAGES:-$([ "$full" = 1 ] && echo 1000000 || echo 200000)}
modes=${MODES:-kraft zookeeper}

# name|options that replace kafkup's heap and GC options ("" keeps them)|options added.
# The first is the reference: kafkup as it is. full-jit undoes its C1-only choice.
sets=(
  "kafkup||"
  "full-jit||-XX:TieredStopAtLevel=4"
  "serial-gc|-Xms1g -Xmx1g -XX:+UseSerialGC|"
  "parallel-gc|-Xms1g -Xmx1g -XX:+UseParallelGC|"
  "g1-small-start|-Xms128m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20|"
  "no-perf-data||-XX:-UsePerfData"
)
if [ -n "${SETS:-}" ]; then
  chosen=()
  for want in $SETS; do
    for set in "${sets[@]}"; do [ "${set%%|*}" = "$want" ] && chosen+=("$set"); done
  done
  sets=("${chosen[@]}")
fi

python3 -c "
import sys
line = 'message {:09d} ' + 'x' * 80 + '\n'
sys.stdout.writelines(line.format(i) for i in range($messages))
" >"$work/messages.txt"

# kafkup's broker command line without its class-data archive options, one argument a line.
broker_command() {
  local pid
  pid=$(pgrep -f "^[^ ]*java .*-cp $work/env/.*kafka.Kafka " | head -n1)
  [ -n "$pid" ] || { echo "no broker JVM under $work/env" >&2; return 1; }
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -v -e '^-XX:SharedArchiveFile=' \
    -e '^-XX:ArchiveClassesAtExit=' -e '^-Xlog:cds' -e '^-Xshare'
}

# The command for one set: heap/GC options swapped (when the set names them), extras added
# just before -cp.
command_for() {
  local replace=$1 add=$2 arg extra
  for arg in "${base[@]}"; do
    if [ -n "$replace" ]; then
      case $arg in -Xms* | -Xmx* | -XX:+UseG1GC | -XX:MaxGCPauseMillis=*) continue ;; esac
    fi
    if [ "$arg" = -cp ]; then
      # shellcheck disable=SC2086 # option lists split on spaces
      for extra in $replace $add; do printf '%s\n' "$extra"; done
    fi
    printf '%s\n' "$arg"
  done
}

# run_broker SET_INDEX ARCHIVE_OPTION: the set's broker on pristine data, in the background.
run_broker() {
  local replace add cmd
  IFS='|' read -r _ replace add <<<"${sets[$1]}"
  mapfile -t cmd < <(command_for "$replace" "$add")
  rm -rf "$data" && cp -a "$work/pristine" "$data"
  "${cmd[0]}" "$2" "${cmd[@]:1}" >"$work/broker.log" 2>&1 &
  broker_pid=$!
}

stop_broker() {
  kill -TERM "$broker_pid" 2>/dev/null || true
  wait "$broker_pid" 2>/dev/null || true
}

produce_rate() {
  local t0; t0=$(now)
  kcat -b "$bootstrap" -P -t "$1" -X acks=all <"$work/messages.txt"
  python3 -c "print($messages / ($(now) - $t0))"
}

# One timed start of set $1: "start_s cold_msgs_per_s warm_msgs_per_s".
# CPU seconds the broker has used so far (user + system, from /proc).
broker_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$broker_pid/stat"
}

# One timed start of set $1: "start_s cold_msgs_per_s warm_msgs_per_s warm_msgs_per_cpu_s".
measure() {
  local name t0 ready topic cold warm cpu0 per_cpu
  name=${sets[$1]%%|*}
  run_broker "$1" "-XX:SharedArchiveFile=$work/archive-$name.jsa"
  t0=$(now)
  wait_floor 0 "$kafka_port" || { tail -n 20 "$work/broker.log" >&2; return 1; }
  ready=$(echo "$(now) - $t0" | bc)
  topic=bench-$name-$RANDOM
  "$kafkup" topic create "$topic" --bootstrap-server "$bootstrap" -q >/dev/null
  cold=$(produce_rate "$topic")
  cpu0=$(broker_cpu)
  warm=$(produce_rate "$topic")
  # What the broker itself spent: kcat shares the cores, so wall time alone is noisy.
  per_cpu=$(echo "$messages / ($(broker_cpu) - $cpu0)" | bc -l)
  "$kafkup" topic delete "$topic" --bootstrap-server "$bootstrap" -q >/dev/null 2>&1 || true
  stop_broker
  grep -q '\[cds\]' "$work/broker.log" && { echo "the archive of $name was not usable:" >&2; grep -m3 cds "$work/broker.log" >&2; }
  echo "$ready $cold $warm $per_cpu"
}

record() {
  local name=${sets[$1]%%|*}
  run_broker "$1" "-XX:ArchiveClassesAtExit=$work/archive-$name.jsa"
  wait_floor 0 "$kafka_port" || { tail -n 20 "$work/broker.log" >&2; return 1; }
  stop_broker
  [ -s "$work/archive-$name.jsa" ] || { echo "set $name wrote no archive" >&2; return 1; }
}

report=()
for mode in $modes; do
  kafka_port=$(free_port); controller_port=$(free_port); zk_port=$(free_port)
  bootstrap="127.0.0.1:$kafka_port"
  "$kafkup" --root "$work/env" setup --mode "$mode" --backend process --no-class-archive -q \
    --mirror "$mirror" --dist "$mirror" --kafka-port "$kafka_port" \
    --controller-port "$controller_port" --zookeeper-port "$zk_port" >/dev/null
  mapfile -t base < <(broker_command)
  # The broker's data after one clean stop is where every run starts (ZooKeeper stays up).
  "$kafkup" --root "$work/env" stop kafka -q >/dev/null
  data=$(find "$work/env" -type f -name meta.properties -path '*kafka*' -printf '%h\n' | head -n1)
  [ -n "$data" ] || { echo "no broker data dir under $work/env" >&2; exit 1; }
  rm -rf "$work/pristine" && cp -a "$data" "$work/pristine"
  for i in "${!sets[@]}"; do record "$i"; done
  for i in "${!sets[@]}"; do : >"$work/results-$i"; done
  for r in $(seq 1 "$rounds"); do
    for k in "${!sets[@]}"; do
      i=$(((k + r - 1) % ${#sets[@]}))
      measure "$i" >>"$work/results-$i"
      echo "$mode round $r ${sets[$i]%%|*}: $(tail -n1 "$work/results-$i")"
    done
  done
  for i in "${!sets[@]}"; do
    line=$(printf '%-10s %-15s' "$mode" "${sets[$i]%%|*}")
    for c in 1 2 3 4; do
      v=$(awk -v c=$c '{print $c}' "$work/results-$i" | median)
      v0=$(awk -v c=$c '{print $c}' "$work/results-0" | median)
      fmt=' %9.0f %5.2fx'; [ $c = 1 ] && fmt=' %6.2f %5.2fx'
      line+=$(printf "$fmt" "$v" "$(echo "$v / $v0" | bc -l)")
    done
    report+=("$line")
  done
  # kafkup's C1-only JIT may cost at most 10 % of the broker's throughput (CPU per message).
  if [ "${sets[1]%%|*}" = full-jit ]; then
    k=$(awk '{print $4}' "$work/results-0" | median); f=$(awk '{print $4}' "$work/results-1" | median)
    goal "$mode broker messages per CPU second, kafkup/full-jit" "$(printf '%.2f' "$(echo "$k / $f" | bc -l)")" ">=" 0.9 x
  fi
  "$kafkup" --root "$work/env" teardown --purge -q >/dev/null
done
printf '\nbroker JVM options, Kafka %s (kraft) / %s (zookeeper), archive made per set, median of %d\n' \
  "$FIXTURE_KAFKA_KRAFT_MODE" "$FIXTURE_KAFKA_ZOOKEEPER_MODE" "$rounds"
printf '(start: java to listed in metadata; produce: kcat -P of %d messages of ~100 bytes, acks=all)\n' "$messages"
printf '(cold: the first run after the start; warm: the second; per cpu-s: warm messages per second of broker CPU)\n'
printf '%-10s %-15s %6s %6s %9s %6s %9s %6s %9s %6s\n' mode options start ratio cold/s ratio warm/s ratio 'per cpu-s' ratio
printf '%s\n' "${report[@]}"
