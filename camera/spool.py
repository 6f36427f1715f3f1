"""Keep the scans that wait for the server in a folder, one JSON file each, oldest first.

The folder also keeps the last manifest the server gave, so that a camera started while the
server is away scans with it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path


def _write_atomically(path: Path, text: str) -> None:
    # Write then rename: a crash never leaves half a file that looks complete.
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


class Spool:
    """Keep scans that wait for the server: one JSON file each, named so that they sort in order.

    A scan is named ``<unix-ms, 13 digits>-<camera>.json``. Scans the server refused go to
    ``rejected/``, each beside a ``.txt`` file with the server's answer. ``manifest.json`` is the
    last manifest fetched from the server.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.rejected = self.root / "rejected"
        self.manifest_path = self.root / "manifest.json"

    def add(self, body: dict, *, unix_ms: int, camera: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{unix_ms:013d}-{camera}.json"
        _write_atomically(path, json.dumps(body, ensure_ascii=False))
        return path

    def pending(self) -> list[Path]:
        """Return the scans that wait, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob("[0-9]*.json"))

    def reject(self, path: Path, answer: str) -> Path:
        """Move a scan to ``rejected/`` and write the server's answer beside it."""
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = self.rejected / path.name
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
