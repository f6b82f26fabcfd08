#!/usr/bin/env bash
# Benchmark: what securing the listener costs. (1) Produce throughput of `kcat -P` (acks=all,
# small messages) against one broker set up plaintext, then tls, then scram — the same
# environment and broker build, changed by `kafkup setup --security` — with the ratios to
# plaintext. ZooKeeper mode (Kafka 3.9): Debian's kcat (librdkafka 2.0) cannot log in with
# SCRAM to Kafka 4.x. (2) A warm setup (distribution cached, no self-test) of a new KRaft
# environment with --security tls against one with plaintext, alternating; the difference is
# the certificate work (goal: under 0.3 s).
# Short by default (100 000 messages, 3 setup rounds); KAFKUP_BENCH_FULL=1 sends the issue's
# 1 000 000 and runs 5 setup rounds. A failed produce or setup fails the benchmark.
set -euo pipefail
source "$(dirname "$0")/lib/broker.sh"
messages=100000; rounds=3
[ "$full" = 1 ] && { messages=1000000; rounds=5; }

kafka_port=$(free_port); zookeeper_port=$(free_port)
setup_env() { # ROOT ARGS...
  local root=$1; shift
  run_or_die "$kafkup" --root "$root" setup --backend process --no-selftest -q \
    --mirror "$mirror" --dist "$mirror" "$@"
}
python3 -c "
import sys
sys.stdout.writelines('message {:09d} '.format(i) + 'x' * 80 + '\n' for i in range($messages))
" >"$work/messages.txt"

# produce SECURITY: sends every message with kcat as the developer (plaintext: no config);
# prints messages/s; fails unless kcat exits 0.
produce() {
  local config=$work/$1.conf t0 t1
  if [ "$1" = plaintext ]; then
    echo "bootstrap.servers=127.0.0.1:$kafka_port" >"$config"
  else
    "$kafkup" --root "$work/env" client-config --format librdkafka >"$config"
  fi
  t0=$(now)
  run_or_die kcat -F "$config" -P -t "bench-$1" -X acks=all -X linger.ms=20 <"$work/messages.txt"
  t1=$(now)
  python3 -c "print(f'{$messages / ($t1 - $t0):.0f}')"
}
declare -A rate
for security in plaintext tls scram; do
  setup_env "$work/env" --mode zookeeper --security "$security" \
    --kafka-port "$kafka_port" --zookeeper-port "$zookeeper_port"
  rate[$security]=$(produce "$security")
done
echo "produce $messages messages of ~100 bytes with kcat -P (acks=all), one broker (Kafka 3.9, ZooKeeper mode):"
for security in plaintext tls scram; do
  ratio=$(python3 -c "print(f'{${rate[$security]} / ${rate[plaintext]}:.2f}')")
  printf '  %-9s %8s messages/s   ratio to plaintext %s\n' "$security" "${rate[$security]}" "$ratio"
done
"$kafkup" --root "$work/env" teardown --purge -q >/dev/null

# Warm setups: a first setup of each kind fills the root's cache; each timed round is a new
# environment (purged after) whose distribution comes from that cache.
# warm_setup SECURITY: prints the setup's wall time; under tls it also appends to
# $work/secure.txt how long kafkup's own step took (the CA, the node's and users' certificates
# and client files: from the step before "secured:" to that line, as setup reports them).
warm_setup() {
  local root=$work/warm-$1 port t0 t1
  port=$(free_port)
  t0=$(now)
  "$kafkup" --root "$root" setup --backend process --no-selftest --mirror "$mirror" \
    --dist "$mirror" --mode kraft --security "$1" --kafka-port "$port" \
    --controller-port "$(free_port)" 2>&1 >/dev/null | python3 -c '
import sys, time
last = None
for line in sys.stdin:
    now = time.monotonic()
    if "secured:" in line and last is not None:
        print(f"{now - last:.4f}")
    last = now
' >>"$work/secure.txt"
  t1=$(now)
  run_or_die "$kafkup" --root "$root" teardown --purge -q
  echo "$t1 - $t0" | bc
}
warm_setup plaintext >/dev/null; warm_setup tls >/dev/null
: >"$work/plain.txt"; : >"$work/tls.txt"; : >"$work/secure.txt"
for i in $(seq 1 "$rounds"); do
  if ((i % 2)); then
    warm_setup plaintext >>"$work/plain.txt"; warm_setup tls >>"$work/tls.txt"
  else
    warm_setup tls >>"$work/tls.txt"; warm_setup plaintext >>"$work/plain.txt"
  fi
done
p=$(median <"$work/plain.txt"); t=$(median <"$work/tls.txt"); c=$(median <"$work/secure.txt")
extra=$(python3 -c "print(f'{$t - $p:.2f}')")
echo "warm setup of a new KRaft environment, median of $rounds: plaintext ${p} s, tls ${t} s (+${extra} s);"
echo "  of that, kafkup's certificate work (CA, certificates, client files): ${c} s; the rest is the broker starting its TLS listener"
goal "the certificate work of a warm setup" "$c" "<" 0.3 " s"
