# Shared by the benchmarks (sourced, not run). Benchmarks measure; they never fail the run
# because a goal was missed, but they say so on a line of its own that starts with MISSED.
# A round that fails (a command exits non-zero, loses a message, answers an error) fails the
# benchmark: exit non-zero with the command's error, never a time.

# Without this, bash runs `x=$(f)` with errexit off inside f: a failed command there went on
# and f's last `echo` printed a time for it.
shopt -s inherit_errexit

# run_or_die CMD...: runs CMD (stdout discarded); when it fails, says which command and its
# exit status on stderr and exits the (sub)shell with that status.
run_or_die() {
  local rc=0
  "$@" >/dev/null || rc=$?
  if [ "$rc" != 0 ]; then
    printf 'bench: failed (exit %s): %s\n' "$rc" "$*" >&2
    exit "$rc"
  fi
}

# timed CMD...: runs CMD (stdout discarded) and prints its wall time in seconds; a failure
# exits as run_or_die does. Use it as an assignment (`t=$(timed ...)`) so that the failure
# stops the caller under set -e.
timed() {
  local t0
  t0=$(now)
  run_or_die "$@"
  echo "$(now) - $t0" | bc
}

# goal NAME VALUE OP TARGET UNIT: prints "MISSED: NAME VALUE UNIT (goal OP TARGET UNIT)" when
# VALUE OP TARGET is false. OP is one of <= < >= >.
goal() {
  local name=$1 value=$2 op=$3 target=$4 unit=${5:-}
  if ! awk -v v="$value" -v t="$target" -v op="$op" 'BEGIN {
      ok = (op == "<=") ? v <= t : (op == "<") ? v < t : (op == ">=") ? v >= t : v > t
      exit(ok ? 0 : 1) }'; then
    printf 'MISSED: %s %s%s (goal %s %s%s)\n' "$name" "$value" "$unit" "$op" "$target" "$unit"
  fi
}

# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

now() { date +%s.%N; }

# wait_floor ZK_PORT KAFKA_PORT: polls every 50 ms (at most 60 s) until ZooKeeper on 127.0.0.1
# answers `imok` (skipped when ZK_PORT is 0) and the broker is listed in metadata (kcat -L).
wait_floor() {
  local zk_port=$1 kafka_port=$2 zk_ok=0 broker_ok=0
  [ "$zk_port" = 0 ] && zk_ok=1
  local deadline=$((SECONDS + 60))
  # Bounded by time, not only by tries: each try may wait seconds for its probes.
  for _ in $(seq 1 1200); do
    [ "$SECONDS" -lt "$deadline" ] || break
    # Every probe is bounded: an nc that hung on a half-started ZooKeeper once stalled a run.
    [ $zk_ok = 1 ] || { [ "$(echo ruok | timeout 2 nc -q1 127.0.0.1 "$zk_port" 2>/dev/null)" = imok ] && zk_ok=1; }
    # kcat only once the port accepts connections: started earlier, librdkafka's reconnect
    # backoff would make it notice the broker up to a second late.
    [ $broker_ok = 1 ] || ! timeout 2 nc -z 127.0.0.1 "$kafka_port" 2>/dev/null ||
      { timeout 5 kcat -b "127.0.0.1:$kafka_port" -L -m 1 2>/dev/null | grep -q '1 brokers' && broker_ok=1; }
    [ $zk_ok = 1 ] && [ $broker_ok = 1 ] && return 0
    sleep 0.05
  done
  echo "floor did not become ready" >&2
  return 1
}

# A port in 20000-32000 that nothing listens on (below the ephemeral range).
free_port() {
  python3 - <<'PY'
import random, socket
for _ in range(200):
    port = random.randint(20000, 32000)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
PY
}

