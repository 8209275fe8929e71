#!/usr/bin/env bash
# Installs pgvector into the local PostgreSQL 15 from Debian's trixie source
# package (pgvector is not packaged for bookworm). Skips when the extension is
# already available. Needs root and Debian's package mirrors.
set -euo pipefail

PG_MAJOR=${PG_MAJOR:-15}
PSQL=(psql -X -q -t -A -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-postgres}" -d postgres)

if [ "$("${PSQL[@]}" -c "select count(*) from pg_available_extensions where name = 'vector'")" = "1" ]; then
  echo "pgvector: already installed"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
src=/etc/apt/sources.list.d/trixie-src.list
if [ ! -f "$src" ]; then
  echo "deb-src http://deb.debian.org/debian trixie main" > "$src"
fi
# Never install binaries from trixie: only its source is wanted.
apt-get update -qq
apt-get install -y -qq "postgresql-server-dev-${PG_MAJOR}" make gcc dpkg-dev >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source --download-only pgvector >/dev/null
dpkg-source -x --no-check ./pgvector_*.dsc pgvector >/dev/null
cd pgvector
make -s PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" >/dev/null
make -s PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" install >/dev/null
echo "pgvector: installed $(grep -m1 default_version vector.control)"
