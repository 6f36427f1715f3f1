"""The ``openspaces`` command line: set up an event, print, scan, and serve the board."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from app.cli.common import fail_on_service_error, pass_app, with_event
from app.extensions import db as database
from app.services.demo import follow_served_address
from app.services.text import plural


def _read_timeout_s(default: int = 10) -> int:
    """Return OPENSPACES_READ_TIMEOUT_S, whole seconds of at least 1, or ``default`` unset."""
    value = os.environ.get("OPENSPACES_READ_TIMEOUT_S", "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(
            f"Error: OPENSPACES_READ_TIMEOUT_S must be whole seconds of at least 1, not {value!r}."
        )
    return int(value)


# A client must send something at least this often while its request's headers and body come
# in, and a kept-alive connection waits this long for its next request; then it is closed. Both
# servers, each in its own way (waitress's channel_timeout, app.gevent_worker for gunicorn).
# OPENSPACES_READ_TIMEOUT_S sets it for a venue whose network is slow.
READ_TIMEOUT_S = _read_timeout_s()

# Connections one server process holds at once: every open live page keeps one, every phone
# between two requests may keep one alive, and a slow or idle one must not shut out the next.
CONNECTIONS = 5000

# waitress settings for `serve` and `demo`. The lookahead keeps reading a connection while its
# request runs, so that a live page's stream notices at once when the phone goes away. Forwarded
# headers reach the app, which alone decides whether to trust them (only with --behind-proxy).
# poll() instead of select(), which stops at 1024 open files. Every 2 seconds waitress closes the
# connections that sent and received nothing for READ_TIMEOUT_S without a request running: idle
# keep-alives and requests whose headers or body stopped coming.
WAITRESS_OPTIONS = {
    "channel_request_lookahead": 4,
    "clear_untrusted_proxy_headers": False,
    "ident": "openspaces",
    "connection_limit": CONNECTIONS,
    "channel_timeout": READ_TIMEOUT_S,
    "cleanup_interval": 2,
    "asyncore_use_poll": True,
}
# waitress threads kept from live streams: for pages, and for photos scanning or waiting their
# turn (app.services.scanning: one per core, and twice that waiting).
WAITRESS_THREADS_NOT_STREAMING = 16


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--instance",
    envvar="OPENSPACES_INSTANCE",
    type=click.Path(file_okay=False),
    help="Instance folder with the database, secret key and uploads "
    "[env OPENSPACES_INSTANCE; default ./instance].",
)
@click.version_option(package_name="openspaces")
@click.pass_context
def main(ctx: click.Context, instance: str | None) -> None:
    """Open Spaces board: printed stickies, a wall scanner and a live schedule."""
    ctx.obj = {"instance": instance}


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@pass_app
def db_upgrade(app) -> None:
    """Apply every pending migration (the server also does this when it starts)."""
    from app.db import upgrade_database

    with app.app_context():
        upgrade_database()
    click.echo("Database is up to date.")


@main.group()
def event() -> None:
    """Set up the event: rooms and time slots."""


@event.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--new-event",
    is_flag=True,
    help="FILE is a second event, with a slug of its own: create it and serve it instead of "
    "the current one (`openspaces event use SLUG` switches back).",
)
@pass_app
@fail_on_service_error
def event_load(app, file: str, new_event: bool) -> None:
    """Create or update the event from FILE.toml. Loading the same file twice changes nothing.

    The instance serves one event. A file with another slug than the served event's is refused
    unless --new-event asks for a second event.
    """
    from app.extensions import db as database
    from app.services.events import load_event_file

    with app.app_context():
        report = load_event_file(file, new_event=new_event)
        database.session.commit()
        event = report.event
        if report.changes:
            for change in report.changes:
                click.echo(f"  {change}")
        else:
            click.echo("  no changes")
        click.echo(
            f"Event {event.slug!r}: {plural(len(event.rooms), 'room')}, "
            f"{plural(len(event.slots), 'slot')} "
            f"({event.timezone})."
        )


@event.command("list")
@pass_app
def event_list(app) -> None:
    """List every event in this instance; the one it serves is marked with *."""
    from app.services.events import get_current_event, list_events

    with app.app_context():
        served = get_current_event()
        events = list_events()
        if not events:
            click.echo("No event yet; run `openspaces event load FILE.toml`.")
        for item in events:
            mark = "*" if item is served else " "
            click.echo(f"{mark} {item.slug}\t{item.name}")


@event.command("use")
@click.argument("slug")
@pass_app
@fail_on_service_error
def event_use(app, slug: str) -> None:
    """Serve the event SLUG from now on: the board, camera scans and printing all use it."""
    from app.extensions import db as database
    from app.services.events import use_event

    with app.app_context():
        event = use_event(slug=slug)
        database.session.commit()
        click.echo(f"Serving the event {event.slug!r}: {event.name}.")


@event.command("show")
@pass_app
@with_event
def event_show(app, event) -> None:
    """Show the current event's rooms and slots."""
    click.echo(f"{event.name} ({event.slug}), {event.timezone}, QR codes point to {event.base_url}")
    click.echo("Rooms:")
    for room in event.rooms:
        seats = f", {plural(room.capacity, 'seat')}" if room.capacity is not None else ""
        click.echo(f"  {room.position + 1}. {room.name}{seats} (marker {room.marker_id})")
    click.echo("Slots:")
    for slot in event.slots:
        click.echo(f"  {slot.key} {slot.label} (marker {slot.marker_id})")


