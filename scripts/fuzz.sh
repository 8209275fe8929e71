#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each (default 10s; CI uses this).
# New interesting inputs stay in Go's cache; copy one into the target's
# testdata/fuzz directory to keep it in the committed corpus. A failing
# input is written there by go test itself.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-10s}"
for target in patient:FuzzReader cdshooks:FuzzCall guidelines:FuzzParse predictors:FuzzReadCSV ingest:FuzzParse cases:FuzzLoad server:FuzzAPI server:FuzzCDSBoundary server:FuzzMCPToolCall; do
  pkg="${target%%:*}" name="${target##*:}"
  echo "== fuzz $pkg $name ($t)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" -fuzzminimizetime 2s "./$pkg"
done
