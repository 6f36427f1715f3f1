"""Measure the wall scanner against raw QR decoders on synthetic photos of the board.

Run `python -m benchmarks.scan_bench` (all conditions, 6 frames each), `--quick` (2 frames each),
`--conditions NAME,...` to pick rows, `--seed N` for the first frame's seed, `--save-frames DIR`
to write each frame with its truth as JSON. It writes `benchmarks/RESULTS.md` and
`benchmarks/results.json` (or into `--out DIR`) and prints one progress line per condition on
stderr.

A sticky counts as placed correctly when the method reports its code in the sticky's true cell
(or off the grid for a person sticky) and the sticky is visible: fully in frame and not covered
by a person. Any placement that disagrees with the truth, of any sticky, counts as wrong. The
raw decoders only read; they get the true geometry: a decoded QR's centre in photo pixels is
mapped through the true board homography to the wall and looked up in the true grid.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pyzbar.pyzbar as pyzbar
import zxingcpp

from benchmarks.photographer import (
    Board,
    BoardSpec,
    Camera,
    Shot,
    default_rooms,
    default_slots,
    make_board,
    photograph,
)

HERE = Path(__file__).resolve().parent
METHODS = ("scanner", "aruco", "zxing-cpp", "pyzbar", "opencv-qr")


class BenchError(Exception):
    """A benchmark run that cannot go ahead as asked."""


# ----------------------------------------------------------------------------------------------
# Conditions

PHONE_BOARD = BoardSpec(
    rooms=default_rooms(10),
    slots=default_slots(10),
    column_width_mm=120.0,
    row_height_mm=105.0,
    n_stickies=100,
    px_per_mm=3.0,
)
WEBCAM_BOARD = BoardSpec(
    rooms=default_rooms(6),
    slots=default_slots(8),
    column_width_mm=210.0,
    row_height_mm=100.0,
    n_stickies=40,
    px_per_mm=2.0,
)
CLOSE_BOARD = BoardSpec(
    rooms=default_rooms(4),
    slots=default_slots(3),
    column_width_mm=120.0,
    row_height_mm=105.0,
    n_stickies=12,
    n_person_stickies=2,
    px_per_mm=5.0,
)
# A 6 x 8 board about 2.4 m wide: a cheap 720p webcam sees its 25 mm markers at 10 to 13 px.
WIDE_BOARD = replace(WEBCAM_BOARD, column_width_mm=330.0, row_height_mm=130.0)
# A 10 x 10 board about 2.3 m wide with 80 stickies.
BIG_BOARD = BoardSpec(
    rooms=default_rooms(10),
    slots=default_slots(10),
    column_width_mm=200.0,
    row_height_mm=100.0,
    n_stickies=80,
    px_per_mm=2.0,
)
TRANSPOSED_BOARD = replace(
    WEBCAM_BOARD, transposed=True, column_width_mm=170.0, row_height_mm=130.0
)
MISSING_HEADER_BOARD = replace(
    WEBCAM_BOARD, missing_headers=(WEBCAM_BOARD.rooms[2], WEBCAM_BOARD.slots[5])
)


def _sign(rng: np.random.Generator) -> float:
    return 1.0 if rng.random() < 0.5 else -1.0


def _mild(rng: np.random.Generator) -> dict:
    return dict(
        yaw_deg=rng.uniform(-10, 10), pitch_deg=rng.uniform(-6, 6), roll_deg=rng.uniform(-2, 2)
    )


def _people_in_front(rng: np.random.Generator) -> Camera:
    return Camera.webcam_1080p(people=2, **_mild(rng))


def _combined(rng: np.random.Generator) -> Camera:
    """1080p, 20 deg yaw, mild barrel, defocus, noise, JPEG 60, uneven light, one person."""
    return Camera.webcam_1080p(
        yaw_deg=20.0 * _sign(rng),
        pitch_deg=rng.uniform(-8, 8),
        k1=-0.1,
        defocus_px=1.0,
        noise_sigma=6.0,
        jpeg_quality=60,
        light_gradient=0.4,
        shadow=0.4,
        people=1,
    )


@dataclass(frozen=True)
class Condition:
    """Describe one benchmark row: a board and a camera drawn from a seed."""

    name: str
    board: BoardSpec
    camera: Callable[[np.random.Generator], Camera]
    description: str
    # Consecutive frames of a still wall that the scanner fuses (scan_frames); the raw methods
    # read the first.
    still_frames: int = 1
    # The scanner gets the result of a clear view from the same camera first (scan's previous).
    clear_view_first: bool = False


CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "phone-12mp",
        PHONE_BOARD,
        lambda rng: Camera.phone_12mp(**_mild(rng)),
        "4000x3000, 10 rooms x 10 slots, 100 stickies, yaw/pitch up to 10/6 deg",
    ),
    Condition(
        "phone-12mp-close",
        CLOSE_BOARD,
        lambda rng: Camera.phone_12mp(**_mild(rng)),
        "4000x3000 of a 4 rooms x 3 slots board (~3.7 px/mm), where QR codes can be read too",
    ),
    Condition(
        "webcam-1080p",
        WEBCAM_BOARD,
        lambda rng: Camera.webcam_1080p(**_mild(rng)),
        "1920x1080, 6 rooms x 8 slots, board 1.58 m wide (~0.8 px/mm), 40 stickies",
    ),
    Condition(
        "webcam-720p",
        WEBCAM_BOARD,
        lambda rng: Camera.webcam_1080p(width=1280, height=720, **_mild(rng)),
        "1280x720, the webcam board (~0.6 px/mm)",
    ),
    Condition(
        "perspective-35deg",
        WEBCAM_BOARD,
        lambda rng: Camera.webcam_1080p(
            yaw_deg=35.0 * _sign(rng), pitch_deg=rng.uniform(-10, 10), roll_deg=rng.uniform(-3, 3)
        ),
        "1080p, camera turned 35 deg about the vertical, up to 10 deg pitch",
    ),
    Condition(
        "lens-distortion",
        WEBCAM_BOARD,
        lambda rng: Camera.webcam_1080p(k1=-0.22, hfov_deg=90.0, fill=0.9, **_mild(rng)),
        "1080p wide-angle (90 deg), barrel distortion k1 = -0.22",
    ),
    Condition(
        "defocus",
        WEBCAM_BOARD,
        lambda rng: Camera.webcam_1080p(defocus_px=1.6, **_mild(rng)),
        "1080p, disk blur of radius 1.6 px",
    ),
    Condition(
        "noise",
        WEBCAM_BOARD,
        lambda rng: Camera.webcam_1080p(noise_sigma=12.0, **_mild(rng)),
        "1080p, sensor noise sigma 12 levels",
    ),
    Condition(
        "jpeg-q40",
        WEBCAM_BOARD,
        lambda rng: Camera.webcam_1080p(jpeg_quality=40, **_mild(rng)),
        "1080p, JPEG quality 40",
    ),
    Condition(
        "uneven-light+shadow",
        WEBCAM_BOARD,
        lambda rng: Camera.webcam_1080p(light_gradient=0.5, shadow=0.6, glare=0.6, **_mild(rng)),
        "1080p, light falling by half across the frame, a soft shadow, a glare spot",
    ),
    Condition(
        "people-in-front",
        WEBCAM_BOARD,
        _people_in_front,
        "1080p, two people between camera and board",
    ),
    Condition(
        "combined",
        WEBCAM_BOARD,
        _combined,
        "1080p, 20 deg yaw, mild barrel, defocus 1 px, noise 6, JPEG 60, uneven light, one person",
    ),
    Condition(
        "webcam-720p-6x8",
        WIDE_BOARD,
        lambda rng: Camera.webcam_1080p(width=1280, height=720, **_mild(rng)),
        "1280x720 of a 6 rooms x 8 slots board 2.4 m wide (~0.5 px/mm, markers 10-13 px)",
    ),
    Condition(
        "webcam-720p-10x10",
        BIG_BOARD,
        lambda rng: Camera.webcam_1080p(width=1280, height=720, **_mild(rng)),
        "1280x720 of a 10 rooms x 10 slots board 2.3 m wide, 80 stickies",
    ),
    Condition(
        "webcam-1080p-10x10",
        BIG_BOARD,
        lambda rng: Camera.webcam_1080p(**_mild(rng)),
        "1920x1080 of the 10 x 10 board",
    ),
    Condition(
        "webcam-4k-10x10",
        BIG_BOARD,
        lambda rng: Camera.webcam_1080p(width=3840, height=2160, **_mild(rng)),
        "3840x2160 of the 10 x 10 board",
    ),
    Condition(
        "still-wall-720p-1",
        WIDE_BOARD,
        lambda rng: Camera.webcam_1080p(
            width=1280, height=720, noise_sigma=8.0, jpeg_quality=80, **_mild(rng)
        ),
        "one frame of the still wall's camera, for comparison",
    ),
    Condition(
        "still-wall-720p-5",
        WIDE_BOARD,
        lambda rng: Camera.webcam_1080p(
            width=1280, height=720, noise_sigma=8.0, jpeg_quality=80, **_mild(rng)
        ),
        "five consecutive 720p frames of the 2.4 m board (noise 8, JPEG 80) fused by scan_frames;"
        " ms is for all five",
        still_frames=5,
    ),
    Condition(
        "people-in-front+memory",
        WEBCAM_BOARD,
        _people_in_front,
        "the people-in-front frames; the scanner has the same camera's clear view from before",
        clear_view_first=True,
    ),
    Condition(
        "combined+memory",
        WEBCAM_BOARD,
        _combined,
        "the combined frames; the scanner has the same camera's clear view from before",
        clear_view_first=True,
    ),
    Condition(
        "people-covering-headers",
        WEBCAM_BOARD,
        lambda rng: Camera.webcam_1080p(people=2, people_at=(0.05,), **_mild(rng)),
        "1080p, two people, one in front of the slot cards; the scanner has the same camera's "
        "clear view from before (scan's previous)",
        clear_view_first=True,
    ),
    Condition(
        "transposed",
        TRANSPOSED_BOARD,
        lambda rng: Camera.webcam_1080p(**_mild(rng)),
        "1080p, rooms down the left, slots across the top",
    ),
    Condition(
        "missing-header",
        MISSING_HEADER_BOARD,
        lambda rng: Camera.webcam_1080p(**_mild(rng)),
        "1080p, one room header and one slot header card missing",
    ),
)


# ----------------------------------------------------------------------------------------------
# Methods: each returns {code: (room, slot)} for the stickies it placed


@dataclass(frozen=True)
class Placement:
    """Hold what a method reported for one frame: code -> (room, slot) and its hidden cells."""

    placed: dict[str, tuple[str | None, str | None]]
    hidden_cells: tuple[tuple[str, str], ...] = ()
    board_found: bool = True
    reports_hidden: bool = False
    result: object = None  # the scanner's ScanResult, for the sticky pictures


@dataclass(frozen=True)
class Take:
    """Hold what a method gets for one frame: the scored shot and, for the scanner, its context.

    `frames` are the still frames to fuse (the shot first), `previous` the scanner's result on
    a clear view from the same camera.
    """

    shot: Shot
    frames: tuple[Shot, ...] = ()
    previous: object | None = None


def _sticky_codes(board: Board) -> dict[str, str]:
    """Map each manifest sticky's QR payload to its code."""
    return {s["qr"]: s["code"] for s in board.manifest["stickies"]}


