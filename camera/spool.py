"""Keep the scans that wait for the server in a folder, one JSON file each, oldest first.

The folder also keeps the last manifest the server gave, so that a camera started while the
server is away scans with it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

# A sticky view to send: its JPEG bytes and its score (docs/contracts.md).
View = tuple[bytes, dict]


def default_spool_folder() -> Path:
    """Return the spool folder in the user's cache: ``$XDG_CACHE_HOME/openspaces/camera-spool``.

    Without XDG_CACHE_HOME, the cache is ``~/.cache`` (``%LOCALAPPDATA%`` on Windows). A spool
    in the current folder would be left wherever the camera happened to be started.
    """
    cache = os.environ.get("XDG_CACHE_HOME", "")
    if os.name == "nt" and not cache:
        cache = os.environ.get("LOCALAPPDATA", "")
    # The XDG rule: a relative path in the variable is ignored.
    root = Path(cache) if cache and Path(cache).is_absolute() else Path.home() / ".cache"
    return root / "openspaces" / "camera-spool"


def _write_atomically(path: Path, text: str) -> None:
    # Write then rename: a crash never leaves half a file that looks complete.
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


class Spool:
    """Keep scans that wait for the server: one JSON file each, named so that they sort in order.

    A scan is named ``<unix-ms, 13 digits>-<camera>.json``. The sticky views sent with it wait in
    the folder ``<unix-ms>-<camera>.views/``: ``<CODE>.jpg`` and its score ``<CODE>.json`` each.
    Scans and views the server refused go to ``rejected/``, each beside a ``.txt`` file with the
    server's answer. ``manifest.json`` is the last manifest fetched from the server.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.rejected = self.root / "rejected"
        self.manifest_path = self.root / "manifest.json"

    def add(
        self, body: dict, *, unix_ms: int, camera: str, views: dict[str, View] | None = None
    ) -> Path:
        """Keep a scan to send, with the sticky views to send with it: code -> (JPEG, score)."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{unix_ms:013d}-{camera}.json"
        if views:
            folder = self.views_folder(path)
            folder.mkdir(exist_ok=True)
            for code, (jpeg, score) in views.items():
                (folder / f"{code}.jpg").write_bytes(jpeg)
                (folder / f"{code}.json").write_text(json.dumps(score), encoding="utf-8")
        # The scan's file comes last: once it is there, so are its views.
        _write_atomically(path, json.dumps(body, ensure_ascii=False))
        return path

    @staticmethod
    def views_folder(path: Path) -> Path:
        return path.with_suffix(".views")

    def views(self, path: Path) -> dict[str, View]:
        """Return the views kept with a scan: code -> (JPEG bytes, score); raise OSError, ValueError."""
        folder = self.views_folder(path)
        if not folder.is_dir():
            return {}
        return {
            jpeg.stem: (jpeg.read_bytes(), json.loads(jpeg.with_suffix(".json").read_text()))
            for jpeg in sorted(folder.glob("*.jpg"))
        }

    def remove(self, path: Path) -> None:
        """Forget a scan the server took, and its views."""
        shutil.rmtree(self.views_folder(path), ignore_errors=True)
        path.unlink()

    def reject_views(self, path: Path, answer: str) -> Path:
        """Move a scan's views to ``rejected/`` with the server's answer; the scan stays."""
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = self.rejected / self.views_folder(path).name
        os.replace(self.views_folder(path), target)
        target.with_suffix(".views.txt").write_text(answer + "\n", encoding="utf-8")
        return target

    def pending(self) -> list[Path]:
        """Return the scans that wait, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob("[0-9]*.json"))

    def reject(self, path: Path, answer: str) -> Path:
        """Move a scan to ``rejected/`` and write the server's answer beside it."""
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = self.rejected / path.name
        if self.views_folder(path).is_dir():
            os.replace(self.views_folder(path), self.views_folder(target))
        os.replace(path, target)
        target.with_suffix(".txt").write_text(answer + "\n", encoding="utf-8")
        return target

    def keep_manifest(self, manifest: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.manifest_path, json.dumps(manifest, ensure_ascii=False))

    def cached_manifest(self) -> tuple[dict, dt.datetime] | None:
        """Return the last manifest kept and when it was fetched (UTC), or None."""
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            mtime = self.manifest_path.stat().st_mtime
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        return data, dt.datetime.fromtimestamp(mtime, dt.UTC)
