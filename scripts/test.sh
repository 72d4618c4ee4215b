#!/usr/bin/env bash
# THE test command: starts real Redis + MariaDB, runs every test in the solution, runs every benchmark once
# (dry run, against the same servers), stops the servers, publishes and runs the Native AOT quickstart, and
# ends with exactly one summary line: "N passed, N failed" (", N skipped" when any were skipped).
#
# The summary counts, besides the tests: the benchmark report regenerated unchanged from the committed results as one
# test, each benchmark case of the dry run as one passed or failed test
# (tests/CachingGen.Benchmarks -- --dry: BenchmarkDotNet Job.Dry, in process, ~1-2 min; a run that dies before
# reporting its count is one failed test), and the Native AOT check (scripts/aot.sh: publish with zero
# trim/AOT warnings and run every strategy, ~3-6 min) as one passed or failed test.
#
#   scripts/test.sh [extra dotnet test arguments, e.g. --filter "FullyQualifiedName~WriteBack"]
#
# Exit code is non-zero when a test failed, when `dotnet test` failed (build error, crash, hang), or when
# no test ran at all.
#
# Environment:
#   CI                           when set, failing to start the servers is fatal; otherwise a warning, and
#                                the server tests skip themselves (they see no CACHINGGEN_REDIS/MYSQL), except
#                                the write-back crash tests, which fail: without servers they prove nothing.
#   CACHINGGEN_SOLUTION          solution (or project) to test, default CachingGen.sln (relative to repo root)
#   CACHINGGEN_TEST_RESULTS      TRX output folder, default <repo>/.artifacts/test-results (emptied first)
#   CACHINGGEN_TEST_HANG_TIMEOUT hang timeout per test host, default 10m
#   CACHINGGEN_CONFIGURATION     default Release
#   CACHINGGEN_SKIP_BENCHMARKS   when set, no benchmark dry run (for a quick local run; CI never sets it)
#   CACHINGGEN_SKIP_AOT          when set, no Native AOT publish (for a quick local run; CI never sets it)
#   plus everything scripts/services.sh reads (ports, services dir, fsync mode).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES="$REPO/scripts/services.sh"
cd "$REPO"

SOLUTION="${CACHINGGEN_SOLUTION:-CachingGen.sln}"
RESULTS="${CACHINGGEN_TEST_RESULTS:-$REPO/.artifacts/test-results}"
HANG_TIMEOUT="${CACHINGGEN_TEST_HANG_TIMEOUT:-10m}"
CONFIGURATION="${CACHINGGEN_CONFIGURATION:-Release}"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { echo "[test] $*" >&2; }

[ -e "$SOLUTION" ] || { log "ERROR: solution '$SOLUTION' not found (cwd $REPO)"; exit 1; }

# ---------------------------------------------------------------------------------------------- servers

SERVICES_STARTED=0
stop_services() {
  if [ "$SERVICES_STARTED" -eq 1 ]; then
    SERVICES_STARTED=0
    bash "$SERVICES" stop || log "WARNING: stopping the services failed"
  fi
}
trap stop_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SERVICES_STARTED=1   # even a failed start may have left one server running: always stop
if bash "$SERVICES" start; then
  eval "$(bash "$SERVICES" env)"
  log "servers up: CACHINGGEN_REDIS=$CACHINGGEN_REDIS, MySQL on port $CACHINGGEN_MYSQL_PORT"
else
  if [ -n "${CI:-}" ]; then
    log "ERROR: could not start Redis/MariaDB (scripts/services.sh start failed; see the [services] lines above). CI is set, so this is fatal."
    exit 1
  fi
  log "WARNING: could not start Redis/MariaDB; running without them: the server tests will skip themselves."
  # Do not hand the tests half-working servers.
  bash "$SERVICES" stop || true
  SERVICES_STARTED=0
  unset CACHINGGEN_REDIS CACHINGGEN_MYSQL CACHINGGEN_SERVICES_SCRIPT
fi

# ---------------------------------------------------------------------------------------------- tests

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"

