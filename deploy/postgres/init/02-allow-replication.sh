#!/bin/sh
# Run once by the postgres image on a fresh data directory: lets the read replica of
# docker-compose.yml (profile "replica") stream WAL as the `trends` superuser with its password.
set -e
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
