#!/usr/bin/env bash
# Benchmark: reading a topic. `kafkup consume --reassemble` against `kcat -C -e` (the same
# librdkafka underneath) on the same messages of the same broker, ROUNDS times each, alternating
# which goes first; prints the median messages/s of both and the ratio.
# What kcat does not do that kafkup does: look for segment headers on every message and keep
# reassembly state, write each value through kafkup's output path (flushed, a closed pipe a quiet
# exit). Neither commits offsets (no --group). Both write every value to a pipe counted by wc.
# A round in which either reads fewer messages than the topic holds, or exits non-zero, fails
# the benchmark; MISSED lines are informational.
# Short by default (100 000 messages); KAFKUP_BENCH_FULL=1 reads the issue's 1 000 000.
set -euo pipefail
source "$(dirname "$0")/lib/broker.sh"
messages=100000; [ "$full" = 1 ] && messages=1000000
rounds=${ROUNDS:-3}

start_broker
topic=bench-consume
"$kafkup" topic create "$topic" --bootstrap-server "$bootstrap" -q >/dev/null
# Plain messages of about 100 bytes (reassembly passes them through), written by kcat.
python3 -c "
import sys
line = 'сообщение номер {:09d} ' + 'x' * 60 + '\n'
sys.stdout.writelines(line.format(i) for i in range($messages))
" >"$work/messages.txt"
kcat -b "$bootstrap" -P -t "$topic" -X acks=all -X linger.ms=20 <"$work/messages.txt"
# Every message is on the topic (and in the page cache) before anything is timed.
got=$(kcat -b "$bootstrap" -C -t "$topic" -o beginning -e -q | wc -l)
[ "$got" = "$messages" ] || { echo "the topic holds $got messages, not $messages" >&2; exit 1; }

# read_all NAME CMD...: runs the reader (stdout counted), fails unless it exited 0 and wrote
# every message; prints messages/s.
read_all() {
  local name=$1 t0 n; shift
  t0=$(now)
  n=$("$@" | wc -l)
  local t1; t1=$(now)
  [ "$n" = "$messages" ] || { echo "bench: $name read $n messages, not $messages" >&2; exit 1; }
  python3 -c "print($messages / ($t1 - $t0))"
}
kcat_once() { read_all kcat kcat -b "$bootstrap" -C -t "$topic" -o beginning -e -q; }
kafkup_once() {
  read_all "kafkup consume" "$kafkup" consume "$topic" --bootstrap-server "$bootstrap" \
    --from-beginning --reassemble --max-messages "$messages" --timeout 30
}
# One untimed read of each first (page cache, connections); every read, this one too, must
# return every message: a fast reader that skips some would prove nothing.
kcat_once >/dev/null; kafkup_once >/dev/null

: >"$work/kcat.txt"; : >"$work/kafkup.txt"
for i in $(seq 1 "$rounds"); do
  if ((i % 2)); then
    kcat_once >>"$work/kcat.txt"; kafkup_once >>"$work/kafkup.txt"
  else
    kafkup_once >>"$work/kafkup.txt"; kcat_once >>"$work/kcat.txt"
  fi
done
c=$(median <"$work/kcat.txt"); k=$(median <"$work/kafkup.txt")
ratio=$(python3 -c "print(f'{$k / $c:.2f}')")
echo "consume $messages messages of ~100 bytes from the beginning, median of $rounds, same broker"
echo "(the broker and the reader share this machine's $(nproc) cores)"
printf '  kcat -C -e:                  %10.0f messages/s\n' "$c"
printf '  kafkup consume --reassemble: %10.0f messages/s   ratio %sx (goal >= 0.9x)\n' "$k" "$ratio"
goal "consume messages/s kafkup/kcat" "$ratio" ">=" 0.9 x
