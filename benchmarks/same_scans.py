"""Check that two environments (say OpenCV 4 and OpenCV 5) give the same scans of the same frames.

Frames come from `python -m benchmarks.scan_bench --save-frames DIR`: each PNG beside its manifest.
Run in each environment `python -m benchmarks.same_scans scan DIR -o ENV.json`, which records every
frame's placements, hidden cells and board corners; then `python -m benchmarks.same_scans compare
A.json B.json` lists every frame whose placements or hidden cells differ, and the largest
difference of a board corner in photo pixels. It exits 1 when a placement differs.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from pathlib import Path


def scan_frames(folder: Path) -> dict:
    """Return each frame's scan in `folder`: placements, hidden cells and board corners."""
    import cv2

    from scanner import Manifest, scan

    frames = {}
    for png in sorted(folder.glob("*.png")):
        manifest = Manifest.from_dict(json.loads(png.with_suffix(".manifest.json").read_text()))
        result = scan(cv2.imread(str(png)), manifest)
        frames[png.stem] = {
            "board_found": result.board_found,
            "placed": sorted([s.code, s.room, s.slot] for s in result.stickies),
            "hidden": sorted([room, slot] for room, slot in result.hidden_cells),
            "corners": result.board_quad and [list(map(float, p)) for p in result.board_quad],
        }
        print(f"{png.stem}: {len(frames[png.stem]['placed'])} stickies", file=sys.stderr)
    versions = {p: importlib.metadata.version(p) for p in ("opencv-python-headless", "numpy")}
    return {"versions": versions, "frames": frames}


def compare(a: dict, b: dict) -> tuple[list[str], float]:
    """Return the frames whose placements or hidden cells differ, and the largest corner shift."""
    differ = []
    shift = 0.0
    for name, fa in a["frames"].items():
        fb = b["frames"].get(name)
        if fb is None or (fa["placed"], fa["hidden"], fa["board_found"]) != (
            fb["placed"],
            fb["hidden"],
            fb["board_found"],
        ):
            differ.append(name)
            continue
        if fa["corners"] and fb["corners"]:
            shift = max(
                shift,
                *(
                    abs(pa - pb)
                    for qa, qb in zip(fa["corners"], fb["corners"], strict=True)
                    for pa, pb in zip(qa, qb, strict=True)
                ),
            )
    return differ, shift


def main(argv: list[str] | None = None) -> int:
    """Scan a folder of frames, or compare two environments' scans of it."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.same_scans", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_scan = sub.add_parser("scan", help="scan every frame in DIR")
    p_scan.add_argument("folder", type=Path)
    p_scan.add_argument("-o", "--output", type=Path, required=True)
    p_compare = sub.add_parser("compare", help="compare two scans of the same frames")
    p_compare.add_argument("a", type=Path)
    p_compare.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    if args.command == "scan":
        args.output.write_text(json.dumps(scan_frames(args.folder), indent=1))
        return 0
    a, b = (json.loads(p.read_text()) for p in (args.a, args.b))
    differ, shift = compare(a, b)
    stickies = sum(len(f["placed"]) for f in a["frames"].values())
    print(f"{args.a.name}: {a['versions']}")
    print(f"{args.b.name}: {b['versions']}")
    print(
        f"{len(a['frames'])} frames, {stickies} stickies: {len(differ)} frames differ; "
        f"board corners agree within {shift:.2f} px"
    )
    for name in differ:
        print(f"  differs: {name}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