def _place_by_truth(shot: Shot, texts_and_centres) -> Placement:
    """Place decoded QR payloads with the true geometry: photo px -> wall mm -> true cell."""
    by_qr = _sticky_codes(shot.board)
    placed: dict[str, tuple[str | None, str | None]] = {}
    for text, (x, y) in texts_and_centres:
        code = by_qr.get(text)
        if code is None:
            continue  # a poster or a code never issued
        wx, wy = shot.photo_to_wall(np.array([[x, y]]))[0]
        cell = shot.board.cell_at(float(wx), float(wy))
        placed[code] = cell if cell is not None else (None, None)
    return Placement(placed)


def run_zxing(take: Take) -> Placement:
    """Read every QR in the full frame with zxing-cpp."""
    shot = take.shot
    gray = cv2.cvtColor(shot.image, cv2.COLOR_BGR2GRAY)
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    out = []
    for r in found:
        p = r.position
        pts = [(p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y)]
        pts += [(p.bottom_right.x, p.bottom_right.y), (p.bottom_left.x, p.bottom_left.y)]
        out.append((r.text, tuple(np.mean(pts, axis=0))))
    return _place_by_truth(shot, out)


def run_pyzbar(take: Take) -> Placement:
    """Read every QR in the full frame with zbar."""
    shot = take.shot
    gray = cv2.cvtColor(shot.image, cv2.COLOR_BGR2GRAY)
    found = pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])
    out = []
    for r in found:
        pts = np.array([(pt.x, pt.y) for pt in r.polygon], dtype=np.float64)
        out.append((r.data.decode("utf-8", "replace"), tuple(pts.mean(axis=0))))
    return _place_by_truth(shot, out)