@main.group()
def admin() -> None:
    """Organizer accounts."""


@admin.command("set-password")
@click.option("--username", default="admin", show_default=True, help="The organizer's user name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="OPENSPACES_ADMIN_PASSWORD",
    help="The new password (asked for when not given) [env OPENSPACES_ADMIN_PASSWORD].",
)
@pass_app
@fail_on_service_error
def admin_set_password(app, username: str, password: str) -> None:
    """Set an organizer's password, creating the organizer if needed."""
    from app.extensions import db as database
    from app.services.organizers import set_password

    with app.app_context():
        set_password(username=username, password=password)
        database.session.commit()
    click.echo(f"Password set for {username!r}. Log in at /auth/login.")


@admin.command("logout-all")
@pass_app
def admin_logout_all(app) -> None:
    """End every organizer's log-in sessions: each browser must log in again."""
    from app.extensions import db as database
    from app.services.organizers import end_sessions

    with app.app_context():
        ended = end_sessions()
        database.session.commit()
    click.echo(f"Ended {plural(ended, 'organizer session')}.")


@main.group()
def token() -> None:
    """API tokens for wall cameras."""


@token.command("create")
@click.argument("name")
@click.option(
    "--replace",
    is_flag=True,
    help="If a live token has this name, revoke it and create a new one in its place.",
)
@pass_app
@fail_on_service_error
def token_create(app, name: str, replace: bool) -> None:
    """Create a camera token called NAME. The token is printed once, on the last line.

    The name of a revoked token can be used again.
    """
    from app.extensions import db as database
    from app.services.organizers import create_token

    with app.app_context():
        _, secret = create_token(name=name, replace=replace)
        database.session.commit()
    click.echo(f"Token {name!r} created. Keep it secret; it is not shown again:", err=True)
    click.echo(secret)


@token.command("list")
@pass_app
def token_list(app) -> None:
    """List camera tokens and when they were last used."""
    from app.services.organizers import list_tokens

    with app.app_context():
        for item in list_tokens():
            state = "revoked" if item.revoked_dt else f"last used {item.last_used_dt or 'never'}"
            click.echo(f"{item.name}\t{state}")


