"""The demo's links follow the address it is served on; an event's configured base_url wins.

`openspaces demo --host 0.0.0.0 --port P` runs in a subprocess; its pairing QR code is read from a
screenshot of the organizer dashboard in Chromium.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
import zxingcpp
from app_helpers import log_in

from app.cli import _lan_address
from app.extensions import db
from app.services.demo import follow_served_address, seed_demo
from app.services.events import get_current_event, load_event_file, update_event_settings
from benchmarks.demo_wall import CHROMIUM_ARGS
from benchmarks.servers import free_port

ROOT = Path(__file__).parents[2]


def test_demo_base_url_follows_the_served_address_until_an_organizer_sets_one(app):
    seed_demo(base_url="http://localhost:5000")
    event = get_current_event()
    assert event.base_url_auto is True
    assert follow_served_address(url="http://192.0.2.7:5077/") == "http://192.0.2.7:5077"
    assert event.base_url == "http://192.0.2.7:5077"
    update_event_settings(
        event=event,
        name=event.name,
        timezone=event.timezone,
        base_url="https://board.example.org",
        plain_notes=None,
    )
    assert event.base_url_auto is False
    assert follow_served_address(url="http://192.0.2.7:5078/") == "https://board.example.org"
    assert event.base_url == "https://board.example.org"


def test_event_file_base_url_is_never_replaced_by_the_served_address(app, event_file):
    event = load_event_file(event_file).event
    db.session.commit()
    assert event.base_url_auto is False
    assert follow_served_address(url="http://192.0.2.7:5077/") == "http://localhost:5000"
    assert event.base_url == "http://localhost:5000"


def test_no_event_follows_nothing(app):
    assert follow_served_address(url="http://192.0.2.7:5077/") is None


def qr_texts(png: bytes) -> list[str]:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    return [r.text for r in zxingcpp.read_barcodes(image)]


@pytest.fixture
def demo_server(tmp_path):
    """Run `openspaces demo --host 0.0.0.0 --port P`; yield P, the admin password and its output."""
    port = free_port()
    env = {**os.environ, "OPENSPACES_INSTANCE": str(tmp_path / "instance")}
    env.pop("OPENSPACES_DATABASE_URL", None)
    env["OPENSPACES_WEBHOOK_DELIVERY"] = "0"
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "demo", "--server", "waitress"]
        + ["--host", "0.0.0.0", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    try:
        while not any(line.startswith("Serving the board on") for line in lines):
            line = process.stdout.readline()
            if not line:
                pytest.fail("the demo stopped:\n" + "".join(lines))
            lines.append(line)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                    break
            except OSError:
                time.sleep(0.3)
        output = "".join(lines)
        password = re.search(r"as admin, password (\S+) ", output).group(1)
        yield port, password, output
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_demo_on_every_address_hands_out_its_lan_address_and_port(demo_server, playwright):
    port, password, output = demo_server
    lan = _lan_address()
    if lan is None:
        pytest.skip("this machine has no network address but loopback")
    assert not ipaddress.ip_address(lan).is_loopback
    served = f"http://{lan}:{port}"
    assert f"Serving the board on {served}/ with waitress" in output
    assert f"Organizer pages: {served}/admin/ as admin" in output
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, f"http://127.0.0.1:{port}", password=password)
        page.goto(f"http://127.0.0.1:{port}/admin/")
        pairing = qr_texts(page.locator(".pairing-qr svg").screenshot())
        page.goto(f"http://127.0.0.1:{port}/board?kiosk=1")
        kiosk = page.content()
    finally:
        browser.close()
    assert len(pairing) == 1
    link = urlsplit(pairing[0])
    assert (link.scheme, link.hostname, link.port, link.path) == ("http", lan, port, "/camera")
    assert link.query.startswith("pair=")
    assert f"QR code: {served}/board" in kiosk
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/board", timeout=10) as answer:
        board = json.load(answer)
    assert board["event"] == "demo"