def run_opencv_qr(take: Take) -> Placement:
    """Read every QR in the full frame with OpenCV's QRCodeDetector."""
    shot = take.shot
    ok, texts, points, _ = cv2.QRCodeDetector().detectAndDecodeMulti(shot.image)
    out = []
    if ok and points is not None:
        for text, pts in zip(texts, points, strict=True):
            if text:
                out.append((text, tuple(np.asarray(pts).reshape(-1, 2).mean(axis=0))))
    return _place_by_truth(shot, out)


def run_aruco(take: Take) -> Placement:
    """Read every marker with one default OpenCV ArUco pass; place its sticky by the truth.

    A sticky marker's centre goes through the true geometry to its cell. This is also the time
    the scanner's is compared with.
    """
    shot = take.shot
    gray = cv2.cvtColor(shot.image, cv2.COLOR_BGR2GRAY)
    dictionary = cv2.aruco.getPredefinedDictionary(
        getattr(cv2.aruco, shot.board.manifest.get("marker_dictionary", "DICT_4X4_1000"))
    )
    corners, ids, _ = cv2.aruco.ArucoDetector(dictionary).detectMarkers(gray)
    by_id = {s["marker_id"]: s["qr"] for s in shot.board.manifest["stickies"]}
    found = []
    if ids is not None:
        for c, i in zip(corners, ids.ravel(), strict=True):
            if int(i) in by_id:
                found.append((by_id[int(i)], tuple(np.asarray(c).reshape(4, 2).mean(axis=0))))
    return _place_by_truth(shot, found)