@token.command("revoke")
@click.argument("name")
@pass_app
@fail_on_service_error
def token_revoke(app, name: str) -> None:
    """Revoke the camera token called NAME."""
    from app.extensions import db as database
    from app.services.organizers import revoke_token

    with app.app_context():
        revoke_token(name=name)
        database.session.commit()
    click.echo(f"Token {name!r} revoked.")


@main.group()
def board() -> None:
    """Inspect and repair the board state."""


@board.command("rebuild")
@pass_app
@with_event
def board_rebuild(app, event) -> None:
    """Recompute where every sticky is from the placement history."""
    from app.extensions import db as database
    from app.services.board import rebuild_from_history

    differed = rebuild_from_history(event)
    database.session.commit()
    click.echo(f"Board rebuilt from its history: {plural(differed, 'sticky')} corrected.")


@main.command("manifest")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    show_default=True,
    help="Where to write the manifest JSON ('-' for standard output).",
)
@pass_app
@with_event
def manifest(app, event, output: str) -> None:
    """Write the scanner's manifest: rooms, slots, kit cards and every issued sticky."""
    from app.services.manifest import build_manifest

    data = json.dumps(build_manifest(event), indent=1, ensure_ascii=False)
    if output == "-":
        click.echo(data)
        return
    try:
        Path(output).write_text(data + "\n", encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    stickies = plural(len(json.loads(data)["stickies"]), "sticky")
    click.echo(f"Manifest with {stickies} written to {output}.")


def _serve_options(func):
    @click.option(
        "--host",
        default="127.0.0.1",
        show_default=True,
        help="Address to listen on; 0.0.0.0 lets phones on the same network in.",
    )
    @click.option(
        "--port",
        default=5000,
        show_default=True,
        type=click.IntRange(1, 65535),
        help="Port to listen on.",
    )
    @click.option(
        "--threads",
        default=48,
        show_default=True,
        type=click.IntRange(WAITRESS_THREADS_NOT_STREAMING + 1, 512),
        help=f"waitress's threads. Live pages stream changes on all but "
        f"{WAITRESS_THREADS_NOT_STREAMING} of them; pages beyond that poll instead.",
    )
    @click.option(
        "--server",
        type=click.Choice(["auto", "gunicorn", "waitress"]),
        default="auto",
        show_default=True,
        help="auto: gunicorn with gevent workers where installed (Linux, macOS), so that every "
        "live page streams without a thread of its own; waitress otherwise.",
    )
    @click.option(
        "--workers",
        default=1,
        show_default=True,
        type=click.IntRange(1, 64),
        help="Server processes (gunicorn only). Several need PostgreSQL; a change made through "
        "one reaches the live pages of all.",
    )
    @click.option(
        "--behind-proxy",
        is_flag=True,
        envvar="OPENSPACES_BEHIND_PROXY",
        help="Trust one reverse proxy's X-Forwarded-For/-Proto/-Host headers (for HTTPS in "
        "front); only when the proxy alone can reach this port [env OPENSPACES_BEHIND_PROXY].",
    )
    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapped


def _gunicorn_available() -> bool:
    import importlib.util
    import os

    return os.name == "posix" and all(
        importlib.util.find_spec(name) is not None for name in ("gunicorn", "gevent")
    )


def _check_port(host: str, port: int) -> None:
    """Stop with one line naming --port when the server could not listen on ``host:port``.

    Both servers fail late and at length on a busy port (gunicorn retries for seconds, printing
    a line each time); a test bind says it before anything starts.
    """
    import errno
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise click.ClickException(
            f"--host {host} is not a name or address this machine knows; try --host 127.0.0.1"
        ) from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            # As both servers do, so that connections closing on the port do not count as busy.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise click.ClickException(
                        f"port {port} on {host} is in use by another program; "
                        "choose another with --port"
                    ) from None
                if exc.errno == errno.EACCES:
                    raise click.ClickException(
                        f"no permission to listen on port {port}; choose a port above 1023 "
                        "with --port"
                    ) from None
                raise click.ClickException(
                    f"cannot listen on {host} port {port}: {exc.strerror}; "
                    "choose another --host or --port"
                ) from None


