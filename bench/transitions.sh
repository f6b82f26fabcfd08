#!/usr/bin/env bash
# Benchmark: the transitions of issue 22. (1) `kafkup snapshot save` and `snapshot restore` of
# one KRaft broker's data (the services stopped, so that only the copy is timed) against
# `cp -a` of the same data directory, alternating, medians and ratios (goal: ≤ 1.0×).
# (2) A one-broker `kafkup upgrade` 4.3.2 → 4.4.0 end to end (verified fetch from the fixture
# mirror, snapshot, roll, proof, metadata.version raised), printed. (3) A one-broker
# `kafkup migrate --to kraft` on Kafka 3.9 end to end (snapshot, controller, both broker rolls,
# the copy, finalize, proof after each phase), printed: no tool does it to compare with.
# Short by default (200 000 messages, 3 rounds); KAFKUP_BENCH_FULL=1 writes 2 000 000 messages
# (~200 MB of segments) and runs 5 rounds. A failed command fails the benchmark.
set -euo pipefail
source "$(dirname "$0")/lib/broker.sh"
messages=200000; rounds=3
[ "$full" = 1 ] && { messages=2000000; rounds=5; }

kafka_port=$(free_port); controller_port=$(free_port)
env_root=$work/env
run_or_die "$kafkup" --root "$env_root" setup --mode kraft --backend process --no-selftest -q \
  --kafka-version 4.3.2 --mirror "$mirror" --dist "$mirror" \
  --kafka-port "$kafka_port" --controller-port "$controller_port"
python3 -c "
import sys
sys.stdout.writelines('message {:09d} '.format(i) + 'x' * 80 + '\n' for i in range($messages))
" | run_or_die kcat -b "127.0.0.1:$kafka_port" -P -t bench -X acks=all -X linger.ms=20
run_or_die "$kafkup" --root "$env_root" stop -q
data=$env_root/data/kafka
size=$(du -sm "$data" | cut -f1)

cp_times=(); save_times=(); restore_times=()
for round in $(seq 1 "$rounds"); do
  cp_times+=("$(timed cp -a "$data" "$work/copy-$round")")
  rm -rf "$work/copy-$round"
  save_times+=("$(timed "$kafkup" --root "$env_root" snapshot save "round-$round" -q)")
  restore_times+=("$(timed "$kafkup" --root "$env_root" snapshot restore "round-$round" -q)")
  run_or_die "$kafkup" --root "$env_root" snapshot delete "round-$round" -q
done
cp_median=$(printf '%s\n' "${cp_times[@]}" | median)
save_median=$(printf '%s\n' "${save_times[@]}" | median)
restore_median=$(printf '%s\n' "${restore_times[@]}" | median)
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "snapshot of one KRaft broker's data ($size MiB, $messages messages), services stopped, medians of $rounds:"
printf '  cp -a of the data dir      %7.3f s\n' "$cp_median"
printf '  kafkup snapshot save       %7.3f s   ratio to cp -a %s (goal <= 1.0)\n' "$save_median" "$(ratio "$save_median" "$cp_median")"
printf '  kafkup snapshot restore    %7.3f s   ratio to cp -a %s (goal <= 1.0)\n' "$restore_median" "$(ratio "$restore_median" "$cp_median")"
goal "snapshot save / cp -a" "$(ratio "$save_median" "$cp_median")" "<=" 1.0 "x"
goal "snapshot restore / cp -a" "$(ratio "$restore_median" "$cp_median")" "<=" 1.0 "x"

run_or_die "$kafkup" --root "$env_root" start -q
upgrade_time=$(timed "$kafkup" --root "$env_root" upgrade --kafka-version 4.4.0 --finalize \
  --mirror "$mirror" --dist "$mirror" -q)
echo "one-broker upgrade 4.3.2 -> 4.4.0 end to end (fetch, snapshot, roll, proof, finalize): $upgrade_time s"
run_or_die "$kafkup" --root "$env_root" teardown --purge -q

zk_root=$work/zk
trap '"$kafkup" --root "$zk_root" teardown --purge -q >/dev/null 2>&1 || true; bench_cleanup' EXIT
zk_kafka_port=$(free_port); zk_port=$(free_port); zk_controller_port=$(free_port)
zk_flags=(--mirror "$mirror" --dist "$mirror" --kafka-port "$zk_kafka_port"
  --zookeeper-port "$zk_port" --controller-port "$zk_controller_port")
run_or_die "$kafkup" --root "$zk_root" setup --mode zookeeper --backend process --no-selftest -q "${zk_flags[@]}"
python3 -c "
import sys
sys.stdout.writelines('message {:09d}\\n'.format(i) for i in range(${messages}))
" | run_or_die kcat -b "127.0.0.1:$zk_kafka_port" -P -t bench -X acks=all -X linger.ms=20
migrate_time=$(timed "$kafkup" --root "$zk_root" migrate --to kraft -q)
run_or_die "$kafkup" --root "$zk_root" teardown --purge -q
echo "one-broker migrate ZooKeeper -> KRaft on 3.9 end to end ($messages messages; snapshot, 3 phases, finalize, proof): $migrate_time s"