def run_scanner(take: Take) -> Placement:
    """Scan the frame with the product's scanner and its manifest."""
    from scanner import Manifest, scan, scan_frames

    manifest = Manifest.from_dict(take.shot.board.manifest)
    if take.frames:
        result = scan_frames([f.image for f in take.frames], manifest, previous=take.previous)
    else:
        result = scan(take.shot.image, manifest, previous=take.previous)
    return Placement(
        placed={s.code: (s.room, s.slot) for s in result.stickies},
        hidden_cells=tuple(tuple(c) for c in result.hidden_cells),
        board_found=bool(result.board_found),
        reports_hidden=True,
        result=result,
    )


def flat_sticky(board: Board, code: str, size: tuple[int, int]) -> np.ndarray:
    """Return the sticky as it was put on the wall (printed and written on), `size` = (w, h) px."""
    placed = next(s for s in board.stickies if s.code == code)
    w, h = size
    corners = (placed.corners_mm * board.px_per_mm - 0.5).astype(np.float32)
    target = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    m = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    return cv2.warpPerspective(board.wall, m, (w, h), flags=cv2.INTER_AREA)


def picture_scores(shot: Shot, result) -> tuple[tuple[float, ...], float]:
    """Cut every placed sticky's picture; return its correlation with the flat sticky, and the ms.

    A placed sticky without a picture scores 0. Correlation is normalised (scanner.correlation).
    """
    from scanner import correlation, cut_views

    t0 = time.perf_counter()
    views = {v.code: v for v in cut_views(shot.image, shot.board.manifest, result)}
    ms = (time.perf_counter() - t0) * 1000
    scores = []
    for s in result.stickies:
        view = views.get(s.code)
        if view is None:
            scores.append(0.0)
            continue
        flat = flat_sticky(shot.board, s.code, (view.image.shape[1], view.image.shape[0]))
        scores.append(round(correlation(view.image, flat), 4))
    return tuple(scores), ms


