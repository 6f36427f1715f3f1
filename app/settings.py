"""The board's settings: one object, built once in ``create_app``, handed to the services in parts.

Where a value comes from, last one wins:

1. the defaults here (``config_defaults``): every setting's own, and Flask's keys the app sets;
2. an ``OPENSPACES_<KEY>`` environment variable for any key of a setting (``OPENSPACES_LIVE_STREAMS=64``,
   ``OPENSPACES_STORAGE_URL=s3://...``), read as the default's type; ``OPENSPACES_DATABASE_URL``
   stands for ``SQLALCHEMY_DATABASE_URI``;
3. the instance's ``config.py``;
4. the mapping given to ``create_app`` (the tests': ``create_app({"REMOVE_AFTER_SCANS": 2})``).

``Settings.from_config`` then reads app.config once into frozen parts (``ScanSettings`` for scan
ingest, ``LiveSettings``, ``NewsSettings``, ...), kept at ``app.extensions["openspaces.settings"]``
(``app_settings``). Flask and its extensions read their own keys (``SECRET_KEY``, ``SQLALCHEMY_*``,
``RATELIMIT_*``, ``MAX_CONTENT_LENGTH``, ``WTF_*``, ``SESSION_*``) from app.config, and every key of a
setting stays readable there too, under its old name; but only this module reads a setting from
there (tests/app/test_app_settings.py), and ``configure`` changes settings after start.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from app.services.scanning import ScanTurns, scan_turns
from app.services.storage import FolderStorage, Storage, Stores, stores_for

EXTENSION_KEY = "openspaces.settings"


def _flag(text: str) -> bool:
    return text.strip().lower() not in ("", "0", "false", "no", "off")


def _setting(key: str, default: Any, parse: Callable[[str], Any] | None = None) -> Any:
    """Declare a setting read from ``key`` of app.config (``parse``: how its variable reads)."""
    if parse is None:
        parse = _flag if isinstance(default, bool) else type(default)
    return field(default=default, metadata={"key": key, "parse": parse})


def _optional_int(text: str) -> int | None:
    return int(text) if text.strip() else None


def _optional_str(text: str) -> str | None:
    return text or None


class SettingError(ValueError):
    """An ``OPENSPACES_<KEY>`` variable that does not read as its setting."""


def _code_only(key: str) -> Callable[[str], Any]:
    def refuse(text: str) -> Any:
        raise SettingError(f"{key} is set in code (config.py, create_app), not by OPENSPACES_{key}")

    return refuse


@dataclass(frozen=True)
class ScanSettings:
    """The instance settings that scan ingest follows, handed in by the view or the CLI."""

    # Instance-relative defaults (``<instance>/uploads``, ``<instance>/pictures``): config_defaults.
    upload_dir: str = _setting("UPLOAD_DIR", "uploads")
    # Scans in a row that must see a sticky's cell empty before the sticky comes off the board.
    remove_after: int = _setting("REMOVE_AFTER_SCANS", 3)
    keep_pending_s: float = 24 * 3600
    # Where sticky pictures go, and the most bytes one event's pictures take; None: no pictures.
    picture_dir: str | None = _setting("PICTURE_DIR", "pictures", _optional_str)
    pictures_max_bytes: int = _setting("PICTURES_MAX_BYTES", 500 * 1024 * 1024)
    # Photos worked on at once (None: one per core) and waiting beyond them (None: twice that);
    # past both a photo is refused with ScannerBusy (app.services.scanning) and answered 503.
    scan_workers: int | None = _setting("SCAN_WORKERS", None, _optional_int)
    scan_queue: int | None = _setting("SCAN_QUEUE", None, _optional_int)
    # The scanner's knobs for the photos scanned here, by name (scanner.ScanParams: the unit and
    # the reason of each there), e.g. {"closeup_cells": 24}; None: the scanner's own values.
    scan_params: Mapping[str, float] | None = _setting("SCAN_PARAMS", None, json.loads)
    # Where the scans' photos and the pictures are kept (app.services.storage); None: the folders
    # ``<upload_dir>/scans`` and ``picture_dir``.
    stores: Stores | None = None

    @classmethod
    def from_config(cls, config: Mapping) -> ScanSettings:
        """Take the settings from a Flask config; the stores as ``STORAGE_URL`` names them."""
        stores = stores_for(
            url=config.get("STORAGE_URL"),
            picture_dir=config["PICTURE_DIR"],
            upload_dir=config["UPLOAD_DIR"],
        )
        return cls(**_read(cls, config), stores=stores)

    def turns(self) -> ScanTurns:
        """Return this process's turns for working on photos, of the sizes set here."""
        return scan_turns(workers=self.scan_workers, queue=self.scan_queue)

    @property
    def scans_dir(self) -> Path:
        return Path(self.upload_dir) / "scans"

    @property
    def scans_store(self) -> Storage:
        """The store of the scans' photos, thumbnails and outlines."""
        return self.stores.scans if self.stores else FolderStorage(self.scans_dir)

    @property
    def pictures_store(self) -> Storage:
        """The store of the sticky pictures."""
        return self.stores.pictures if self.stores else FolderStorage(self.picture_dir)

    @property
    def pending_store(self) -> Storage:
        """The store of the previewed photos that wait to be applied."""
        return self.stores.pending if self.stores else FolderStorage(self.pending_dir)

    @property
    def pending_dir(self) -> Path:
        return Path(self.upload_dir) / "pending"


