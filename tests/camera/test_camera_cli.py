"""``openspaces-camera``: the loop as a program of its own, on a machine without the web stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from camera_wall import expected, layouts

import camera

# Run the camera's command line in a fresh interpreter where the web stack cannot be imported, then
# print which of its modules got loaded anyway.
WITHOUT_WEB_STACK = """
import json, sys

WEB = {"flask", "flask_sqlalchemy", "flask_migrate", "flask_wtf", "sqlalchemy", "werkzeug", "app"}


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in WEB:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None


sys.meta_path.insert(0, NotInstalled())
from camera.cli import main

try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & WEB)))
sys.exit(code)
"""


def run_camera(*args: str, env: dict | None = None, cwd: Path | None = None):
    """Run ``openspaces-camera ARGS`` without the web stack; ``env`` adds to the environment."""
    root = Path(camera.__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_WEB_STACK, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root), **(env or {})},
        cwd=cwd,
        timeout=60,
    )


def watch_wall(server, event: dict, video: Path, spool: Path, max_scans: int, *args: str):
    """Run the camera on the wall's video, posting to ``server``, for ``max_scans`` ticks."""
    return run_camera(
        "--camera",
        str(video),
        "--post",
        server.url,
        "--token",
        event["token"],
        "--max-scans",
        str(max_scans),
        "--spool",
        str(spool),
        *args,
    )


@pytest.mark.slow
def test_camera_cli_runs_without_the_web_stack(live_server, wall_event, video, scan_ids, tmp_path):
    spool = tmp_path / "spool"
    done = watch_wall(live_server, wall_event, video, spool, 2, "--name", "hall-cam")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    lines = done.stderr.splitlines()
    assert lines[0] == f"manifest from {live_server.url}: 3 rooms, 3 slots, 4 stickies"
    assert lines[1].split("  ")[1:5] == ["seen 4", "placed 3", "off-grid 1", "hidden 0"]
    assert lines[-1] == f"2 frames, 1 scanned; 0 scans wait in {spool}"
    assert live_server.board() == expected(layouts(wall_event)[0])
    assert [s.rsplit("-", 1)[0] for s in scan_ids()] == ["hall-cam"]


def test_camera_cli_without_post_is_usage_error(tmp_path):
    done = run_camera("--camera", "0", "--token", "t", "--spool", str(tmp_path / "spool"))
    assert done.returncode == 2
    assert "--camera needs --post URL" in done.stderr
    assert json.loads(done.stdout) == []


def test_camera_minimal_install_lists_the_camera_extra():
    import re
    import tomllib

    root = Path(camera.__file__).resolve().parents[1]
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["camera"]
    docs = (root / "docs" / "camera.md").read_text()
    line = re.search(r"pip install (click .*)\n", docs).group(1)
    assert line.split() == [re.split(r"[<>=]", requirement)[0] for requirement in extra]


def test_camera_cli_server_down_honours_max_scans_and_spools(
    live_server, wall_event, video, tmp_path
):
    spool = tmp_path / "spool"
    spool.mkdir()
    manifest = {k: v for k, v in wall_event.items() if k != "token"}
    (spool / "manifest.json").write_text(json.dumps(manifest))
    live_server.stop()
    done = watch_wall(live_server, wall_event, video, spool, 3)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert [line.split(" (")[0] for line in lines[:2]] == [
        "the board is not answering",
        "no manifest from the board",
    ]
    assert [line.split("  ")[-1].split(" ")[0] for line in lines[2:5]] == [
        "spooled",
        "skipped",
        "spooled",
    ]
    assert lines[5:] == [f"3 frames, 2 scanned; 2 scans wait in {spool}"]
    assert len(list(spool.glob("[0-9]*-camera.json"))) == 2


def test_camera_cli_spools_in_the_user_cache_without_spool_option(
    live_server, wall_event, video, tmp_path
):
    cache, work = tmp_path / "cache", tmp_path / "work"
    spool = cache / "openspaces" / "camera-spool"
    spool.mkdir(parents=True)
    work.mkdir()
    manifest = {k: v for k, v in wall_event.items() if k != "token"}
    (spool / "manifest.json").write_text(json.dumps(manifest))
    live_server.stop()
    done = run_camera(
        "--camera",
        str(video),
        "--post",
        live_server.url,
        "--token",
        wall_event["token"],
        "--max-scans",
        "3",
        env={"XDG_CACHE_HOME": str(cache)},
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == f"3 frames, 2 scanned; 2 scans wait in {spool}"
    assert len(list(spool.glob("[0-9]*-camera.json"))) == 2
    assert list(work.iterdir()) == []


def test_default_spool_folder_follows_xdg_cache_home(monkeypatch, tmp_path):
    from camera.spool import default_spool_folder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_spool_folder() == tmp_path / "openspaces" / "camera-spool"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_spool_folder() == tmp_path / "home" / ".cache" / "openspaces" / "camera-spool"


@pytest.mark.slow
def test_camera_cli_server_down_without_manifest_waits_and_stops(
    live_server, wall_event, video, tmp_path
):
    live_server.stop()
    spool = tmp_path / "spool"
    done = watch_wall(live_server, wall_event, video, spool, 2)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert [line.split(" (")[0].split("  ")[-1].split(":")[0] for line in lines] == [
        "the board is not answering",
        "no-manifest",
        f"0 frames, 0 scanned; 0 scans wait in {spool}",
    ]


def test_camera_modules_import_nothing_of_the_web_stack():
    import ast

    web = {
        "flask",
        "flask_sqlalchemy",
        "flask_migrate",
        "flask_wtf",
        "sqlalchemy",
        "werkzeug",
        "app",
    }
    found = {}
    for path in sorted(Path(camera.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in web:
                    found.setdefault(path.name, []).append(name)
    assert found == {}