RUNNERS: dict[str, Callable[[Take], Placement]] = {
    "scanner": run_scanner,
    "aruco": run_aruco,
    "zxing-cpp": run_zxing,
    "pyzbar": run_pyzbar,
    "opencv-qr": run_opencv_qr,
}


# ----------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True)
class FrameScore:
    """Score one method on one frame."""

    seed: int
    visible: int
    correct: int
    wrong: int
    ms: float
    missed: tuple[str, ...] = ()
    wrong_codes: tuple[str, ...] = ()
    board_found: bool = True
    error: str = ""
    unsafe: tuple[str, ...] = ()
    hidden_true: int = 0
    hidden_reported: int = 0
    hidden_both: int = 0
    # Each placed sticky's picture against the flat sticky (normalised correlation; 0: no picture).
    pictures: tuple[float, ...] = ()
    picture_ms: float = 0.0
    # Processor time of the method on this frame (every thread), steadier than wall time on a
    # shared machine.
    cpu_ms: float = 0.0


@dataclass(frozen=True)
class Row:
    """Sum one method's frame scores over one condition."""

    condition: str
    method: str
    frames: int
    visible: int
    correct: int
    wrong: int
    ms_median: float
    failing_seeds: tuple[int, ...]
    unsafe: int | None
    details: tuple[FrameScore, ...] = field(repr=False)

    @property
    def rate(self) -> float:
        """Return the fraction of visible stickies placed correctly."""
        return self.correct / self.visible if self.visible else 0.0


def score(shot: Shot, placement: Placement, *, seed: int, ms: float) -> FrameScore:
    """Compare a method's placements with the shot's truth."""
    truth = {s.code: (s.room, s.slot) for s in shot.stickies}
    visible = {s.code for s in shot.stickies if s.visible}
    correct = sorted(c for c in visible if placement.placed.get(c, ("?", "?")) == truth[c])
    wrong = sorted(c for c, cell in placement.placed.items() if truth.get(c, ("?", "?")) != cell)
    missed = sorted(visible - set(correct) - set(wrong))
    # A sticky on the grid that was not reported, in a cell not reported hidden, counts towards
    # its removal; only a method that reports hidden cells makes that claim.
    hidden = set(placement.hidden_cells)
    unsafe = ()
    if placement.reports_hidden and placement.board_found:
        unsafe = tuple(
            sorted(
                s.code
                for s in shot.stickies
                if s.room is not None
                and s.code not in placement.placed
                and (s.room, s.slot) not in hidden
            )
        )
    return FrameScore(
        seed=seed,
        visible=len(visible),
        correct=len(correct),
        wrong=len(wrong),
        ms=ms,
        missed=tuple(missed),
        wrong_codes=tuple(wrong),
        board_found=placement.board_found,
        unsafe=unsafe,
        hidden_true=len(shot.hidden_cells),
        hidden_reported=len(hidden),
        hidden_both=len(hidden & set(shot.hidden_cells)),
    )