@dataclass(frozen=True)
class StorageSettings:
    """Where wall photos and pictures are kept, when not in the instance folder."""

    # s3://BUCKET/PREFIX, which every app machine shares, with the endpoint and credentials from
    # boto3's own AWS_* variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...); None: the instance.
    url: str | None = _setting("STORAGE_URL", None, _optional_str)
    # Wall photos show the people at the wall: `openspaces photos purge` deletes them this many
    # days after the event's last slot ends, and keeps their copies with faces blurred.
    photo_retention_days: int = _setting("PHOTO_RETENTION_DAYS", 7)


@dataclass(frozen=True)
class RecognitionSettings:
    """Title reading on new best pictures (app.services.recognition)."""

    # Read by this engine (scanner.ocr) in one low-priority child process; None reads nothing.
    ocr_engine: str | None = _setting("OCR_ENGINE", "rapidocr", _optional_str)
    # A full queue skips pictures, never waits.
    ocr_queue_size: int = _setting("OCR_QUEUE_SIZE", 500)
    # Take away what the sticky as printed shows before reading: off, since on the benchmark's
    # pictures it read no more (benchmarks/OCR.md, section 1).
    ocr_drop_print: bool = _setting("OCR_DROP_PRINT", False)


@dataclass(frozen=True)
class CameraSettings:
    """The phone camera page's queue of frames while the server is out of reach."""

    # Up to this many frames (a minute at one a second) and megabytes; the oldest go first.
    queue_frames: int = _setting("CAMERA_QUEUE_FRAMES", 60)
    queue_mb: int = _setting("CAMERA_QUEUE_MB", 150)


@dataclass(frozen=True)
class LiveSettings:
    """Live pages' streams (app.live)."""

    # Under waitress live pages hold one server thread each while they stream; past this many
    # they poll. gevent workers (`openspaces serve` with gunicorn) raise it to thousands.
    streams: int = _setting("LIVE_STREAMS", 24)
    stream_seconds: int = _setting("LIVE_STREAM_SECONDS", 55)
    # One client address holds at most this many live streams; its further pages poll. A venue
    # behind one address (its Wi-Fi's NAT) shares them: raise it there (docs/deploy.md).
    streams_per_address: int = _setting("LIVE_STREAMS_PER_ADDRESS", 64)
    # What the pages take as "now" (app.live.stream.pages_now): None, the wall clock; tests set
    # a function of their own to move it. Code only: no variable sets it.
    clock: Callable[[], dt.datetime] | None = _setting("CLOCK", None, _code_only("CLOCK"))


@dataclass(frozen=True)
class LoginSettings:
    """Rate limits (Flask-Limiter notation) and organizers' sessions."""

    # Log-in attempts count per client address, and per user name at one address.
    limit_per_address: str = _setting("LOGIN_LIMIT_PER_ADDRESS", "20 per minute; 100 per hour")
    limit_per_account_and_address: str = _setting(
        "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS", "10 per minute; 50 per hour"
    )
    # Interest marks per client address: a fresh cookie is a fresh browser, and a whole venue
    # may share an address.
    interest_limit_per_address: str = _setting("INTEREST_LIMIT_PER_ADDRESS", "120 per minute")
    # Wrong claim keys (app.services.claim_keys) per client address; past them the address gets
    # no answer about any key for the rest of the minute or hour.
    claim_key_limit_per_address: str = _setting(
        "CLAIM_KEY_LIMIT_PER_ADDRESS", "20 per minute; 100 per hour"
    )
    # An account is never locked: past this many failed log-ins to it (from any address), each
    # log-in to it waits slowdown_step_s longer per failure, up to slowdown_max_s.
    slowdown_per_account: str = _setting("LOGIN_SLOWDOWN_PER_ACCOUNT", "10 per 10 minutes")
    slowdown_step_s: float = _setting("LOGIN_SLOWDOWN_STEP_S", 0.25)
    slowdown_max_s: float = _setting("LOGIN_SLOWDOWN_MAX_S", 2.0)
    # An organizer's log-in ends after this long without a request, and this long after it
    # began, whatever its cookie says: an event day, not a month.
    session_idle_s: int = _setting("ORGANIZER_SESSION_IDLE_S", 2 * 60 * 60)
    session_max_s: int = _setting("ORGANIZER_SESSION_MAX_S", 12 * 60 * 60)


