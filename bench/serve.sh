#!/usr/bin/env bash
# Benchmark: the HTTP producer API. `kafkup serve` against the guide's producer.py (Flask +
# kafka-python, bench/baseline/), on the same broker, both driven by wrk --latency with the same
# 200-byte Cyrillic message and 50 connections, ROUNDS rounds each, alternating which goes
# first. Prints requests/s and p99 (medians of the rounds) for both, and the ratios.
# What the baseline does not do that kafkup does: acks=all with an idempotent producer (the
# baseline: kafka-python's default acks=1), a body size limit, a Content-Type check, JSON
# errors; what it does that kafkup does not: one global flush per request (kafkup waits only
# for its own records' acknowledgements). Both answer 200 once the broker acknowledged.
# A round fails the benchmark when a server answers anything but 2xx, when wrk counts a socket
# error or timeout, or when the topic gained fewer messages during the round than the round's
# 2xx answers (only the timed rounds count: the warm-up's messages are on the topic before).
# MISSED lines are informational.
# Short by default (2 rounds of 3 s each); KAFKUP_BENCH_FULL=1 runs 4 rounds of 5 s (20 s each).
set -euo pipefail
source "$(dirname "$0")/lib/broker.sh"
rounds=${ROUNDS:-$([ "$full" = 1 ] && echo 4 || echo 2)}
secs=$([ "$full" = 1 ] && echo 5 || echo 3)
connections=50

python=$("$repo/scripts/python-env.sh")
start_broker
for t in bench-kafkup bench-baseline; do "$kafkup" topic create "$t" --bootstrap-server "$bootstrap" -q >/dev/null; done

# 200 bytes of Cyrillic UTF-8, sent as they are (not \u-escaped) in the body.
message="$(printf 'Сообщение для Кафки %.0s' 1 2 3 4 5)Привет..."
body=$(python3 -c 'import json,sys; print(json.dumps({"message": sys.argv[1]}, ensure_ascii=False), end="")' "$message")
[ "$(printf %s "$message" | wc -c)" = 200 ] || { echo "the message is not 200 bytes" >&2; exit 1; }
lua="$work/post.lua"
python3 - "$body" >"$lua" <<'PY'
import sys
body = sys.argv[1].replace("\\", "\\\\").replace('"', '\\"')
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/json"')
print(f'wrk.body = "{body}"')
PY

kafkup_port=$(free_port)
"$kafkup" serve --bootstrap-server "$bootstrap" --topic bench-kafkup --bind "127.0.0.1:$kafkup_port" -q \
  >"$work/serve.log" 2>&1 &
bench_pids+=("$!")
baseline_port=$(free_port)
BOOTSTRAP=$bootstrap TOPIC=bench-baseline PORT=$baseline_port "$python" "$repo/bench/baseline/producer.py" \
  >"$work/baseline.log" 2>&1 &
bench_pids+=("$!")
wait_port "$kafkup_port"; wait_port "$baseline_port"

# Converts wrk's "1.23ms" / "456.00us" / "1.02s" to milliseconds.
to_ms() { python3 -c 'import re,sys; v,u=re.fullmatch(r"([\d.]+)(us|ms|s|m)",sys.argv[1]).groups(); print(float(v)*{"us":0.001,"ms":1,"s":1000,"m":60000}[u])' "$1"; }

# Messages on a topic (offsets only, so the count reads little).
on_topic() { timeout 120 kcat -b "$bootstrap" -C -t "$1" -o beginning -e -q -f '%o\n' | wc -l; }

# round NAME PORT TOPIC SECS: one wrk run; fails on any error or lost message; prints
# "requests/s p99_ms requests".
round() {
  local name=$1 port=$2 topic=$3 out="$work/wrk-$1-$RANDOM.txt" before after
  before=$(on_topic "$topic")
  wrk -t2 -c"$connections" -d"${4}s" --latency -s "$lua" "http://127.0.0.1:$port/send_message" >"$out"
  after=$(on_topic "$topic")
  local requests non2xx socket ok
  requests=$(awk '/requests in/ {print $1}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out"); non2xx=${non2xx:-0}
  # "Socket errors: connect 0, read 0, write 0, timeout 0", printed only when there are some.
  socket=$(awk -F'[ ,]+' '/Socket errors:/ {print $5 + $7 + $9 + $11}' "$out"); socket=${socket:-0}
  ok=$((requests - non2xx))
  if [ -z "$requests" ] || [ "$non2xx" != 0 ] || [ "$socket" != 0 ] || [ $((after - before)) -lt "$ok" ]; then
    echo "bench: $name failed a round: $requests requests, $non2xx not 2xx, $socket socket errors or timeouts," \
      "$((after - before)) new messages on $topic for $ok answered 2xx; wrk said:" >&2
    cat "$out" >&2
    exit 1
  fi
  echo "$(awk '/^Requests\/sec:/ {print $2}' "$out") $(to_ms "$(awk '$1 == "99%" {print $2}' "$out")") $requests"
}

# A short warm-up each (connections, producer ids, JIT of nothing but the broker), untimed,
# held to the same rules.
round kafkup "$kafkup_port" bench-kafkup 2 >/dev/null
round baseline "$baseline_port" bench-baseline 2 >/dev/null

: >"$work/kafkup.txt"; : >"$work/baseline.txt"
for i in $(seq 1 "$rounds"); do
  if ((i % 2)); then
    round kafkup "$kafkup_port" bench-kafkup "$secs" >>"$work/kafkup.txt"
    round baseline "$baseline_port" bench-baseline "$secs" >>"$work/baseline.txt"
  else
    round baseline "$baseline_port" bench-baseline "$secs" >>"$work/baseline.txt"
    round kafkup "$kafkup_port" bench-kafkup "$secs" >>"$work/kafkup.txt"
  fi
  echo "round $i: kafkup $(tail -n1 "$work/kafkup.txt"), baseline $(tail -n1 "$work/baseline.txt") (requests/s p99-ms requests)"
done
col_median() { awk -v c="$1" '{print $c}' "$2" | median; }
total() { awk '{n += $3} END {print n}' "$1"; }
k_rps=$(col_median 1 "$work/kafkup.txt"); k_p99=$(col_median 2 "$work/kafkup.txt")
b_rps=$(col_median 1 "$work/baseline.txt"); b_p99=$(col_median 2 "$work/baseline.txt")

echo "HTTP producer, POST /send_message, 200-byte Cyrillic message, wrk -c$connections, $rounds rounds of ${secs} s each, same broker"
echo "(the broker, the server under test and wrk share this machine's $(nproc) cores)"
printf '  kafkup serve:              %9.0f requests/s   p99 %8.2f ms   (%s requests, all 2xx and on the topic)\n' "$k_rps" "$k_p99" "$(total "$work/kafkup.txt")"
printf '  baseline (Flask + flush):  %9.0f requests/s   p99 %8.2f ms   (%s requests, all 2xx and on the topic)\n' "$b_rps" "$b_p99" "$(total "$work/baseline.txt")"
rps_ratio=$(python3 -c "print(f'{$k_rps / $b_rps:.1f}')")
p99_ratio=$(python3 -c "print(f'{$k_p99 / $b_p99:.4f}')")
echo "  ratio: ${rps_ratio}x the requests/s (goal >= 50x), p99 ${p99_ratio}x (goal <= 0.1x)"
goal "serve requests/s kafkup/baseline" "$rps_ratio" ">=" 50 x
goal "serve p99 kafkup/baseline" "$p99_ratio" "<=" 0.1 x