def _open_files_for(connections: int) -> int:
    """Raise this process's open-file limit towards ``connections`` and some to spare.

    Return how many connections fit: a server past its limit fails to accept, so the limit, not
    the wish, decides. Children (gunicorn after exec) inherit it.
    """
    import resource

    spare = 200  # database connections, files, the listening socket, pipes
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + spare
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return connections
    return max(100, min(connections, soft - spare))


def _shown_url(host: str, port: int) -> str:
    """Return the address the board is served on: a LAN address when it listens on every one."""
    if host in ("0.0.0.0", "::", ""):
        shown = _lan_address() or "localhost"
    elif host in ("127.0.0.1", "::1", "localhost"):
        shown = "localhost"
    else:
        shown = host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _lan_address() -> str | None:
    """Return this machine's address on its network (the one its default route leaves from)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            # A UDP "connect" sends nothing: it only picks the route, and so the local address.
            probe.connect(("198.51.100.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def _follow_served_address(app, url: str) -> None:
    """Point an automatic base URL (the demo's) at ``url``; say where the links lead otherwise."""
    with app.app_context():
        base = follow_served_address(url=url)
        database.session.commit()
    if base is not None and base != url.rstrip("/"):
        click.echo(f"QR codes and links point to {base}, the event's base_url.")


def _serve(
    app,
    *,
    host: str,
    port: int,
    threads: int,
    behind_proxy: bool = False,
    server: str = "auto",
    workers: int = 1,
) -> None:
    from app import trust_proxy

    _check_port(host, port)
    if server == "auto":
        server = "gunicorn" if _gunicorn_available() else "waitress"
    elif server == "gunicorn" and not _gunicorn_available():
        raise click.ClickException(
            "gunicorn with gevent is not installed: pip install 'openspaces[server]' (Linux, macOS)"
        )
    if workers > 1 and server != "gunicorn":
        raise click.ClickException(
            "--workers needs gunicorn: pip install 'openspaces[server]' (Linux, macOS)"
        )
    from app.extensions import shared_limits_problem

    problem = shared_limits_problem(app, workers=workers)
    if problem:
        raise click.ClickException(problem)
    if workers > 1 and app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        click.echo(
            "Several workers on SQLite take turns to write; PostgreSQL is the database for that."
        )
    if behind_proxy:
        trust_proxy(app)
        click.echo("Trusting X-Forwarded-* headers from one reverse proxy.")
    url = _shown_url(host, port)
    _follow_served_address(app, url)
    connections = _open_files_for(CONNECTIONS)
    if connections < CONNECTIONS:
        click.echo(
            f"The open-file limit (ulimit -n) lets the server hold {connections} connections, "
            f"not {CONNECTIONS}: raise it for a big event."
        )
    if server == "gunicorn":
        click.echo(
            f"Serving the board on {url} with gunicorn, "
            f"{plural(workers, 'gevent worker')}: every live page streams  (Ctrl+C to stop)"
        )
        _exec_gunicorn(
            app,
            host=host,
            port=port,
            workers=workers,
            behind_proxy=behind_proxy,
            connections=connections,
        )
    from waitress import serve as waitress_serve

    from app.settings import configure

    streams = threads - WAITRESS_THREADS_NOT_STREAMING
    # Each streaming page holds a thread: the threads left over for pages are the stream slots.
    configure(app, LIVE_STREAMS=streams)
    click.echo(
        f"Serving the board on {url} with waitress, {threads} threads: "
        f"{streams} live pages stream, more poll  (Ctrl+C to stop)"
    )
    options = {
        **WAITRESS_OPTIONS,
        "connection_limit": connections,
        # waitress keeps a body whole before the app reads it: no bigger than the app takes.
        "max_request_body_size": app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024,
    }
    waitress_serve(app, host=host, port=port, threads=threads, **options)


def _exec_gunicorn(
    app, *, host: str, port: int, workers: int, behind_proxy: bool, connections: int
) -> None:
    """Replace this process with gunicorn serving ``app.wsgi`` on gevent workers.

    Each worker creates its own app after gevent has patched the standard library, so that locks
    and sleeps in the app yield to other requests instead of blocking the worker. The workers
    (app.gevent_worker) give each read from a client READ_TIMEOUT_S, and --keep-alive gives a
    request's headers as long, counted from the connection or the answer before.
    """
    import os

    env = {
        **os.environ,
        "OPENSPACES_INSTANCE": app.instance_path,
        "OPENSPACES_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "OPENSPACES_LIVE_STREAMS": str(max(1, connections - 100)),
        "OPENSPACES_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
        # Up to 30 database connections per worker (10 kept open); SQLite ignores it.
        "OPENSPACES_DB_POOL_SIZE": os.environ.get("OPENSPACES_DB_POOL_SIZE", "10"),
    }
    if behind_proxy:
        env["OPENSPACES_BEHIND_PROXY"] = "1"
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "app.gevent_worker.ReadDeadlineWorker",
        "--workers",
        str(workers),
        "--worker-connections",
        str(connections),
        "--bind",
        bind,
        "--keep-alive",
        str(READ_TIMEOUT_S),
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "app.wsgi:application",
    ]
    sys.stdout.flush()
    os.execve(sys.executable, argv, env)


