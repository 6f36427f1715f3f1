#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on a free loopback port for the tests, and print its
# SQLAlchemy URL. The server lives in a temporary folder and ends with the machine's session.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d /tmp/openspaces-pg.XXXXXX)
chown postgres "$data"
su postgres -s /bin/sh -c "$bin/initdb -D $data -A trust -U postgres" > "$data.initdb.log" 2>&1 \
    || { cat "$data.initdb.log" >&2; exit 1; }
su postgres -s /bin/sh -c "$bin/pg_ctl -D $data -o '-p $port -k /tmp -h 127.0.0.1' -l $data/server.log -w start" >&2
echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
