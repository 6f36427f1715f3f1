"""The openspaces command line."""

import json
import os
import stat
import subprocess
import sys

import click
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, Interest, Organizer, Placement, Sticky


def test_token_create_prints_token_on_last_line_and_it_authenticates(runner, client, event):
    result = runner.invoke("token", "create", "wall-cam")
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 32
    assert client.get("/api/manifest").status_code == 401
    assert client.get("/api/manifest", headers={"Authorization": "Bearer nope"}).status_code == 401
    response = client.get("/api/manifest", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["rooms"][0]["name"] == "Hall A"


def test_token_create_twice_same_name_is_refused(runner, event):
    runner.invoke("token", "create", "cam")
    result = runner.invoke("token", "create", "cam")
    assert result.exit_code == 1
    assert "a token called 'cam' exists already" in result.output


def test_revoked_token_is_refused(runner, client, event):
    token = runner.invoke("token", "create", "cam").stdout.strip().splitlines()[-1]
    runner.invoke("token", "revoke", "cam")
    assert (
        client.get("/api/manifest", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_manifest_lists_rooms_slots_kit_and_stickies(runner, event, create_stickies, tmp_path):
    stickies = create_stickies(2)
    out = tmp_path / "manifest.json"
    result = runner.invoke("manifest", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["corners"] == {"tl": 0, "tr": 1, "br": 2, "bl": 3}
    assert data["marker_dictionary"] == "DICT_4X4_1000"
    assert data["header_marker_offset"] == [0.0, -0.275]
    assert data["rooms"] == [
        {"name": "Hall A", "marker_id": 4, "qr": "http://localhost:5000/rooms/1"},
        {"name": "Hall B", "marker_id": 5, "qr": "http://localhost:5000/rooms/2"},
        {"name": "Terrace", "marker_id": 6, "qr": "http://localhost:5000/rooms/3"},
    ]
    assert data["slots"] == [
        {"start": "2026-09-26T10:00", "end": "2026-09-26T10:45", "marker_id": 7},
        {"start": "2026-09-26T11:00", "end": "2026-09-26T11:45", "marker_id": 8},
    ]
    codes = sorted(s.code for s in stickies)
    assert [s["code"] for s in data["stickies"]] == codes
    first = data["stickies"][0]
    assert first["qr"] == f"http://localhost:5000/s/{first['code']}"
    assert [s["marker_id"] for s in data["stickies"]] == [9, 10]
    assert len(first["marker_offset"]) == 2


def test_commands_without_event_say_how_to_load_one(runner):
    result = runner.invoke("manifest")
    assert result.exit_code == 1
    assert "no event is loaded; run `openspaces event load FILE.toml` first" in result.output


def test_admin_set_password_then_login(runner, client, event):
    result = runner.invoke("admin", "set-password", "--password", "s3cret-pass")
    assert result.exit_code == 0
    response = client.post("/auth/login", data={"username": "admin", "password": "s3cret-pass"})
    assert response.status_code == 302


def test_admin_set_password_too_short_is_refused(runner):
    result = runner.invoke("admin", "set-password", "--password", "short")
    assert result.exit_code == 1
    assert "at least 8 characters" in result.output


def test_demo_twice_duplicates_nothing(runner):
    first = runner.invoke("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    counts = [
        db.session.scalar(select(func.count(model.id)))
        for model in (Event, Sticky, Placement, Interest)
    ]
    second = runner.invoke("demo", "--no-serve")
    assert "already set up" in second.output
    db.session.remove()
    assert [
        db.session.scalar(select(func.count(m.id))) for m in (Event, Sticky, Placement, Interest)
    ] == counts
    assert counts[:3] == [1, 33, 19]


def test_demo_board_has_sessions_conflict_and_people(runner, client):
    runner.invoke("demo", "--no-serve")
    data = client.get("/api/board").get_json()
    statuses = sorted(s["status"] for s in data["stickies"])
    assert statuses.count("placed") == 14
    assert statuses.count("conflict") == 1
    assert statuses.count("off_grid") == 4


def test_demo_prints_an_organizer_password_once_and_it_logs_in(runner, client):
    first = runner.invoke("demo", "--no-serve")
    lines = first.output.splitlines()
    assert lines[0] == "Demo event created."
    prefix = "Organizer pages: http://localhost:5000/admin/ as admin, password "
    assert lines[1].startswith(prefix)
    password = lines[1].removeprefix(prefix).split(" ")[0]
    assert lines[1] == (
        f"{prefix}{password} (shown once; `openspaces admin set-password` sets another)."
    )
    assert len(password) == 16
    second = runner.invoke("demo", "--no-serve")
    assert second.output == (
        "Demo event already set up.\n"
        "Organizer pages: http://localhost:5000/admin/ with an organizer's password "
        "(`openspaces admin set-password` sets one).\n"
    )
    response = client.post("/auth/login", data={"username": "admin", "password": password})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_demo_keeps_the_password_an_organizer_set(runner, client):
    from app.services.organizers import set_password

    set_password(username="mei", password="correct horse")
    db.session.commit()
    result = runner.invoke("demo", "--no-serve", "--port", "5126")
    assert result.output.splitlines()[1] == (
        "Organizer pages: http://localhost:5126/admin/ with an organizer's password "
        "(`openspaces admin set-password` sets one)."
    )
    refused = client.post("/auth/login", data={"username": "admin", "password": "x" * 16})
    assert refused.status_code == 401
    response = client.post("/auth/login", data={"username": "mei", "password": "correct horse"})
    assert response.status_code == 302


def test_demo_in_an_instance_serving_an_event_is_refused(runner, client, event):
    result = runner.invoke("demo", "--no-serve")
    assert result.exit_code == 1
    assert result.output == (
        "Error: this instance serves the event 'pycon-india'; the demo would take its place. "
        "Run the demo in an instance folder of its own "
        "(`openspaces --instance demo-instance demo`), or serve it here with "
        "`openspaces demo --switch` (`openspaces event use pycon-india` switches back)\n"
    )
    db.session.remove()
    assert db.session.scalars(select(Event.slug)).all() == ["pycon-india"]
    assert db.session.scalar(select(func.count(Organizer.id))) == 0


def test_demo_switch_serves_the_demo_beside_the_event(runner, client, event):
    result = runner.invoke("demo", "--no-serve", "--switch")
    assert result.exit_code == 0, result.output
    assert client.get("/api/board").get_json()["event"] == "demo"
    assert runner.invoke("event", "use", "pycon-india").exit_code == 0
    assert client.get("/api/board").get_json()["event"] == "pycon-india"


@pytest.mark.parametrize(
    "command",
    [
        ("serve", "--server", "gunicorn"),
        ("serve", "--server", "waitress"),
        ("demo", "--server", "waitress"),
    ],
    ids=["serve gunicorn", "serve waitress", "demo"],
)
def test_serve_on_a_busy_port_says_so_in_one_line_naming_port(app, command):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "OPENSPACES_INSTANCE": app.instance_path}
        env.pop("OPENSPACES_DATABASE_URL", None)
        result = subprocess.run(
            [sys.executable, "-m", "app", *command, "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: port {port} on 127.0.0.1 is in use by another program; choose another with --port\n"
    )
    # The demo checks first: nothing is set up, and no password is shown for a server not started.
    db.session.remove()
    assert db.session.scalar(select(func.count(Event.id))) == 0
    assert db.session.scalar(select(func.count(Organizer.id))) == 0


def _all_commands(group, prefix=()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_every_command_and_option_has_help_text():
    from app.cli import main

    missing = []
    for path, command in _all_commands(main):
        if not command.help:
            missing.append(" ".join(path))
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert missing == []


def test_secret_key_is_created_with_mode_600(app):
    path = os.path.join(app.instance_path, "secret_key")
    # The test app gets its key from the config; a real instance writes one.
    from app import _instance_secret_key

    os.environ.pop("OPENSPACES_SECRET_KEY", None)
    key = _instance_secret_key(__import__("pathlib").Path(app.instance_path))
    assert len(key) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _instance_secret_key(__import__("pathlib").Path(app.instance_path)) == key


@pytest.mark.parametrize("package", ["scanner", "printables"])
def test_package_imports_without_flask_or_sqlalchemy(package):
    code = (
        f"import sys, {package}; "
        "bad = [m for m in ('flask', 'sqlalchemy', 'app') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_starts_without_loading_opencv():
    code = "import sys; import app.cli; print(sorted(m for m in ('cv2', 'reportlab', 'PIL') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