def run_condition(
    condition: Condition,
    *,
    seeds: list[int],
    methods: tuple[str, ...],
    save_frames: Path | None = None,
) -> list[Row]:
    """Photograph `seeds` frames of the condition and score every method on each."""
    per_method: dict[str, list[FrameScore]] = {m: [] for m in methods}
    for seed in seeds:
        board = make_board(condition.board, seed=seed)
        rng = np.random.default_rng(seed)
        take = _take(condition, board, condition.camera(rng), seed)
        shot = take.shot
        if save_frames is not None:
            _save(save_frames, condition.name, seed, shot)
        for method in methods:
            if seed == seeds[0] and method in ("scanner", "aruco"):
                # Once untimed: first calls build detectors and thread pools.
                with contextlib.suppress(Exception):
                    RUNNERS[method](take if method == "scanner" else Take(shot))
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                placement = RUNNERS[method](take if method == "scanner" else Take(shot))
            except Exception as exc:  # a crash is a result: the row shows it, the run goes on
                per_method[method].append(
                    FrameScore(
                        seed,
                        len(shot.visible_codes),
                        0,
                        0,
                        0.0,
                        board_found=False,
                        error=f"{type(exc).__name__}: {exc}",
                    )
                )
                continue
            ms = (time.perf_counter() - t0) * 1000
            cpu_ms = (time.process_time() - c0) * 1000
            frame = replace(score(shot, placement, seed=seed, ms=ms), cpu_ms=cpu_ms)
            if placement.result is not None:
                pictures, picture_ms = picture_scores(shot, placement.result)
                frame = replace(frame, pictures=pictures, picture_ms=picture_ms)
            per_method[method].append(frame)
    rows = []
    for method, frames in per_method.items():
        visible = sum(f.visible for f in frames)
        correct = sum(f.correct for f in frames)
        wrong = sum(f.wrong for f in frames)
        timed = [f.ms for f in frames if not f.error]
        rows.append(
            Row(
                condition=condition.name,
                method=method,
                frames=len(frames),
                visible=visible,
                correct=correct,
                wrong=wrong,
                ms_median=statistics.median(timed) if timed else float("nan"),
                failing_seeds=tuple(
                    f.seed for f in frames if f.wrong or f.correct < f.visible or f.unsafe
                ),
                unsafe=sum(len(f.unsafe) for f in frames) if method == "scanner" else None,
                details=tuple(frames),
            )
        )
    return rows


def _take(condition: Condition, board: Board, camera: Camera, seed: int) -> Take:
    """Photograph one frame of a condition, with the still frames or the clear view it needs."""
    if condition.still_frames > 1:
        # A camera on a mount: the same view, fresh sensor noise in every frame.
        still = replace(camera, jitter=0.0)
        frames = tuple(
            photograph(board, still, seed=seed * 1000 + k) for k in range(condition.still_frames)
        )
        return Take(frames[0], frames=frames)
    shot = photograph(board, camera, seed=seed)
    if not condition.clear_view_first:
        return Take(shot)
    from scanner import Manifest, scan

    # The same camera a moment before, nobody in front (the pose comes first from the seed).
    clear = photograph(board, replace(camera, people=0, people_at=()), seed=seed)
    return Take(shot, previous=scan(clear.image, Manifest.from_dict(board.manifest)))


def _save(root: Path, condition: str, seed: int, shot: Shot) -> None:
    root.mkdir(parents=True, exist_ok=True)
    stem = root / f"{condition}-{seed}"
    # PNG keeps the exact pixels that were scanned.
    cv2.imwrite(str(stem.with_suffix(".png")), shot.image)
    truth = shot.truth_json() | {"condition": condition, "seed": seed}
    stem.with_suffix(".json").write_text(json.dumps(truth, indent=1))
    (root / f"{condition}-{seed}.manifest.json").write_text(
        json.dumps(shot.board.manifest, indent=1)
    )


# ----------------------------------------------------------------------------------------------
# Report


def machine() -> str:
    """Describe the machine: core count and CPU model."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, OpenCV {cv2.__version__}"


def _commit() -> str:
    """Return the checked-out commit, noting uncommitted changes to the scanner."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "scanner"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + (" with uncommitted scanner changes" if dirty else "")


