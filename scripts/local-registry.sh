#!/usr/bin/env bash
# A private Docker registry (Debian's docker-registry, distribution v2) on 127.0.0.1 only,
# so the docker runner tests can push and pull with no outside registry.
#
#   ./scripts/local-registry.sh start PORT DATA_DIR    idempotent; waits until /v2/ answers
#   ./scripts/local-registry.sh stop PORT DATA_DIR     stops the one started on this DATA_DIR
#
#   docker tag kafkup-test/jre:17 127.0.0.1:PORT/kafkup/jre:17
#   docker push 127.0.0.1:PORT/kafkup/jre:17
#
# Plain http is fine: the Engine trusts 127.0.0.0/8 as an insecure registry by default
# (`docker info` lists it under "Insecure Registries"), so no daemon config is touched.
# DATA_DIR holds config.yml, registry.pid, registry.log and the blobs (storage/).
# The package's own service (0.0.0.0:5000, htpasswd auth) is never used or started.
set -euo pipefail

die() { echo "local-registry: $*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: $0 start|stop PORT DATA_DIR"
verb=$1 port=$2 data=$3
case $port in '' | *[!0-9]*) die "PORT must be a number: $port" ;; esac
mkdir -p "$data"
data=$(cd "$data" && pwd -P)
pidfile="$data/registry.pid"
url="http://127.0.0.1:$port/v2/"

# This sandbox's PID 1 does not reap orphans: a stopped registry can linger as a zombie,
# which kill -0 still "finds". Alive means: exists and not in state Z.
alive() {
  local st
  st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null)" = 200 ]; }
our_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && alive "$pid" &&
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = docker-registry ] && echo "$pid"
}

start() {
  if our_pid >/dev/null && answers; then
    echo "local-registry: already running on 127.0.0.1:$port (pid $(our_pid))"
    return
  fi
  if ! command -v docker-registry >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "docker-registry missing and not root to apt-get install it"
    export DEBIAN_FRONTEND=noninteractive
    # The postinst would start the packaged service on 0.0.0.0:5000 on a host with an
    # init system; where that happens, the service is stopped again just below.
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends docker-registry >/dev/null 2>&1 ||
      die "apt-get install docker-registry failed"
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
    fi
  fi
  answers && die "something else already answers on 127.0.0.1:$port"

  mkdir -p "$data/storage"
  # Loopback only, no auth, deletes allowed (tests clean up after themselves).
  cat >"$data/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $data/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
  # setsid: the registry must outlive the shell that started it.
  setsid nohup docker-registry serve "$data/config.yml" >>"$data/registry.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pidfile"
  local deadline=$((SECONDS + 15))
  until answers; do
    if ! alive "$pid"; then
      tail -n 10 "$data/registry.log" >&2 || true
      die "docker-registry exited (log $data/registry.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      kill "$pid" 2>/dev/null || true
      die "docker-registry did not answer $url within 15 s (log $data/registry.log)"
    fi
    sleep 0.1
  done
  echo "local-registry: started on 127.0.0.1:$port (pid $pid, data $data)"
}

stop() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$pidfile"
    echo "local-registry: not running for $data"
    return
  fi
  kill "$pid"
  local _
  for _ in $(seq 1 100); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "local-registry: pid $pid ignored SIGTERM for 10 s, killed" >&2
  fi
  rm -f "$pidfile"
  echo "local-registry: stopped (pid $pid)"
}

case $verb in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop PORT DATA_DIR" ;;
esac
