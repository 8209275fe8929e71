#!/usr/bin/env bash
# Builds a real Ollama server from its Go module, at the version go.mod
# requires (the ollama/api client's), for the real-server tests. It is a
# test tool: CGO is on here; the OrthoCDS binary stays pure Go. The binary
# is cached in $ORTHOCDS_OLLAMA_CACHE (default ~/.cache/orthocds) and the
# build is skipped when it is there. About 15 minutes cold on 2 cores.
#
# The module zip drops Ollama's vendored headers. Debian supplies two
# (nlohmann-json3-dev, libstb-dev); miniaudio.h is the top-level file of
# trixie's miniaudio orig tarball (only its source is fetched, never a
# trixie binary), copied to /usr/include/miniaudio/.
#
# Prints the binary's path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(go list -m -f '{{.Version}}' github.com/ollama/ollama)
cache=${ORTHOCDS_OLLAMA_CACHE:-$HOME/.cache/orthocds}/ollama-$version
bin=$cache/ollama
if [ -x "$bin" ]; then
  echo "ollama $version: cached" >&2
  echo "$bin"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
need=()
[ -f /usr/include/nlohmann/json.hpp ] || need+=(nlohmann-json3-dev)
[ -f /usr/include/stb/stb_image.h ] || need+=(libstb-dev)
command -v g++ >/dev/null || need+=(g++)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
if [ ! -f /usr/include/miniaudio/miniaudio.h ]; then
  src=/etc/apt/sources.list.d/trixie-src.list
  [ -f "$src" ] || echo "deb-src http://deb.debian.org/debian trixie main" > "$src"
  apt-get update -qq
fi
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -f /usr/include/miniaudio/miniaudio.h ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get source --download-only miniaudio >/dev/null 2>&1 || true)
  orig=$(ls "$work"/miniaudio_*.orig.tar.* 2>/dev/null | head -1)
  if [ -z "$orig" ]; then
    echo "build-ollama: could not fetch trixie's miniaudio source" >&2
    exit 1
  fi
  tar -xf "$orig" -C "$work"
  header=$(find "$work" -maxdepth 2 -name miniaudio.h | head -1)
  install -D -m 644 "$header" /usr/include/miniaudio/miniaudio.h
fi

mkdir -p "$cache"
echo "ollama $version: building from the Go module (about 15 minutes on 2 cores)" >&2
GOBIN=$cache CGO_ENABLED=1 GOFLAGS= go install "github.com/ollama/ollama@$version"
"$bin" --version >&2 || true
echo "$bin"
