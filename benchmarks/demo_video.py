"""Make a video of the demo board's wall changing through a morning, for the webcam loop.

    openspaces demo                                   # in one terminal
    openspaces token create demo-cam                  # prints TOKEN on its last line
    python -m benchmarks.demo_video --url http://localhost:5000 --token TOKEN -o demo-wall.avi
    openspaces scan --camera demo-wall.avi --every 5 --post http://localhost:5000 --token TOKEN

--url is the address the demo serves on (`openspaces demo --port N` serves on
http://localhost:N). A board that does not answer, or refuses the token, ends the script with
one line that says so.

The video starts from the board as the server has it and then, a minute at a time: the session in
conflict moves to a free cell, a fresh sticky goes up, a session moves to another slot, a person
joins the people area, and a session is taken down. The board page follows the video.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks.photographer import Camera
from benchmarks.wall_video import Layout, Wall, write_video


class BoardUnreachable(Exception):
    """The board did not answer, or not as a board does; the message says what to do."""


def fetch(url: str, token: str | None = None) -> dict:
    """Return the JSON at ``url``; raise BoardUnreachable with a one-line reason."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise BoardUnreachable(
                f"the board at {url} refused the token; make one with "
                "`openspaces token create --replace demo-cam` and pass it with --token"
            ) from None
        raise BoardUnreachable(f"the board answered {exc.code} {exc.reason} to {url}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BoardUnreachable(
            f"no board answers at {url} ({reason}); start it with `openspaces demo`, "
            "or pass the address it serves on with --url"
        ) from None
    except ValueError:
        raise BoardUnreachable(f"{url} did not answer with JSON: is --url the board?") from None


def story(manifest: dict, board: dict) -> list[tuple[str, Layout]]:
    """Return the wall's layouts, each with a caption, starting from the board as it is."""
    rooms = [r["name"] for r in manifest["rooms"]]
    slots = [s["start"] for s in manifest["slots"]]
    layout: Layout = {}
    conflict = []
    for sticky in board["stickies"]:
        if sticky["status"] == "placed":
            layout[sticky["code"]] = (sticky["room"], sticky["slot"])
        elif sticky["status"] == "off_grid":
            layout[sticky["code"]] = (None, None)
        else:
            conflict.append(sticky["code"])
    free = [(r, s) for s in slots for r in rooms if (r, s) not in set(layout.values())]
    unused = [
        s["code"]
        for s in manifest["stickies"]
        if s["code"] not in layout and s["code"] not in conflict
    ]
    sessions = [c for c in unused if _kind(manifest, c) == "session"]
    people = [c for c in unused if _kind(manifest, c) == "person"]
    placed = [c for c, cell in layout.items() if cell[0] is not None]
    if len(free) < 3 or not sessions or not people or len(placed) < 2:
        raise SystemExit("the board is too full or too empty for the demo story")

    steps = [("the wall as the board shows it", dict(layout))]
    for code in conflict:
        layout[code] = free.pop(0)
    steps.append(("the session in conflict moves to a free cell", dict(layout)))
    layout[sessions[0]] = free.pop(0)
    steps.append(("a fresh sticky goes up", dict(layout)))
    layout[placed[0]] = free.pop(0)
    steps.append(("a session moves to another slot", dict(layout)))
    layout[people[0]] = (None, None)
    steps.append(("a person joins the people area", dict(layout)))
    del layout[placed[1]]
    steps.append(("a session is taken down", dict(layout)))
    return steps


def _kind(manifest: dict, code: str) -> str:
    return next(s["kind"] for s in manifest["stickies"] if s["code"] == code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        "--server",
        dest="url",
        default="http://localhost:5000",
        help="the board's address, as `openspaces demo` prints it (default: %(default)s)",
    )
    parser.add_argument("--token", required=True, help="a camera token (openspaces token create)")
    parser.add_argument("-o", "--output", default="demo-wall.avi", help="the video file to write")
    parser.add_argument("--seconds-each", type=float, default=60.0, help="how long each step lasts")
    args = parser.parse_args(argv)

    base = args.url.rstrip("/")
    try:
        manifest = fetch(f"{base}/api/manifest", args.token)
        board = fetch(f"{base}/api/board")
    except BoardUnreachable as exc:
        print(f"demo_video: {exc}", file=sys.stderr)
        return 1
    wall = Wall(manifest, camera=Camera.webcam_1080p(width=1280, height=720))
    photos = []
    for i, (caption, layout) in enumerate(story(manifest, board)):
        print(f"{i * args.seconds_each:5.0f} s  {caption}", file=sys.stderr)
        photos.append(wall.photo(layout, seed=i))
    write_video(Path(args.output), photos, seconds_each=args.seconds_each)
    print(f"wrote {args.output}: {len(photos)} steps of {args.seconds_each:g} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
