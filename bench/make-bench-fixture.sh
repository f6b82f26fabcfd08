#!/usr/bin/env bash
# Builds the benchmark fixture: a ~120 MB Kafka-layout tarball (Kafka's real jars plus
# incompressible filler jars, since a real Kafka tarball is mostly already-compressed jars),
# with .sha512 (Kafka's format), .asc and KEYS, in its own mirror tree:
#   ${KAFKUP_FIXTURES_OUT:-fixtures/out}/bench-mirror/kafka/<V>/kafka_2.13-<V>.tgz
# Version and size: FIXTURE_BENCH_KAFKA_VERSION (3.9.2), FIXTURE_BENCH_SIZE_MB (120).
# All the work is fixtures/build.sh's (cached: a second run does nothing).
set -euo pipefail
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/fixtures/build.sh" --bench "$@"