def markdown(rows: list[Row], *, command: str, when: str) -> str:
    """Render the results table as markdown."""
    lines = [
        "# Scan benchmark",
        "",
        f"- date: {when}",
        f"- machine: {machine()}",
        f"- commit: {_commit()}",
        f"- command: `{command}`",
        "",
        "Synthetic photos from `benchmarks/photographer.py`. *correct / visible*: stickies placed in "
        "their true cell (or off the grid) out of those fully in frame and not covered. *wrong*: "
        "placements that disagree with the truth. *unsafe misses*: stickies on the grid that the "
        "scanner did not report, in cells it did not report hidden either, on frames where it "
        "found the board (the app removes such a sticky after K scans). The raw decoders read the full frame and get the "
        "true board geometry to place what they read. *ms*: median time per frame for the method "
        "alone, on a machine shared with other work. Frame seed k lays out the board and draws "
        "the camera; the webcam conditions share their boards and differ only in the camera.",
        "",
        "| condition | method | correct / visible | rate | wrong | unsafe misses "
        "| ms per frame (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ms = "n/a" if r.ms_median != r.ms_median else f"{r.ms_median:.0f}"
        lines.append(
            f"| {r.condition} | {r.method} | {r.correct} / {r.visible} | {100 * r.rate:.1f}% "
            f"| {r.wrong} | {'-' if r.unsafe is None else r.unsafe} | {ms} |"
        )
    lines += speed_lines(rows)
    lines += picture_table(rows)
    lines += ["", "## Conditions", ""]
    used = {r.condition for r in rows}
    for c in CONDITIONS:
        if c.name in used:
            lines.append(f"- `{c.name}`: {c.description}")
    failing = [r for r in rows if r.method == "scanner" and r.failing_seeds]
    if failing:
        lines += ["", "## Scanner frames that miss or misplace", ""]
        for r in failing:
            for f in r.details:
                if f.seed in r.failing_seeds:
                    what = f.error or (
                        f"{f.correct}/{f.visible} correct, {f.wrong} wrong"
                        + ("" if f.board_found else ", board not found")
                    )
                    missed = ", ".join(f.missed[:8]) + (" ..." if len(f.missed) > 8 else "")
                    lines.append(
                        f"- `{r.condition}` seed {f.seed}: {what}"
                        + (f"; missed {missed}" if f.missed else "")
                        + (f"; wrong {', '.join(f.wrong_codes)}" if f.wrong_codes else "")
                        + (f"; unsafe {', '.join(f.unsafe[:8])}" if f.unsafe else "")
                        + (
                            f"; hidden cells reported {f.hidden_reported}, true {f.hidden_true}, "
                            f"both {f.hidden_both}"
                            if f.hidden_true or f.hidden_reported
                            else ""
                        )
                    )
        lines += [
            "",
            "Reproduce one: `python -m benchmarks.scan_bench --conditions NAME --seed SEED "
            "--frames 1 --save-frames /tmp/frames`.",
        ]
    return "\n".join(lines) + "\n"


def speed_ratios(rows: list[Row]) -> dict[str, tuple[float, float, float, float]]:
    """Return per condition (scanner CPU ms, ArUco CPU ms, median CPU ratio, median wall ratio).

    Both methods ran on the same frames one after the other; the ratios are medians of the
    per-frame ratios, so they hold on a machine whose load moves absolute times.
    """
    by = {(r.condition, r.method): r for r in rows}
    out = {}
    for (condition, method), r in by.items():
        other = by.get((condition, "aruco"))
        if method != "scanner" or other is None:
            continue
        theirs = {f.seed: f for f in other.details if not f.error and f.ms > 0 and f.cpu_ms > 0}
        ours = [f for f in r.details if not f.error and f.seed in theirs]
        if ours:
            out[condition] = (
                statistics.median(f.cpu_ms for f in ours),
                statistics.median(theirs[f.seed].cpu_ms for f in ours),
                statistics.median(f.cpu_ms / theirs[f.seed].cpu_ms for f in ours),
                statistics.median(f.ms / theirs[f.seed].ms for f in ours),
            )
    return out


def speed_lines(rows: list[Row]) -> list[str]:
    """Render the scanner's time per frame against one default ArUco pass on the same frame."""
    ratios = speed_ratios(rows)
    if not ratios:
        return []
    lines = [
        "",
        "## Speed against one ArUco pass",
        "",
        "The scanner's time per frame against one default "
        "`cv2.aruco.ArucoDetector(...).detectMarkers` pass on the same frame (grey conversion "
        "included), run one after the other. Processor time (all threads) is steadier than wall "
        "time on this shared machine; both ratios are medians of the per-frame ratios.",
        "",
        "| condition | scanner CPU ms | ArUco CPU ms | ratio (CPU) | ratio (wall) |",
        "|---|---|---|---|---|",
    ]
    for condition, (ms, aruco_ms, ratio, wall) in ratios.items():
        lines.append(f"| {condition} | {ms:.0f} | {aruco_ms:.0f} | {ratio:.2f} | {wall:.2f} |")
    return lines


PICTURE_GOOD = 0.8


def picture_table(rows: list[Row]) -> list[str]:
    """Render the sticky-picture figures of the scanner rows: one line per condition."""
    lines = [
        "",
        "## Sticky pictures",
        "",
        "From the same frames: every sticky the scanner placed is cut out of the photo "
        "(`scanner.cut_views`) and compared with the sticky as it was put on the wall, printed and "
        "written on, by normalised correlation (1 is the same picture). *with a picture*: placed "
        f"stickies that got one; *>= {PICTURE_GOOD}*: those that correlate at least that well; "
        "*ms*: median time per frame to cut them.",
        "",
        "| condition | placed | with a picture | correlation median | correlation min "
        f"| >= {PICTURE_GOOD} | ms per frame (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.method != "scanner":
            continue
        scores = [p for f in r.details for p in f.pictures]
        timed = [f.picture_ms for f in r.details if not f.error]
        if not scores:
            lines.append(f"| {r.condition} | 0 | 0 | - | - | - | - |")
            continue
        pictured = sum(1 for p in scores if p > 0)
        good = sum(1 for p in scores if p >= PICTURE_GOOD)
        lines.append(
            f"| {r.condition} | {len(scores)} | {pictured} | {statistics.median(scores):.3f} "
            f"| {min(scores):.3f} | {good} | {statistics.median(timed):.0f} |"
        )
    return lines


def to_json(rows: list[Row], *, command: str, when: str) -> dict:
    """Return the results as plain JSON values."""
    return {
        "date": when,
        "machine": machine(),
        "command": command,
        "speed_vs_aruco": {
            c: {
                "scanner_cpu_ms": round(a, 1),
                "aruco_cpu_ms": round(b, 1),
                "ratio_cpu": round(r, 3),
                "ratio_wall": round(w, 3),
            }
            for c, (a, b, r, w) in speed_ratios(rows).items()
        },
        "rows": [
            {k: v for k, v in asdict(r).items() if k != "details"}
            | {
                "rate": round(r.rate, 4),
                "frames_detail": [asdict(f) for f in r.details],
            }
            for r in rows
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark from the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scan_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 frames per condition")
    parser.add_argument("--frames", type=int, default=None, help="frames per condition (6)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first frame")
    parser.add_argument("--conditions", default="", help="comma-separated condition names")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated methods")
    parser.add_argument("--save-frames", type=Path, default=None, metavar="DIR")
    parser.add_argument("--out", type=Path, default=HERE, help="where RESULTS.md goes")
    args = parser.parse_args(argv)

    frames = args.frames or (2 if args.quick else 6)
    names = [n for n in args.conditions.split(",") if n]
    known = {c.name: c for c in CONDITIONS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BenchError(f"unknown condition {', '.join(unknown)}; choose from {', '.join(known)}")
    methods = tuple(m for m in args.methods.split(",") if m)
    bad = [m for m in methods if m not in RUNNERS]
    if bad:
        raise BenchError(f"unknown method {', '.join(bad)}; choose from {', '.join(RUNNERS)}")
    chosen = [known[n] for n in names] if names else list(CONDITIONS)
    seeds = list(range(args.seed, args.seed + frames))

    command = "python -m benchmarks.scan_bench " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows: list[Row] = []
    for condition in chosen:
        t0 = time.perf_counter()
        got = run_condition(condition, seeds=seeds, methods=methods, save_frames=args.save_frames)
        rows += got
        summary = "  ".join(
            f"{r.method} {r.correct}/{r.visible} wrong {r.wrong} {r.ms_median:.0f} ms" for r in got
        )
        print(
            f"[{condition.name}] {len(seeds)} frames in {time.perf_counter() - t0:.1f} s: {summary}",
            file=sys.stderr,
            flush=True,
        )

    table = markdown(rows, command=command.strip(), when=when)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "RESULTS.md").write_text(table)
    payload = to_json(rows, command=command.strip(), when=when)
    (args.out / "results.json").write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
