"""Matrix hooks against a real homeserver: Synapse from PyPI on SQLite, started by the tests.

Synapse lives in an environment of its own (its pins differ from the board's): the README's test
set-up makes ``.venv-synapse``; ``OPENSPACES_TEST_SYNAPSE_PYTHON`` names another. Without one the
tests are skipped, with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Delivery, HookFormat, utcnow
from app.services.webhooks import DeliverySettings, add_hook, deliver_due

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = DeliverySettings(settle_s=0.0, max_attempts=3, backoff_s=5.0, timeout_s=10.0)
SHARED_SECRET = "board-tests-registration-secret"


def synapse_python() -> Path | None:
    named = os.environ.get("OPENSPACES_TEST_SYNAPSE_PYTHON")
    candidate = Path(named) if named else ROOT / ".venv-synapse" / "bin" / "python"
    return candidate if candidate.exists() else None


def _call(base: str, method: str, path: str, body=None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Synapse:
    """A homeserver in a folder of its own, on a free port, with one registered account."""

    def __init__(self, python: Path, folder: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        config = folder / "homeserver.yaml"
        config.write_text(
            f"""
server_name: "board.test"
pid_file: {folder}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    resources: [{{names: [client], compress: false}}]
database:
  name: sqlite3
  args: {{database: {folder}/homeserver.db}}
media_store_path: {folder}/media
signing_key_path: {folder}/signing.key
registration_shared_secret: "{SHARED_SECRET}"
macaroon_secret_key: "board-tests-macaroon"
form_secret: "board-tests-form"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_metrics: false
rc_message: {{per_second: 100, burst_count: 100}}
"""
        )
        command = [str(python), "-m", "synapse.app.homeserver", "-c", str(config)]
        subprocess.run([*command, "--generate-keys"], check=True, capture_output=True, cwd=folder)
        self.log = (folder / "synapse.out").open("wb")
        self.process = subprocess.Popen(
            command, cwd=folder, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                _call(self.base, "GET", "/_matrix/client/versions")
                break
            except (OSError, urllib.error.URLError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    tail = (folder / "synapse.out").read_text(errors="replace")[-2000:]
                    pytest.fail(f"Synapse did not start:\n{tail}")
                time.sleep(0.3)
        self.token = self.register("boardbot", "a long test password")

    def register(self, user: str, password: str) -> str:
        """Register an account with the shared secret (Synapse's admin API); return its token."""
        nonce = _call(self.base, "GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(
            SHARED_SECRET.encode(),
            b"\x00".join([nonce.encode(), user.encode(), password.encode(), b"notadmin"]),
            hashlib.sha1,
        ).hexdigest()
        body = {"nonce": nonce, "username": user, "password": password, "mac": mac, "admin": False}
        return _call(self.base, "POST", "/_synapse/admin/v1/register", body)["access_token"]

    def new_room(self) -> str:
        return _call(self.base, "POST", "/_matrix/client/v3/createRoom", {}, self.token)["room_id"]

    def notices(self, room_id: str) -> list[dict]:
        """Return the room's notices, oldest first."""
        path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}/messages?dir=b&limit=50"
        events = _call(self.base, "GET", path, token=self.token)["chunk"]
        return [
            e["content"]
            for e in reversed(events)
            if e["type"] == "m.room.message" and e["content"].get("msgtype") == "m.notice"
        ]

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def synapse(tmp_path_factory):
    python = synapse_python()
    if python is None:
        pytest.skip("no Synapse: the README's test set-up makes .venv-synapse")
    server = Synapse(python, tmp_path_factory.mktemp("synapse"))
    yield server
    server.close()


def test_matrix_hook_posts_each_settled_change_to_a_real_room_once(
    synapse, event, post, create_session
):
    room = synapse.new_room()
    add_hook(url=synapse.base, format=HookFormat.MATRIX, room=room, token=synapse.token)
    db.session.commit()
    s = create_session(title="Maps with open data")
    body = {
        "scan_id": "cam-1",
        "board_found": True,
        "stickies": [
            {"code": s.code, "room": "Hall A", "slot": "2026-09-26T10:00", "via": "marker"}
        ],
    }
    assert post(body).status_code == 201
    now = utcnow() + dt.timedelta(seconds=1)
    assert deliver_due(settings=SETTINGS, now=now) == 1

    # A try whose answer was lost is tried again under the same transaction id: Synapse keeps one.
    db.session.execute(update(Delivery).values(delivered_dt=None, next_try_dt=now))
    db.session.commit()
    assert deliver_due(settings=SETTINGS, now=now) == 1
    assert db.session.scalars(select(Delivery.attempts)).one() == 2

    url = f"{event.base_url}/s/{s.code}"
    assert synapse.notices(room) == [
        {
            "msgtype": "m.notice",
            "body": f"New session: “Maps with open data” — Hall A, Sat 10:00–10:45 {url}",
            "m.mentions": {},
            "format": "org.matrix.custom.html",
            "formatted_body": f'New session: <a href="{url}">Maps with open data</a>'
            " — Hall A, Sat 10:00–10:45",
        }
    ]


def test_matrix_hook_with_a_wrong_token_fails_with_the_homeservers_answer(synapse, event, runner):
    room = synapse.new_room()
    result = runner.invoke(
        "hooks", "add", synapse.base, "--format", "matrix", "--room", room, "--token", "syt_wrong"
    )
    assert result.exit_code == 0, result.output
    assert runner.invoke("announce", "Doors open").exit_code == 0
    deliver_due(settings=SETTINGS, now=utcnow() + dt.timedelta(seconds=1))
    delivery = db.session.scalars(select(Delivery)).one()
    assert (delivery.attempts, delivery.last_status, delivery.delivered_dt) == (1, 401, None)
    assert synapse.notices(room) == []
