#!/usr/bin/env bash
# Starts a streaming read replica of the local PostgreSQL (127.0.0.1:5432)
# as a second cluster on this machine, for the replica tests:
#   pg_basebackup -R of the primary into $DIR, then postgres on $PORT.
# Idempotent: an already running replica is left alone. Prints the
# replica's URL on the last line. Needs root (it runs PostgreSQL's tools as
# the postgres user and lets local replication connections in).
#   DIR  data directory (default /var/lib/postgresql/orthocds-replica)
#   PORT port (default 5433)
set -euo pipefail
DIR="${DIR:-/var/lib/postgresql/orthocds-replica}"
PORT="${PORT:-5433}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_pg() { su postgres -s /bin/bash -c "$*"; }

if pg_isready -q -h 127.0.0.1 -p "$PORT"; then
  echo "postgres://postgres@127.0.0.1:$PORT/postgres"
  exit 0
fi
# The primary must admit replication connections from this machine.
HBA="$(psql -h 127.0.0.1 -U postgres -Atc 'show hba_file')"
if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$HBA"; then
  echo "host replication all 127.0.0.1/32 trust" >> "$HBA"
  psql -h 127.0.0.1 -U postgres -Atc 'select pg_reload_conf()' >/dev/null
fi
if [ ! -f "$DIR/standby.signal" ]; then
  rm -rf "$DIR"
  as_pg "$BIN/pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D '$DIR' -R -X stream -c fast" >&2
fi
# Debian keeps a cluster's configuration outside its data directory; the
# replica gets its own: this port, local connections only, the primary's
# access rules.
if [ ! -f "$DIR/postgresql.conf" ]; then
  cat > "$DIR/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '/tmp'
hot_standby = on
hba_file = '$DIR/pg_hba.conf'
CONF
  cp "$HBA" "$DIR/pg_hba.conf"
  chown postgres:postgres "$DIR/postgresql.conf" "$DIR/pg_hba.conf"
fi
as_pg "$BIN/pg_ctl -D '$DIR' -l '$DIR/log' -w start" >&2
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
