#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1:54329 for the tests, and print its SQLAlchemy URL.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
data=$(mktemp -d /tmp/openspaces-pg.XXXXXX)
chown postgres "$data"
su postgres -s /bin/sh -c "$bin/initdb -D $data -A trust -U postgres" > "$data.initdb.log" 2>&1 \
    || { cat "$data.initdb.log" >&2; exit 1; }
su postgres -s /bin/sh -c "$bin/pg_ctl -D $data -o '-p 54329 -k /tmp -h 127.0.0.1' -l $data/server.log -w start" >&2
echo "postgresql+psycopg://postgres@127.0.0.1:54329/postgres"
