"""One settings object: defaults, OPENSPACES_* variables, the instance's config.py, test_config."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import fields
from pathlib import Path

import pytest

from app import create_app
from app.settings import (
    _PARTS,
    CameraSettings,
    LiveSettings,
    LoginSettings,
    NewsSettings,
    RecognitionSettings,
    ServerSettings,
    SettingError,
    StorageSettings,
    app_settings,
    configure,
)


def make(tmp_path, **config):
    return create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_MIGRATE": False, **config})


def test_settings_defaults_are_built_once_per_app(tmp_path):
    app = make(tmp_path)
    settings = app_settings(app)
    assert settings is app.extensions["openspaces.settings"]
    assert (
        settings.scan.upload_dir,
        settings.scan.picture_dir,
        settings.scan.remove_after,
        settings.scan.pictures_max_bytes,
        settings.scan.scan_workers,
        settings.scan.scan_queue,
    ) == (str(tmp_path / "uploads"), str(tmp_path / "pictures"), 3, 500 * 1024 * 1024, None, None)
    assert settings.scan.scans_store.root == tmp_path / "uploads" / "scans"
    assert settings.live == LiveSettings(streams=24, stream_seconds=55, streams_per_address=64)
    assert settings.login == LoginSettings()
    # The tests' environment turns webhook delivery off (OPENSPACES_WEBHOOK_DELIVERY=0).
    assert settings.news == NewsSettings(webhook_delivery=False)
    assert settings.camera == CameraSettings(queue_frames=60, queue_mb=150)
    assert settings.recognition == RecognitionSettings(ocr_engine="rapidocr", ocr_queue_size=500)
    assert settings.storage == StorageSettings(url=None, photo_retention_days=7)
    assert settings.server == ServerSettings(behind_proxy=False, auto_migrate=False)


def test_settings_variables_then_config_py_then_test_config(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENSPACES_LIVE_STREAMS", "7")
    monkeypatch.setenv("OPENSPACES_REMOVE_AFTER_SCANS", "5")
    monkeypatch.setenv("OPENSPACES_WEBHOOK_DELIVERY", "0")
    monkeypatch.setenv("OPENSPACES_SCAN_WORKERS", "2")
    monkeypatch.setenv("OPENSPACES_SCAN_PARAMS", '{"closeup_cells": 24}')
    monkeypatch.setenv("OPENSPACES_PUSH_SERVICE_HOSTS", "push.example.org, push2.example.org")
    (tmp_path / "config.py").write_text("REMOVE_AFTER_SCANS = 4\nOUTBOX_SETTLE_S = 1.5\n")
    app = make(tmp_path, OUTBOX_SETTLE_S=0.5)
    settings = app_settings(app)
    assert (settings.live.streams, settings.scan.remove_after, settings.scan.scan_workers) == (
        7,
        4,
        2,
    )
    assert settings.scan.scan_params == {"closeup_cells": 24}
    assert (settings.news.webhook_delivery, settings.news.outbox_settle_s) == (False, 0.5)
    assert settings.news.push_service_hosts == ("push.example.org", "push2.example.org")
    # Every setting stays readable in app.config under its key, as Flask's own keys are.
    assert (app.config["LIVE_STREAMS"], app.config["REMOVE_AFTER_SCANS"]) == (7, 4)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("OPENSPACES_LIVE_STREAMS", "many", "OPENSPACES_LIVE_STREAMS='many' does not read"),
        ("OPENSPACES_SCAN_PARAMS", "{closeup", "OPENSPACES_SCAN_PARAMS='{closeup' does not read"),
        ("OPENSPACES_CLOCK", "now", "CLOCK is set in code"),
    ],
)
def test_settings_variable_that_does_not_read_stops_the_start_naming_it(
    tmp_path, monkeypatch, name, text, says
):
    monkeypatch.setenv(name, text)
    with pytest.raises(SettingError, match=re.escape(says)):
        make(tmp_path)


def test_settings_variable_that_does_not_read_is_one_line_from_the_cli(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from app.cli import main

    monkeypatch.setenv("OPENSPACES_INSTANCE", str(tmp_path))
    monkeypatch.setenv("OPENSPACES_LIVE_STREAMS", "many")
    result = CliRunner().invoke(main, ["hooks", "list"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: OPENSPACES_LIVE_STREAMS='many' does not read as a setting: "
        "invalid literal for int() with base 10: 'many'\n"
    )


def test_settings_scan_part_follows_test_config(tmp_path):
    pictures = str(tmp_path / "elsewhere")
    app = make(tmp_path, REMOVE_AFTER_SCANS=2, PICTURE_DIR=pictures, SCAN_QUEUE=0)
    scan = app_settings(app).scan
    assert (scan.remove_after, scan.picture_dir, scan.scan_queue) == (2, pictures, 0)
    assert scan.pictures_store.root == tmp_path / "elsewhere"


def test_settings_trust_proxy_after_start_says_so_in_the_settings(tmp_path):
    from app import trust_proxy

    app = make(tmp_path)
    assert app_settings(app).server.behind_proxy is False
    trust_proxy(app)
    assert (app_settings(app).server.behind_proxy, app.config["BEHIND_PROXY"]) == (True, True)


def test_settings_configure_changes_config_and_settings_and_keeps_the_unchanged_parts(tmp_path):
    app = make(tmp_path)
    before = app_settings(app)
    after = configure(app, LIVE_STREAM_SECONDS=3, LOGIN_LIMIT_PER_ADDRESS="2 per minute")
    assert after is app_settings(app)
    assert (after.live.stream_seconds, after.login.limit_per_address) == (3, "2 per minute")
    assert (app.config["LIVE_STREAM_SECONDS"], app.config["LOGIN_LIMIT_PER_ADDRESS"]) == (
        3,
        "2 per minute",
    )
    # Code that made something from a part compares parts: the others stay the same objects.
    assert [after.scan is before.scan, after.news is before.news, after.live is before.live] == [
        True,
        True,
        False,
    ]


def test_settings_configured_after_start_reach_what_was_made_from_them(tmp_path):
    from app.live.stream import address_streams, pages_now, stream_slots
    from app.services.recognition import recogniser
    from app.services.webhooks import deliverer

    app = make(tmp_path, OCR_ENGINE="engine-not-installed")
    slots, per_address = stream_slots(app), address_streams(app)
    assert (slots._value, per_address.cap) == (24, 64)
    first = recogniser(app)
    assert (first.engine, first.queue.maxsize, deliverer(app)) == (
        "engine-not-installed",
        500,
        None,
    )
    noon = dt.datetime(2026, 9, 26, 12, 0, tzinfo=dt.UTC)
    configure(
        app,
        LIVE_STREAMS=3,
        LIVE_STREAMS_PER_ADDRESS=2,
        CLOCK=lambda: noon,
        OCR_QUEUE_SIZE=2,
        WEBHOOK_DELIVERY=True,
    )
    assert (stream_slots(app)._value, address_streams(app).cap, pages_now(app)) == (3, 2, noon)
    # The streams open then give their slots back to the old ones, not to the new.
    assert (stream_slots(app) is slots, address_streams(app) is per_address) == (False, False)
    second = recogniser(app)
    assert (second is first, second.queue.maxsize, recogniser(app) is second) == (False, 2, True)
    worker = deliverer(app)
    assert worker is not None and deliverer(app) is worker
    configure(app, OCR_ENGINE=None, WEBHOOK_DELIVERY=False)
    assert (recogniser(app), deliverer(app)) == (None, None)


# Flask's and its extensions' own keys, which app.config keeps for them.
FLASK_KEYS = {
    "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "SQLALCHEMY_ENGINE_OPTIONS",
    "RATELIMIT_STORAGE_URI",
    "MAX_CONTENT_LENGTH",
    "WTF_CSRF_ENABLED",
    "SESSION_COOKIE_SECURE",
}
# The modules that build the settings from app.config.
READERS = {"settings.py", "__init__.py", "extensions.py"}
CONFIG_READ = re.compile(r"config(?:\[|\.get\(|\.setdefault\()\s*[\"']([A-Z0-9_]+)[\"']")


def test_settings_only_the_settings_module_reads_a_setting_from_app_config():
    app_dir = Path(__file__).resolve().parents[2] / "app"
    setting_keys = {
        f.metadata["key"] for part in _PARTS.values() for f in fields(part) if "key" in f.metadata
    }
    reads = {}
    for path in sorted(app_dir.rglob("*.py")):
        relative = path.relative_to(app_dir).as_posix()
        if relative in READERS or relative.startswith("migrations/"):
            continue
        source = path.read_text()
        for key in CONFIG_READ.findall(source):
            reads.setdefault(key, []).append(relative)
        # stores_for reads STORAGE_URL, PICTURE_DIR and UPLOAD_DIR from the config it is given.
        if relative != "services/storage.py" and "stores_for(" in source:
            reads.setdefault("stores_for", []).append(relative)
    assert {key: where for key, where in reads.items() if key not in FLASK_KEYS} == {}
    assert setting_keys & FLASK_KEYS == set()
