#!/usr/bin/env bash
# Benchmark: the HTTP producer API. `kafkup serve` against the guide's producer.py (Flask +
# kafka-python, send + flush per request, bench/baseline/), one after the other on the same
# broker, both driven by wrk --latency with the same 200-byte Cyrillic message and 50
# connections. Prints requests/s and p99 for both, and the ratios.
# Short by default (5 s each); KAFKUP_BENCH_FULL=1 runs the issue's 20 s.
set -euo pipefail
source "$(dirname "$0")/lib/broker.sh"
secs=5; [ "$full" = 1 ] && secs=20
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

# Runs wrk against $1 for $2 seconds; sets rps, p99_ms, non2xx.
load() {
  local out="$work/wrk-$RANDOM.txt"
  wrk -t2 -c"$connections" -d"${2}s" --latency -s "$lua" "http://127.0.0.1:$1/send_message" >"$out"
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p99_ms=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out"); non2xx=${non2xx:-0}
  requests=$(awk '/requests in/ {print $1}' "$out")
}

# A short warm-up each (connections, producer ids, JIT of nothing but the broker), untimed.
load "$kafkup_port" 2 >/dev/null; load "$baseline_port" 2 >/dev/null

load "$kafkup_port" "$secs"
k_rps=$rps; k_p99=$p99_ms; k_bad=$non2xx; k_req=$requests
load "$baseline_port" "$secs"
b_rps=$rps; b_p99=$p99_ms; b_bad=$non2xx; b_req=$requests

on_topic=$(kcat -b "$bootstrap" -C -t bench-kafkup -o beginning -e -q | wc -l)
echo "HTTP producer, POST /send_message, 200-byte Cyrillic message, wrk -c$connections, ${secs} s each, same broker"
echo "(the broker, the server under test and wrk share this machine's $(nproc) cores)"
printf '  kafkup serve:              %9.0f requests/s   p99 %8.2f ms   (%s requests, %s not 2xx)\n' "$k_rps" "$k_p99" "$k_req" "$k_bad"
printf '  baseline (Flask + flush):  %9.0f requests/s   p99 %8.2f ms   (%s requests, %s not 2xx)\n' "$b_rps" "$b_p99" "$b_req" "$b_bad"
rps_ratio=$(python3 -c "print(f'{$k_rps / $b_rps:.1f}')")
p99_ratio=$(python3 -c "print(f'{$k_p99 / $b_p99:.4f}')")
echo "  ratio: ${rps_ratio}x the requests/s (goal >= 50x), p99 ${p99_ratio}x (goal <= 0.1x)"
echo "  messages on kafkup's topic: $on_topic (warm-up included)"
[ "$on_topic" -ge "$k_req" ] || echo "MISSED: kafkup's topic holds fewer messages ($on_topic) than requests ($k_req)"
goal "serve requests/s kafkup/baseline" "$rps_ratio" ">=" 50 x
goal "serve p99 kafkup/baseline" "$p99_ratio" "<=" 0.1 x
[ "$k_bad" = 0 ] || echo "MISSED: kafkup serve answered $k_bad requests with an error"
