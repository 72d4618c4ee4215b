#!/usr/bin/env bash
# Native AOT check: publishes samples/Quickstart with PublishAot=true, fails on any warning (trim and AOT analysis
# IL2xxx/IL3xxx included), runs the native binary and checks that every strategy step ran.
#
#   scripts/aot.sh
#
# Installs the native toolchain Native AOT needs on Linux (clang, zlib1g-dev) with apt-get when missing, as
# scripts/services.sh installs the servers (root, as on CI; otherwise it says what to install). The publish takes
# about 3-6 minutes on a loaded 2-core machine (measured: see docs/benchmarks/README.md, section "Native AOT").
# Output: .artifacts/aot/quickstart (binary), .artifacts/aot/publish.log, .artifacts/aot/run.log.
# Exit code 0 only when the publish is warning-free and the binary ran every step.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/.artifacts/aot"
log() { echo "[aot] $*" >&2; }

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "ERROR: Native AOT needs ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root."
    exit 1
  fi
  log "installing ${missing[*]} (Native AOT's native toolchain)"
  apt-get update -qq >/dev/null 2>&1 || log "WARNING: apt-get update failed; trying the install anyway"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

rm -rf "$OUT"
mkdir -p "$OUT"
rid="linux-$(uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')"
start=$(date +%s)
log "dotnet publish samples/Quickstart -c Release -r $rid (the project sets PublishAot=true)"
publish_rc=0
dotnet publish "$REPO/samples/Quickstart/Quickstart.csproj" -c Release -r "$rid" \
  -o "$OUT/quickstart" >"$OUT/publish.log" 2>&1 || publish_rc=$?
seconds=$(( $(date +%s) - start ))
log "publish took ${seconds} s (exit code $publish_rc)"

# Every warning counts: trim (IL2xxx) and AOT (IL3xxx) analysis warnings from the compiler or from ILC, and any other.
# There is no list of accepted ones (MessagePack 2.5's last one is removed by the opt-in substitution, docs/aot.md).
warnings=$(grep -E ": warning [A-Z]+[0-9]+" "$OUT/publish.log" | sed -E 's/ \[[^]]*\]$//' | sort -u || true)
if [ -n "$warnings" ]; then
  log "ERROR: the Native AOT publish has warnings:"
  echo "$warnings" >&2
  exit 1
fi
if [ "$publish_rc" -ne 0 ]; then
  log "ERROR: dotnet publish failed; the end of $OUT/publish.log:"
  tail -n 30 "$OUT/publish.log" >&2
  exit 1
fi

binary="$OUT/quickstart/Quickstart"
[ -x "$binary" ] || { log "ERROR: no native binary at $binary"; exit 1; }
if file "$binary" 2>/dev/null | grep -q "ELF" && [ -e "$OUT/quickstart/Quickstart.dll" ]; then
  log "ERROR: $OUT/quickstart holds a managed Quickstart.dll: this is not a Native AOT publish"
  exit 1
fi

log "running the native quickstart"
run_rc=0
timeout 120 "$binary" >"$OUT/run.log" 2>&1 || run_rc=$?
cat "$OUT/run.log" >&2
if [ "$run_rc" -ne 0 ]; then
  log "ERROR: the native quickstart exited with code $run_rc"
  exit 1
fi

# One row per strategy (and the flusher, the pass-through), with the outcome each must show.
expect() {
  if ! grep -E -q "$1" "$OUT/run.log"; then
    log "ERROR: the native quickstart did not show: $1"
    exit 1
  fi
}
expect '\| save user 1 +\| WriteThrough +\| 0 +\| 1 +\|'
expect '\| read user 1 +\| Cached +\| 0 +\| 0 +\| 1 +\| 0 '
expect '\| bulk save users 1\.\.1000 +\| WriteAround +\| 0 +\| 1000 '
expect '\| read user 7 +\| Cached +\| 1 +\| 0 +\| 0 +\| 1 '
expect '\| 100 concurrent reads of user 8 +\| Cached +\| 1 +\|'
expect '\| update user 1 +\| WriteBack +\| 0 +\| 0 +\| 0 +\| 0 +\| 1 '
expect '\| flush write-back +\| flusher +\| 0 +\| 1 +\|.*database now has user 1: push'
expect '\| delete user 7 +\| Evict +\| 0 +\| 1 +\|'
expect '\| count rows +\| pass-through +\| 1 +\|.*999 rows'
log "OK: Native AOT publish without any warning in ${seconds} s; the native quickstart ran every strategy"
