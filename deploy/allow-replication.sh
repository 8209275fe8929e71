#!/bin/sh
# Run once by the PostgreSQL image when it creates the database: admits
# streaming-replication connections (password-checked) from the compose
# network, for the db-replica service.
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
