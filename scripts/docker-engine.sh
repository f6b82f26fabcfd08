#!/usr/bin/env bash
# Make sure a Docker Engine answers on /var/run/docker.sock, for the systemd and docker
# runner tests. Idempotent and safe to call from every test script:
#
#   ./scripts/docker-engine.sh        # prints one line: what it did
#
# - installs Debian's docker.io when dockerd is missing (the machines and CI start without it);
# - starts dockerd in the background when the API does not answer; never stops or restarts a
#   daemon that already runs (someone else's containers may be on it);
# - waits at most KAFKUP_DOCKERD_WAIT seconds (default 30) for /_ping to say OK.
#
# The daemon is Debian's Engine 20.10 (API 1.41). A newer docker CLI on PATH (v28 here,
# API 1.50) negotiates down by itself: with DOCKER_API_VERSION unset it sends /_ping first
# and uses the daemon's version, so nothing needs exporting. Setting DOCKER_API_VERSION=1.41
# also works; setting it higher than 1.41 makes every call fail with "client version 1.xx is
# too new". Do not set it to anything but 1.41 or leave it unset.
#
# The dockerd log goes to $KAFKUP_CACHE/dockerd.log (default ~/.cache/kafkup-dev).
set -euo pipefail

cache=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
sock=/var/run/docker.sock
wait_secs=${KAFKUP_DOCKERD_WAIT:-30}
log="$cache/dockerd.log"

die() { echo "docker-engine: $*" >&2; exit 1; }

ping_ok() {
  [ -S "$sock" ] || return 1
  [ "$(curl -s --max-time 2 --unix-socket "$sock" http://localhost/_ping 2>/dev/null)" = OK ]
}

api_version() {
  curl -s --max-time 2 --unix-socket "$sock" http://localhost/version |
    sed -n 's/.*"ApiVersion":"\([^"]*\)".*/\1/p'
}

# curl is the probe; install it with the engine if even that is missing.
need=()
command -v curl >/dev/null 2>&1 || need+=(curl)

if ping_ok; then
  echo "docker-engine: already running (API $(api_version)), nothing done"
  exit 0
fi

did=""
if ! command -v dockerd >/dev/null 2>&1; then
  need+=(docker.io)
fi
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${need[*]}"
  t0=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  # Recommends (apparmor, git, needrestart, ...) are not needed to run containers.
  # The package's postinst tries to start the service through the init system; with no
  # systemd as PID 1 that just fails quietly and we start dockerd ourselves below.
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
    die "apt-get install ${need[*]} failed (run it by hand to see why)"
  did="installed ${need[*]} in $((SECONDS - t0)) s; "
  # The postinst may have managed to start it after all (e.g. on a host with systemd).
  if ping_ok; then
    echo "docker-engine: ${did}daemon already answering (API $(api_version))"
    exit 0
  fi
fi

# This sandbox's PID 1 does not reap orphans: a dockerd that died (or was stopped) stays a
# zombie, which pgrep and kill -0 still find. Alive means: exists and not in state Z.
alive() {
  local st
  st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
live_dockerd() {
  local p
  for p in $(pgrep -x dockerd 2>/dev/null); do
    if alive "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

mkdir -p "$cache"
# A dockerd that is still starting (or hung) owns the pid file and the socket: starting a
# second one would only fail on the lock, so wait for the one there instead.
if found=$(live_dockerd); then
  did="${did}found dockerd (pid $found) not answering yet, waited; "
else
  [ "$(id -u)" = 0 ] || die "need root to start dockerd"
  # setsid + nohup: the daemon must outlive the shell (and process group) that started it,
  # so a test harness killing its own job does not take the daemon with it.
  {
    echo "=== $(date -Is) started by $0"
  } >>"$log"
  setsid nohup dockerd >>"$log" 2>&1 </dev/null &
  started_pid=$!
  did="${did}started dockerd (pid $started_pid, log $log); "
fi

# Right after the spawn the process is still called setsid/nohup (pgrep -x dockerd misses
# it), so watch the pid we started; fall back to the name for one we only found.
dockerd_alive() {
  { [ -n "${started_pid:-}" ] && alive "$started_pid"; } || live_dockerd >/dev/null
}

t0=$(date +%s.%N)
deadline=$((SECONDS + wait_secs))
until ping_ok; do
  if [ $SECONDS -ge $deadline ]; then
    echo "docker-engine: ${did}but $sock did not answer /_ping within ${wait_secs} s" >&2
    echo "--- last lines of $log:" >&2
    tail -n 15 "$log" >&2 || true
    exit 1
  fi
  if ! dockerd_alive; then
    echo "docker-engine: ${did}but dockerd exited" >&2
    echo "--- last lines of $log:" >&2
    tail -n 15 "$log" >&2 || true
    exit 1
  fi
  sleep 0.2
done
t1=$(date +%s.%N)
echo "docker-engine: ${did}API $(api_version) answered after $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
