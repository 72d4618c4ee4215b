#!/usr/bin/env bash
# THE benchmark command: starts a private Redis (scripts/services.sh), runs every benchmark of
# tests/CachingGen.Benchmarks (~25 min on 2 cores), regenerates docs/benchmarks/README.md and its SVG charts from
# the results (docs/benchmarks/results/results/*.json), and stops the Redis it started.
#
#   scripts/benchmarks.sh                 # full run + report
#   scripts/benchmarks.sh --only Redis    # full run of the classes whose name contains "Redis", merged into the report
#   scripts/benchmarks.sh --report        # report only, from the committed results (no Redis, no measuring)
#   scripts/benchmarks.sh --dry           # every benchmark once, unmeasured, plus the paired checks for a few tiny rounds and the --profile-* modes at a tiny scale (what scripts/test.sh runs in CI)
#
# Environment: everything scripts/services.sh reads (CACHINGGEN_REDIS_PORT, CACHINGGEN_SERVICES_DIR...).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES="$REPO/scripts/services.sh"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

STARTED=0
stop() { if [ "$STARTED" -eq 1 ]; then STARTED=0; bash "$SERVICES" stop-redis || true; fi; }
trap stop EXIT

if [[ " $* " != *" --report "* ]]; then
  # A Redis of this checkout that is already up (scripts/services.sh start) is used and left running.
  if ! redis-cli -h 127.0.0.1 -p "${CACHINGGEN_REDIS_PORT:-6391}" ping >/dev/null 2>&1; then
    STARTED=1
  fi
  bash "$SERVICES" start-redis
  eval "$(bash "$SERVICES" env)"
fi

PROJECT="$REPO/tests/CachingGen.Benchmarks/CachingGen.Benchmarks.csproj"
dotnet build -c Release -nologo -v q "$PROJECT"
# The benchmarks run with tiered compilation off (see the project file), so every method is compiled once, fully
# optimized. Without DOTNET_ReadyToRun=0 the framework's methods would keep their precompiled ReadyToRun code instead,
# which a tiered service replaces with optimized JIT code once it is hot: UTF-8 string writes, for one, measured ~5x
# slower that way, a cost every serializer row shares. Measured runs refuse to start without it (Program.cs).
if [[ " $* " != *" --report "* && " $* " != *" --dry "* ]]; then
  export DOTNET_ReadyToRun=0
fi
dotnet "$REPO/tests/CachingGen.Benchmarks/bin/Release/net10.0/CachingGen.Benchmarks.dll" "$@"
