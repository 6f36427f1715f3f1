"""Measure what the wall camera does on its own machine for each frame, and what it sends.

For each condition the photographer films one board several times (the same wall, fresh noise and
jitter per seed) and the camera's steps run on every frame: the change test's thumbnail, the scan,
cutting the stickies' views and encoding them as JPEG. The first frame sends every view; each later
frame sends only the views that beat the best sent for that sticky by `camera.views.VIEW_GAIN`, as
the loop does (it sends at most `camera.views.MAX_VIEWS_PER_SCAN` with one scan, the rest with the next
ones). Times are CPU milliseconds with OpenCV on one thread, medians over the frames: the machine's
other work does not count.

    python -m benchmarks.camera_bench               # 4 frames per condition, about a minute
    python -m benchmarks.camera_bench --frames 2    # a smoke test
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.photographer import (
    BoardSpec,
    Camera,
    make_board,
    photograph,
)

RESULTS = Path(__file__).with_name("CAMERA.md")


@dataclass(frozen=True)
class Condition:
    name: str
    spec: BoardSpec
    camera: Camera


CONDITIONS = (
    Condition(
        "1080p webcam, 5 x 6 board, 20 stickies",
        BoardSpec.grid(5, 6, n_stickies=20),
        Camera.webcam_1080p(),
    ),
    Condition(
        "1080p webcam at 20 deg, 2 people in front",
        BoardSpec.grid(5, 6, n_stickies=20),
        Camera.webcam_1080p(yaw_deg=20.0, people=2),
    ),
    Condition(
        "1080p webcam, 8 x 8 board, 40 stickies",
        BoardSpec.grid(8, 8, n_stickies=40),
        Camera.webcam_1080p(),
    ),
    Condition(
        "12 MP phone, 5 x 6 board, 20 stickies",
        BoardSpec.grid(5, 6, n_stickies=20),
        Camera.phone_12mp(),
    ),
)


def _ms(started: float) -> float:
    return (time.process_time() - started) * 1000


def run_condition(condition: Condition, frames: int) -> dict:
    """Run the camera's per-frame steps on `frames` photos of one board; return the figures."""
    import cv2

    import scanner
    from camera.frames import thumbnail
    from camera.views import VIEW_GAIN, VIEW_JPEG_QUALITY

    cv2.setNumThreads(1)
    board = make_board(condition.spec, seed=1)
    manifest = scanner.Manifest.from_dict(board.manifest)
    times = {"thumbnail": [], "scan": [], "cut": [], "jpeg": []}
    views_cut, view_bytes, sent_per_frame, all_bytes = [], [], [], 0
    best_sent: dict[str, float] = {}
    for seed in range(1, frames + 1):
        image = photograph(board, condition.camera, seed=seed).image
        started = time.process_time()
        thumbnail(image)
        times["thumbnail"].append(_ms(started))
        started = time.process_time()
        result = scanner.scan(image, manifest)
        times["scan"].append(_ms(started))
        started = time.process_time()
        views = scanner.cut_views(image, manifest, result)
        times["cut"].append(_ms(started))
        started = time.process_time()
        jpegs = {view.code: view.jpeg(VIEW_JPEG_QUALITY) for view in views}
        times["jpeg"].append(_ms(started))
        views_cut.append(len(views))
        view_bytes += [len(data) for data in jpegs.values()]
        sent = [v for v in views if v.score.quality > best_sent.get(v.code, 0.0) * VIEW_GAIN]
        for view in sent:
            best_sent[view.code] = view.score.quality
        if seed == 1:
            all_bytes = sum(len(data) for data in jpegs.values())
        else:
            sent_per_frame.append(len(sent))
    return {
        "condition": condition.name,
        "size": f"{condition.camera.width} x {condition.camera.height}",
        "views": statistics.median(views_cut),
        "kb_per_view": statistics.median(view_bytes) / 1000 if view_bytes else 0.0,
        "all_kb": all_bytes / 1000,
        "resent": sum(sent_per_frame) / max(len(sent_per_frame), 1),
        **{f"{k}_ms": statistics.median(v) for k, v in times.items()},
    }


def table(rows: list[dict], frames: int) -> str:
    lines = [
        f"| condition ({frames} frames each) | frame | thumbnail ms | scan ms | cut views ms | "
        "JPEG ms | views | kB per view | all views kB | views sent again per frame |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['condition']} | {r['size']} | {r['thumbnail_ms']:.1f} | {r['scan_ms']:.0f} | "
            f"{r['cut_ms']:.0f} | {r['jpeg_ms']:.1f} | {r['views']:.0f} | {r['kb_per_view']:.1f} | "
            f"{r['all_kb']:.0f} | {r['resent']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4, help="photos per condition (default 4)")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    args = parser.parse_args(argv)
    rows = []
    for condition in CONDITIONS:
        rows.append(run_condition(condition, args.frames))
        print(table(rows[-1:], args.frames).splitlines()[-1], flush=True)
    text = table(rows, args.frames)
    print(text)
    if not args.no_write:
        RESULTS.write_text(
            "# The wall camera's work per frame\n\n"
            "`python -m benchmarks.camera_bench` (benchmarks/camera_bench.py): the photographer's "
            "board filmed with fresh noise per frame; CPU ms with OpenCV on one thread, medians "
            "over the frames. *views sent again*: views of a later frame that beat the best sent "
            "for their sticky by the loop's margin; noise alone sends none.\n\n" + text + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
