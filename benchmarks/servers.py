"""What the web benchmarks share for their servers: a free loopback port, a throwaway database."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def throwaway_postgres(server_url: str, *, prefix: str) -> tuple[str, Callable[[], None]]:
    """Create an empty database on the PostgreSQL server at `server_url`; return its URL and a
    function that drops it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop
