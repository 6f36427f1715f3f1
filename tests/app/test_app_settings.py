"""One settings object: defaults, OPENSPACES_* variables, the instance's config.py, test_config."""

from __future__ import annotations

from app import create_app
from app.settings import (
    CameraSettings,
    LiveSettings,
    LoginSettings,
    NewsSettings,
    RecognitionSettings,
    ServerSettings,
    StorageSettings,
    app_settings,
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
