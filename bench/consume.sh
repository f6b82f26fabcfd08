#!/usr/bin/env bash
# Benchmark: reading a topic to /dev/null. `kafkup consume --reassemble` against
# `kcat -C -e` (the same librdkafka underneath) on the same messages of the same broker,
# alternating, ROUNDS times each; prints the median messages/s of both and the ratio.
# Short by default (100 000 messages); KAFKUP_BENCH_FULL=1 reads the issue's 1 000 000.
set -euo pipefail
source "$(dirname "$0")/lib/broker.sh"
messages=100000; [ "$full" = 1 ] && messages=1000000
rounds=${ROUNDS:-3}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

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

kcat_once() {
  local t0; t0=$(now)
  kcat -b "$bootstrap" -C -t "$topic" -o beginning -e -q >/dev/null
  python3 -c "print($messages / ($(now) - $t0))"
}
kafkup_once() {
  local t0; t0=$(now)
  "$kafkup" consume "$topic" --bootstrap-server "$bootstrap" --from-beginning --reassemble \
    --max-messages "$messages" --timeout 30 >/dev/null
  python3 -c "print($messages / ($(now) - $t0))"
}
# kafkup reads every message, untimed: a fast reader that skips some would prove nothing.
n=$("$kafkup" consume "$topic" --bootstrap-server "$bootstrap" --from-beginning --reassemble --timeout 5 | wc -l)
[ "$n" = "$messages" ] || { echo "kafkup consume wrote $n lines, not $messages" >&2; exit 1; }

: >"$work/kcat.txt"; : >"$work/kafkup.txt"
for i in $(seq 1 "$rounds"); do
  kcat_once >>"$work/kcat.txt"
  kafkup_once >>"$work/kafkup.txt"
done
c=$(median <"$work/kcat.txt"); k=$(median <"$work/kafkup.txt")
ratio=$(python3 -c "print(f'{$k / $c:.2f}')")
echo "consume $messages messages of ~100 bytes from the beginning, median of $rounds, same broker"
echo "(the broker and the reader share this machine's $(nproc) cores)"
printf '  kcat -C -e:                  %10.0f messages/s\n' "$c"
printf '  kafkup consume --reassemble: %10.0f messages/s   ratio %sx (goal >= 0.9x)\n' "$k" "$ratio"
goal "consume messages/s kafkup/kcat" "$ratio" ">=" 0.9 x