@dataclass(frozen=True)
class NewsSettings:
    """Board news (app.services.outbox) and its delivery (app.services.webhooks, push)."""

    # A sticky's news is told once it has not changed for this long (a removal: the second), so
    # that a sticky flickering in and out of view, or an undone scan, says nothing twice.
    outbox_settle_s: float = _setting("OUTBOX_SETTLE_S", 5.0)
    outbox_removal_settle_s: float = _setting("OUTBOX_REMOVAL_SETTLE_S", 60.0)
    # Web Push endpoints go to the browsers' push services only (app.services.push); more hosts
    # here (a self-hosted push service). Never a host inside the board's own network.
    push_service_hosts: tuple[str, ...] = _setting(
        "PUSH_SERVICE_HOSTS", (), lambda text: tuple(h.strip() for h in text.split(",") if h)
    )
    # One delivery thread per server process (False: none, as in the tests, which deliver by
    # hand); tries per message and hook, the wait before the second try (doubling each time),
    # and how long one try waits for an answer.
    webhook_delivery: bool = _setting("WEBHOOK_DELIVERY", True)
    webhook_max_attempts: int = _setting("WEBHOOK_MAX_ATTEMPTS", 12)
    webhook_backoff_s: float = _setting("WEBHOOK_BACKOFF_S", 5.0)
    webhook_timeout_s: float = _setting("WEBHOOK_TIMEOUT_S", 10.0)


@dataclass(frozen=True)
class ServerSettings:
    """How the app runs: behind a proxy, migrating at start."""

    # Set by `openspaces serve --behind-proxy`: trust one proxy's X-Forwarded-* headers.
    behind_proxy: bool = _setting("BEHIND_PROXY", False)
    auto_migrate: bool = _setting("AUTO_MIGRATE", True)


_PARTS = {
    "scan": ScanSettings,
    "storage": StorageSettings,
    "recognition": RecognitionSettings,
    "camera": CameraSettings,
    "live": LiveSettings,
    "login": LoginSettings,
    "news": NewsSettings,
    "server": ServerSettings,
}


@dataclass(frozen=True)
class Settings:
    """Every setting of the board, in parts; a service gets the part it needs."""

    scan: ScanSettings
    storage: StorageSettings
    recognition: RecognitionSettings
    camera: CameraSettings
    live: LiveSettings
    login: LoginSettings
    news: NewsSettings
    server: ServerSettings

    @classmethod
    def from_config(cls, config: Mapping) -> Settings:
        """Read every part from a Flask config (``config_defaults`` and what overrode them)."""
        parts = {
            name: part(**_read(part, config)) for name, part in _PARTS.items() if name != "scan"
        }
        # A storage URL without a bucket, or boto3 missing for one, fails here, at start.
        return cls(scan=ScanSettings.from_config(config), **parts)


def _keyed(part: type) -> list:
    return [f for f in fields(part) if "key" in f.metadata]


def _read(part: type, config: Mapping) -> dict:
    return {f.name: config.get(f.metadata["key"], f.default) for f in _keyed(part)}


def config_defaults(instance: Path, environ: Mapping[str, str] = os.environ) -> dict:
    """Return app.config's defaults for an instance folder: Flask's keys the app sets and every
    setting's, each setting's ``OPENSPACES_<KEY>`` variable applied."""
    defaults = {f.metadata["key"]: f.default for part in _PARTS.values() for f in _keyed(part)}
    defaults |= {"UPLOAD_DIR": str(instance / "uploads"), "PICTURE_DIR": str(instance / "pictures")}
    for part in _PARTS.values():
        for f in _keyed(part):
            key = f.metadata["key"]
            text = environ.get(f"OPENSPACES_{key}")
            if text is not None:
                defaults[key] = _parse_variable(key, text, f.metadata["parse"])
    return {**_flask_defaults(instance, environ), **defaults}


def _parse_variable(key: str, text: str, parse: Callable[[str], Any]) -> Any:
    """Return ``OPENSPACES_<key>``'s value; a value that does not read says which and why."""
    try:
        return parse(text)
    except SettingError:
        raise
    except ValueError as exc:
        raise SettingError(f"OPENSPACES_{key}={text!r} does not read as a setting: {exc}") from None


def _flask_defaults(instance: Path, environ: Mapping[str, str]) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": environ.get(
            "OPENSPACES_DATABASE_URL", f"sqlite:///{instance / 'openspaces.sqlite'}"
        ),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 30,
        # Rate limits are counted in one store that every server process shares (memory:// is
        # one process's own: `serve --workers 2` refuses it).
        "RATELIMIT_STORAGE_URI": environ.get("OPENSPACES_RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
    }


def app_settings(app) -> Settings:
    """Return the settings ``create_app`` built for ``app`` (views and the CLI hand parts on)."""
    return app.extensions[EXTENSION_KEY]


def configure(app, **changes: Any) -> Settings:
    """Change settings of a running app: in app.config, and in its settings, read afresh.

    The one way to change a setting after ``create_app`` (the tests', ``trust_proxy``). A part
    that did not change stays the same object; code that keeps what it made from a part (the
    live stream slots, the delivery worker, the title recogniser) compares the part it made it
    from with ``app_settings(app)``'s and makes it afresh when they differ.
    """
    app.config.update(changes)
    fresh = Settings.from_config(app.config)
    old = app.extensions.get(EXTENSION_KEY)
    if old is not None:
        kept = {
            name: getattr(old, name)
            for name in _PARTS
            if getattr(old, name) == getattr(fresh, name)
        }
        fresh = replace(fresh, **kept)
    app.extensions[EXTENSION_KEY] = fresh
    return fresh