@main.command("serve")
@_serve_options
@pass_app
def serve(app, **serve_options) -> None:
    """Serve the web app: gunicorn with gevent workers where installed, waitress otherwise."""
    _serve(app, **serve_options)


@main.command("demo")
@_serve_options
@click.option("--no-serve", is_flag=True, help="Set up the demo event and exit without serving.")
@click.option(
    "--switch",
    is_flag=True,
    help="Serve the demo even though this instance serves another event "
    "(`openspaces event use SLUG` switches back).",
)
@pass_app
@fail_on_service_error
def demo(app, no_serve: bool, switch: bool, **serve_options) -> None:
    """Set up a demo event with sessions, people and a filled board, then serve it.

    The first run also creates the organizer "admin" and prints its password once, unless the
    instance has an organizer already. An instance that serves another event is left alone
    unless --switch is given.
    """
    from app.extensions import db as database
    from app.services.demo import seed_demo
    from app.services.organizers import create_first_organizer

    url = _shown_url(serve_options["host"], serve_options["port"])
    if not no_serve:
        # Before anything is created: the password is shown once, and a busy port must not eat it.
        _check_port(serve_options["host"], serve_options["port"])
    with app.app_context():
        created = seed_demo(base_url=url.rstrip("/"), switch=switch)
        password = create_first_organizer(username="admin")
        database.session.commit()
    click.echo("Demo event created." if created else "Demo event already set up.")
    if password is not None:
        click.echo(
            f"Organizer pages: {url}admin/ as admin, password {password} "
            "(shown once; `openspaces admin set-password` sets another)."
        )
    else:
        click.echo(
            f"Organizer pages: {url}admin/ with an organizer's password "
            "(`openspaces admin set-password` sets one)."
        )
    if not no_serve:
        _serve(app, **serve_options)


def _register_optional_commands() -> None:
    # Printing and scanning bring heavy imports; their modules load them only when a command runs.
    from app.cli import hooks_cmd, notes_cmd, photos_cmd, print_cmd, scan_cmd

    main.add_command(print_cmd.print_group)
    main.add_command(scan_cmd.scan)
    main.add_command(notes_cmd.notes)
    main.add_command(photos_cmd.photos)
    main.add_command(hooks_cmd.hooks)
    main.add_command(hooks_cmd.announce)


_register_optional_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
