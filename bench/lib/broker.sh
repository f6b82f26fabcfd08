# Shared by the messaging benchmarks (sourced, not run): a KRaft broker set up by kafkup
# from the fixture mirror in a work dir outside /tmp, torn down on exit.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$repo/bench/lib/common.sh"
kafkup=${KAFKUP_BIN:-$repo/target/release/kafkup}
fixtures=${KAFKUP_FIXTURES:-$repo/fixtures/out}
mirror="file://$fixtures/mirror"
full=${KAFKUP_BENCH_FULL:-0}
# Not under /tmp: kafkup refuses to keep data where the system empties it.
bench_parent=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
mkdir -p "$bench_parent"
work=$(mktemp -d "$bench_parent/bench-$(basename "$0" .sh).XXXXXX")
bench_pids=()
bench_cleanup() {
  for p in "${bench_pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${bench_pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  "$kafkup" --root "$work/env" teardown --purge -q >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap bench_cleanup EXIT


start_broker() {
  kafka_port=$(free_port); controller_port=$(free_port)
  "$kafkup" --root "$work/env" setup --mode kraft --backend process --no-selftest -q \
    --mirror "$mirror" --dist "$mirror" --kafka-port "$kafka_port" --controller-port "$controller_port" >/dev/null
  bootstrap="127.0.0.1:$kafka_port"
}

# Waits (at most 30 s) until something listens on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 1 300); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}
