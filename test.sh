#!/usr/bin/env bash
# Runs every test. Installs what the tests need first, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (dotnet was not found on PATH)." >&2
  exit 1
fi

# The PostgreSQL tests start a throw-away cluster of their own; they only need the server binaries installed.
has_postgres() {
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
# The console's browser tests drive Debian's Chromium through its ChromeDriver, at these paths; nothing is downloaded.
has_chromium() {
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]
}
missing=()
has_postgres || missing+=(postgresql)
has_chromium || missing+=(chromium chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "test.sh: installing what the tests need (apt-get install ${missing[*]})..."
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    as_root=(false)
  fi
  if ! { "${as_root[@]}" apt-get update && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends "${missing[@]}"; } || ! has_postgres || ! has_chromium; then
    if [ "${CI:-}" = "true" ]; then
      echo "test.sh: could not install ${missing[*]}; the PostgreSQL or browser tests cannot run." >&2
      exit 1
    fi
    echo "test.sh: WARNING: could not install ${missing[*]}; the PostgreSQL or browser tests will fail." >&2
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test ConnectorEvents.slnx -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The end-to-end server tests once more with every in-process server on PostgreSQL (the cluster tests already are; the
# published server and the start and stop of a process run on SQLite whatever the pass, so once is enough).
CONNECTOR_EVENTS_TEST_STORAGE=Postgres dotnet test --project tests/ConnectorEvents.Server.Tests -c Release --no-build "$@" \
  -- --filter-not-class '*ClusterTests' --filter-not-class '*PublishTests' --filter-not-class '*StartAndStopTests' 2>&1 | tee -a "$log"
status_pg=${PIPESTATUS[0]}
set -e

# One closing line in the plain form CI reads: "N passed, N failed, N skipped" (both runs added up).
sum() { grep -E "^\s+$1: [0-9]+" "$log" | grep -oE '[0-9]+' | awk '{ s += $1 } END { print s + 0 }'; }
passed=$(sum succeeded)
failed=$(sum failed)
skipped=$(sum skipped)
echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ]; then
  exit "$status"
fi
if [ "$status_pg" -ne 0 ]; then
  exit "$status_pg"
fi
if [ "${passed}" = "0" ]; then
  echo "test.sh: no test ran." >&2
  exit 1
fi