# Build everything once, then test without building: `dotnet test` on a solution builds and runs its test projects in
# parallel, and a project referenced by two of them (samples/WriteBackFlusher, started as a child process by the crash
# tests) could be rebuilt, its output folder rewritten, while another project's tests already run it.
log "dotnet build $SOLUTION -c $CONFIGURATION"
DOTNET_RC=0
BUILD_FAILED=0
if dotnet build "$SOLUTION" -c "$CONFIGURATION"; then
  if [ "$#" -eq 0 ]; then
    # The test projects run in parallel against the same servers: tests that stop or pause the shared Redis run
    # afterwards, alone, or the other projects' calls would time out during their outage.
    log "dotnet test $SOLUTION -c $CONFIGURATION --no-build, all but the shared-server outage tests (results in $RESULTS)"
    dotnet test "$SOLUTION" -c "$CONFIGURATION" --no-build \
      --results-directory "$RESULTS" \
      --logger "trx" \
      --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none \
      --filter "Category!=SharedServerOutage" || DOTNET_RC=$?
    log "dotnet test tests/CachingGen.Redis.Tests, the shared-server outage tests alone"
    dotnet test tests/CachingGen.Redis.Tests/CachingGen.Redis.Tests.csproj -c "$CONFIGURATION" --no-build \
      --results-directory "$RESULTS" \
      --logger "trx" \
      --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none \
      --filter "Category=SharedServerOutage" || DOTNET_RC=$?
  else
    log "dotnet test $SOLUTION -c $CONFIGURATION --no-build $* (results in $RESULTS)"
    dotnet test "$SOLUTION" -c "$CONFIGURATION" --no-build \
      --results-directory "$RESULTS" \
      --logger "trx" \
      --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none \
      "$@" || DOTNET_RC=$?
  fi
else
  DOTNET_RC=$?
  BUILD_FAILED=1
  log "ERROR: the build failed (see above); no test ran"
fi

# ---------------------------------------------------------------------------------------------- benchmarks (dry)

# Every benchmark case once, unmeasured, so none of them rots (the full run is too slow for CI: see
# docs/benchmarks/README.md). Needs the servers, so it runs before they stop.
BENCH_PASSED=0 BENCH_FAILED=0
if [ -z "${CACHINGGEN_SKIP_BENCHMARKS:-}" ]; then
  BENCH_LOG="$RESULTS/benchmarks-dry.log"
  log "benchmarks, dry run: dotnet run -c $CONFIGURATION --project tests/CachingGen.Benchmarks -- --dry (log: $BENCH_LOG)"
  BENCH_RC=0
  dotnet run -c "$CONFIGURATION" --project "$REPO/tests/CachingGen.Benchmarks/CachingGen.Benchmarks.csproj" -- --dry >"$BENCH_LOG" 2>&1 || BENCH_RC=$?
  BENCH_LINE="$(grep -E '^\[bench\] dry run: [0-9]+ benchmark cases passed, [0-9]+ failed' "$BENCH_LOG" | tail -n 1 || true)"
  if [ -n "$BENCH_LINE" ]; then
    BENCH_PASSED="$(sed -E 's/.*: ([0-9]+) benchmark cases passed.*/\1/' <<<"$BENCH_LINE")"
    BENCH_FAILED="$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$BENCH_LINE")"
  fi
  grep -E '^\[bench\]' "$BENCH_LOG" >&2 || true
  if [ "$BENCH_RC" -ne 0 ]; then
    [ "$BENCH_FAILED" -eq 0 ] && BENCH_FAILED=1
    log "benchmark dry run failed (exit code $BENCH_RC); the end of its log:"
    tail -n 40 "$BENCH_LOG" >&2 || true
  fi
fi

# The published report is generated from the committed results, never edited by hand: regenerating it must change
# nothing (README.md and the charts). The working tree is restored either way.
REPORT_PASSED=0 REPORT_FAILED=0
if [ -z "${CACHINGGEN_SKIP_BENCHMARKS:-}" ]; then
  REPORT_SNAPSHOT="$(mktemp -d)"
  cp -r "$REPO/docs/benchmarks/." "$REPORT_SNAPSHOT/"
  log "benchmark report: regenerating docs/benchmarks/README.md and its charts from the committed results (-- --report)"
  if dotnet run -c "$CONFIGURATION" --no-build --project "$REPO/tests/CachingGen.Benchmarks/CachingGen.Benchmarks.csproj" -- --report >"$RESULTS/benchmarks-report.log" 2>&1 \
     && diff -r "$REPORT_SNAPSHOT" "$REPO/docs/benchmarks" >"$RESULTS/benchmarks-report.diff" 2>&1; then
    REPORT_PASSED=1
  else
    REPORT_FAILED=1
    log "the committed benchmark report differs from what its results generate (edited by hand, or not regenerated): run scripts/benchmarks.sh --report and commit; the difference:"
    head -n 40 "$RESULTS/benchmarks-report.diff" >&2 || true
    tail -n 20 "$RESULTS/benchmarks-report.log" >&2 || true
  fi
  rm -rf "$REPO/docs/benchmarks"
  mkdir -p "$REPO/docs/benchmarks"
  cp -r "$REPORT_SNAPSHOT/." "$REPO/docs/benchmarks/"
  rm -rf "$REPORT_SNAPSHOT"
