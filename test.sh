#!/usr/bin/env bash
# Runs every test. Installs what the tests need first, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (dotnet was not found on PATH)." >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test ConnectorEvents.slnx -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line in the plain form CI reads: "N passed, N failed, N skipped".
passed=$(grep -E '^\s+succeeded: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '^\s+failed: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
skipped=$(grep -E '^\s+skipped: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ]; then
  exit "$status"
fi
if [ "${passed}" = "0" ]; then
  echo "test.sh: no test ran." >&2
  exit 1
fi
