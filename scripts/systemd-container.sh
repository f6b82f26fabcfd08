#!/usr/bin/env bash
# A throwaway machine with real systemd as PID 1, for the systemd runner tests.
#
#   ./scripts/systemd-container.sh start NAME [HOST_DIR...]   boot it; wait until booted
#   ./scripts/systemd-container.sh exec NAME CMD [ARG...]     run CMD inside (exit code passed on)
#   ./scripts/systemd-container.sh stop NAME                  stop and remove it
#
# Each HOST_DIR (e.g. where the .deb and the fixture mirror live) is bind-mounted read-only at
# the same path inside, so paths printed by the host side work unchanged in the container.
# The network is the host's (--network host): services inside listen on the host's 127.0.0.1
# and the host's loopback (a fixture mirror) is reachable from inside. Nothing else is needed.
#
# Environment: KAFKUP_SYSTEMD_IMAGE (default kafkup-test/systemd:17, built by
# ./scripts/test-images.sh), KAFKUP_SYSTEMD_WAIT (seconds to wait for boot, default 60;
# it takes about 0.3 s here).
#
# `start` succeeds once `systemctl is-system-running` says running or degraded (degraded
# prints the failed units to stderr). A container of the same name left over from an earlier
# run of this script (it carries our label) is replaced; any other container of that name is
# an error, never touched.
set -euo pipefail

image=${KAFKUP_SYSTEMD_IMAGE:-kafkup-test/systemd:17}
wait_secs=${KAFKUP_SYSTEMD_WAIT:-60}
label=dev.kafkup.systemd-container

die() { echo "systemd-container: $*" >&2; exit 1; }
usage() { die "usage: $0 start NAME [HOST_DIR...] | exec NAME CMD [ARG...] | stop NAME"; }

# The Engine may be slow but must never hang a test forever: every call is bounded.
dk() { timeout 120 docker "$@"; }

exists() { dk container inspect "$1" >/dev/null 2>&1; }
ours() { [ "$(dk container inspect -f "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null)" = 1 ]; }
running() { [ "$(dk container inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

cmd_start() {
  local name=$1; shift
  local mounts=() d
  for d in "$@"; do
    [ -d "$d" ] || die "not a directory: $d"
    d=$(cd "$d" && pwd -P)
    mounts+=(-v "$d:$d:ro")
  done
  dk image inspect "$image" >/dev/null 2>&1 || die "image $image missing: run ./scripts/test-images.sh"
  if exists "$name"; then
    ours "$name" || die "a container named $name exists and was not made by this script; not touching it"
    echo "systemd-container: replacing leftover container $name" >&2
    dk rm -f "$name" >/dev/null
  fi

  local t0 out
  t0=$(now)
  # Why each flag (see shared/facts.md, "systemd inside Docker"):
  #  SYS_ADMIN + seccomp=unconfined: systemd mounts, makes namespaces for unit sandboxing
  #    (--privileged is refused here: the host's bounding set lacks CAP_SYS_RESOURCE);
  #  tmpfs /run, /run/lock: systemd insists on them being tmpfs;
  #  host cgroup tree rw + cgroupns=host: systemd (cgroup v1 here) manages its own cgroups;
  #  container=docker: systemd's container detection (also set in the image);
  #  SIGRTMIN+3: systemd's "halt" signal; it ignores SIGTERM (docker stop would wait 10 s);
  #  --network host: see the header.
  out=$(dk run -d --name "$name" --label "$label=1" \
    --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
    --tmpfs /run --tmpfs /run/lock \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --cgroupns=host \
    -e container=docker --network host --stop-signal SIGRTMIN+3 \
    "${mounts[@]}" "$image" /sbin/init 2>&1) || die "docker run failed: $out"

  local deadline=$((SECONDS + wait_secs)) state=""
  while :; do
    if ! running "$name"; then
      echo "systemd-container: $name exited while booting; its output:" >&2
      dk logs --tail 30 "$name" >&2 2>&1 || true
      exit 1
    fi
    # is-system-running exits non-zero for every state but "running": read the word only.
    state=$(timeout 10 docker exec "$name" systemctl is-system-running 2>/dev/null || true)
    case $state in
      running) break ;;
      degraded)
        echo "systemd-container: $name booted degraded; failed units:" >&2
        dk exec "$name" systemctl --failed --no-legend --plain >&2 || true
        break ;;
    esac
    if [ $SECONDS -ge $deadline ]; then
      echo "systemd-container: $name not booted after ${wait_secs} s (state: ${state:-no answer}); jobs:" >&2
      dk exec "$name" systemctl list-jobs --no-legend >&2 2>&1 || true
      exit 1
    fi
    sleep 0.1
  done
  echo "systemd-container: $name $state after $(since "$t0") s"
}

cmd_exec() {
  local name=$1; shift
  [ $# -gt 0 ] || usage
  running "$name" || die "container $name is not running (start it first)"
  # -i: a test may pipe a script in. No timeout here: the caller bounds its own commands.
  exec docker exec -i "$name" "$@"
}

cmd_stop() {
  local name=$1
  if ! exists "$name"; then
    echo "systemd-container: $name does not exist, nothing to stop"
    return
  fi
  ours "$name" || die "container $name was not made by this script; not touching it"
  local t0
  t0=$(now)
  # -t 15: if systemd did not halt by then something is badly wrong; docker then kills it.
  dk stop -t 15 "$name" >/dev/null
  local took
  took=$(since "$t0")
  dk rm -f "$name" >/dev/null
  echo "systemd-container: $name stopped in $took s and removed"
}

[ $# -ge 2 ] || usage
verb=$1 name=$2
shift 2
case $verb in
  start) cmd_start "$name" "$@" ;;
  exec) cmd_exec "$name" "$@" ;;
  stop) [ $# -eq 0 ] || usage; cmd_stop "$name" ;;
  *) usage ;;
esac
