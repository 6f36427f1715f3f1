"""Keep the scans that wait for the server in a folder, one JSON file each, oldest first."""

from __future__ import annotations

import json
import os
from pathlib import Path


class Spool:
    """Keep scans that wait for the server: one JSON file each, named so that they sort in order.

    A file is named ``<unix-ms, 13 digits>-<camera>.json``. Scans the server refused with 422 go
    to ``rejected/`` beside a ``.txt`` file with the server's message.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.rejected = self.root / "rejected"

    def add(self, body: dict, *, unix_ms: int, camera: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{unix_ms:013d}-{camera}.json"
        partial = path.with_suffix(".part")
        # Write then rename: a crash never leaves half a scan that looks complete.
        partial.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)
        return path

    def pending(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob("*.json"))

    def reject(self, path: Path, message: str) -> Path:
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = self.rejected / path.name
        os.replace(path, target)
        target.with_suffix(".txt").write_text(message + "\n", encoding="utf-8")
        return target
