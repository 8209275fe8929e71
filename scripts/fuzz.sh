#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each (default 10s; CI uses this).
# New interesting inputs stay in Go's cache; copy one into the target's
# testdata/fuzz directory to keep it in the committed corpus. A failing
# input is written there by go test itself.
#
# Go's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" when -fuzztime runs out while a worker is busy
# (go.dev/issue/75804). Go 1.27 narrows that window, so the fuzz runs, and
# only they, take Go 1.27.3 from the module proxy; minimising an interesting
# input is bounded to two seconds, so the run is spent fuzzing. A target
# that still fails that way, with no failing input written, is run once
# more: a real failure writes its input and fails both times.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${FUZZ_GOTOOLCHAIN:-go1.27.3}"
t="${FUZZTIME:-10s}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for target in patient:FuzzReader cdshooks:FuzzCall guidelines:FuzzParse predictors:FuzzReadCSV ingest:FuzzParse cases:FuzzLoad server:FuzzAPI server:FuzzCDSBoundary server:FuzzMCPToolCall; do
  pkg="${target%%:*}" name="${target##*:}"
  echo "== fuzz $pkg $name ($t, $(go env GOVERSION))"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" -fuzzminimizetime 2s "./$pkg" 2>&1 | tee "$out"; then
    if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
      echo "== fuzz $pkg $name: the coordinator stopped on its own deadline with no failing input (go.dev/issue/75804); once more"
      go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" -fuzzminimizetime 2s "./$pkg"
    else
      exit 1
    fi
  fi
done