fi

stop_services

# ---------------------------------------------------------------------------------------------- Native AOT

AOT_PASSED=0 AOT_FAILED=0
if [ -z "${CACHINGGEN_SKIP_AOT:-}" ]; then
  if bash "$REPO/scripts/aot.sh"; then
    AOT_PASSED=1
  else
    AOT_FAILED=1
    log "Native AOT check failed (scripts/aot.sh; logs in .artifacts/aot)"
  fi
fi

# ---------------------------------------------------------------------------------------------- summary

# Sum the <Counters .../> element of every TRX (one per test project). Plain awk: no python dependency.
# skipped = total - executed (xunit's skipped tests are counted in total but not executed);
# failed  = failed + error + timeout + aborted. A run whose <ResultSummary outcome> is not a success
# although no test in it failed (test host crashed, or killed by the hang timeout: the test that was
# running is not in the counters at all) counts as one failed test.
TRX_COUNT=0
TOTAL=0 EXECUTED=0 PASSED=0 FAILED=0
while IFS= read -r -d '' trx; do
  TRX_COUNT=$((TRX_COUNT + 1))
  read -r t e p f outcome < <(awk '
    function attr(buf, name,   s) {
      if (!match(buf, "[ \t]" name "=\"[^\"]*\"")) return ""
      s = substr(buf, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/"$/, "", s); return s
    }
    /<ResultSummary[ \t>]/ && outcome == "" { outcome = attr($0, "outcome") }
    /<Counters[ \t]/ { inside = 1 }
    inside { buf = buf " " $0; if ($0 ~ />/) { inside = 0; done = 1 } }
    done && !printed {
      split("total executed passed failed error timeout aborted", names, " ")
      for (i = 1; i <= 7; i++) { v[names[i]] = attr(buf, names[i]) + 0 }
      counts = v["total"] " " v["executed"] " " v["passed"] " " (v["failed"] + v["error"] + v["timeout"] + v["aborted"])
      printed = 1
    }
    END {
      if (!printed) counts = "0 0 0 0"
      print counts, (outcome == "" ? "Unknown" : outcome)
    }' "$trx")
  log "$(basename "$trx"): total $t, executed $e, passed $p, failed $f, outcome $outcome"
  case "$outcome" in
    Completed|Passed|Warning|Inconclusive|NotExecuted) ;;
    *)
      if [ "$f" -eq 0 ]; then
        log "  run did not complete (outcome $outcome: test host crashed or hung); counting it as 1 failed test"
        f=1
      fi ;;
  esac
  TOTAL=$((TOTAL + t)); EXECUTED=$((EXECUTED + e)); PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
done < <(find "$RESULTS" -name '*.trx' -type f -print0 | sort -z)

PASSED=$((PASSED + BENCH_PASSED + REPORT_PASSED + AOT_PASSED))
FAILED=$((FAILED + BENCH_FAILED + REPORT_FAILED + AOT_FAILED + BUILD_FAILED))

SKIPPED=$((TOTAL - EXECUTED))
[ "$SKIPPED" -lt 0 ] && SKIPPED=0

RC=0
if [ "$DOTNET_RC" -ne 0 ]; then
  log "dotnet test exited with code $DOTNET_RC (failed tests, a build error or a crashed/hung test host: see above)"
  RC=1
fi
if [ "$TRX_COUNT" -eq 0 ] || [ "$EXECUTED" -eq 0 ]; then
  log "ERROR: no tests ran ($TRX_COUNT TRX files in $RESULTS)"
  RC=1
fi
[ "$FAILED" -gt 0 ] && RC=1

if [ "$SKIPPED" -gt 0 ]; then
  echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
  echo "$PASSED passed, $FAILED failed"
fi
exit "$RC"
