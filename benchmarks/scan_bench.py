"""Measure the wall scanner against raw QR decoders on synthetic photos of the board.

Run `python -m benchmarks.scan_bench` (all conditions, 6 frames each), `--quick` (2 frames each),
`--conditions NAME,...` to pick rows, `--seed N` for the first frame's seed, `--save-frames DIR`
to write each frame with its truth as JSON. It writes `benchmarks/RESULTS.md` and
`benchmarks/results.json` (or into `--out DIR`) and prints one progress line per condition on
stderr.

Speed: on every frame the scanner and one default ArUco pass on the decoded grey frame are
timed one after the other, in processor time, once per OpenCV thread count of `--threads`
(default: 1 and OpenCV's own). `--baseline DIR` also times (and scores) another version of the
scanner on the same frames in the same run: DIR holds that version's `scanner` package, for
example from `git archive REF scanner | tar -x -C DIR`; it runs in a child process.

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
import pickle
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
# The webcam board hung amid framed pictures (busy shapes, dark squares, a checkerboard).
PICTURES_BOARD = replace(WEBCAM_BOARD, n_pictures=10)
# Boards hung in a room: on a cork wall or a painted one, amid printouts, posters and pictures.
ROOM_BOARD = replace(WEBCAM_BOARD, n_pictures=10, surround="cork")
ROOM_PHONE_BOARD = replace(PHONE_BOARD, n_pictures=12, surround="paint")
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
        "amid-pictures",
        PICTURES_BOARD,
        lambda rng: Camera.webcam_1080p(fill=0.72, **_mild(rng)),
        "1080p of the webcam board hung amid ten framed pictures, the board filling 72 % of the frame",
    ),
    Condition(
        "room-1080p",
        ROOM_BOARD,
        lambda rng: Camera.webcam_1080p(fill=0.6, **_mild(rng)),
        "1080p of the webcam board on a cork wall amid printouts, posters and pictures, the board"
        " filling 60 % of the frame (markers 10 to 13 px)",
    ),
    Condition(
        "room-12mp",
        ROOM_PHONE_BOARD,
        lambda rng: Camera.phone_12mp(fill=0.7, **_mild(rng)),
        "12 MP of the 10 x 10 board on a painted wall amid printouts, posters and pictures, the"
        " board filling 70 % of the frame",
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
    # (wall ms, processor ms) of the method's own work, when it times itself: the ArUco pass
    # times detectMarkers alone, on the grey frame decoded before.
    timed: tuple[float, float] | None = None


@dataclass(frozen=True)
class Take:
    """Hold what a method gets for one frame: the scored shot and, for the scanner, its context.

    `frames` are the still frames to fuse (the shot first), `previous` the scanner's result on
    a clear view from the same camera.
    """

    shot: Shot
    frames: tuple[Shot, ...] = ()
    previous: object | None = None
    clear: Shot | None = None  # the clear view `previous` was scanned from


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
    the scanner's is compared with: detectMarkers alone, on the decoded grey frame (the scanner
    is timed from the decoded colour frame, its own grey conversion included).
    """
    shot = take.shot
    gray = cv2.cvtColor(shot.image, cv2.COLOR_BGR2GRAY)
    dictionary = cv2.aruco.getPredefinedDictionary(
        getattr(cv2.aruco, shot.board.manifest.get("marker_dictionary", "DICT_4X4_1000"))
    )
    detector = cv2.aruco.ArucoDetector(dictionary)
    t0, c0 = time.perf_counter(), time.process_time()
    corners, ids, _ = detector.detectMarkers(gray)
    timed = ((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000)
    by_id = {s["marker_id"]: s["qr"] for s in shot.board.manifest["stickies"]}
    found = []
    if ids is not None:
        for c, i in zip(corners, ids.ravel(), strict=True):
            if int(i) in by_id:
                found.append((by_id[int(i)], tuple(np.asarray(c).reshape(4, 2).mean(axis=0))))
    return replace(_place_by_truth(shot, found), timed=timed)


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


# ----------------------------------------------------------------------------------------------
# Another version of the scanner, in a child process, for before and after in one run

_CHILD = r"""
import pickle, sys, time
import cv2
from scanner import Manifest, scan, scan_frames

inp, out = sys.stdin.buffer, sys.stdout.buffer
while head := inp.read(8):
    req = pickle.loads(inp.read(int.from_bytes(head, "big")))
    cv2.setNumThreads(req["threads"])
    manifest = Manifest.from_dict(req["manifest"])
    prev = scan(req["clear"], manifest) if req["clear"] is not None else None
    images = req["images"]

    def run():
        if len(images) > 1:
            return scan_frames(images, manifest, previous=prev)
        return scan(images[0], manifest, previous=prev)

    if req["warm"]:
        run()
    t0, c0 = time.perf_counter(), time.process_time()
    r = run()
    ms, cpu_ms = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
    data = pickle.dumps({
        "placed": {s.code: (s.room, s.slot) for s in r.stickies},
        "hidden": [tuple(c) for c in r.hidden_cells],
        "board_found": bool(r.board_found),
        "ms": ms,
        "cpu_ms": cpu_ms,
    })
    out.write(len(data).to_bytes(8, "big") + data)
    out.flush()
"""


class Baseline:
    """Scan frames with another version's scanner: the `scanner` package in `folder`.

    It runs in a child process of its own (one package name cannot hold two versions), which
    times its scan in its own processor time, with the OpenCV thread count asked for.
    """

    def __init__(self, folder: Path) -> None:
        if not (folder / "scanner" / "__init__.py").is_file():
            raise BenchError(f"{folder} holds no scanner package (scanner/__init__.py)")
        env = {**os.environ, "PYTHONPATH": str(folder.resolve())}
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=folder,
            env=env,
        )

    def scan(self, take: Take, *, threads: int, warm: bool = False) -> dict:
        """Return the child's placements and its wall and processor ms for one frame."""
        frames = take.frames or (take.shot,)
        clear = take.clear.image if take.clear is not None else None
        data = pickle.dumps(
            {
                "images": [f.image for f in frames],
                "manifest": take.shot.board.manifest,
                "clear": clear,
                "threads": threads,
                "warm": warm,
            }
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(len(data).to_bytes(8, "big") + data)
        self._proc.stdin.flush()
        head = self._proc.stdout.read(8)
        if len(head) < 8:
            raise BenchError("the baseline scanner's process stopped")
        return pickle.loads(self._proc.stdout.read(int.from_bytes(head, "big")))

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=30)


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


_BASELINE: list[Baseline] = []  # the --baseline scanner's process, while a run has one


def run_baseline(take: Take) -> Placement:
    """Scan the frame with the --baseline version of the scanner (timed in its own process)."""
    got = _BASELINE[0].scan(take, threads=cv2.getNumThreads())
    return Placement(
        placed=got["placed"],
        hidden_cells=tuple(got["hidden"]),
        board_found=got["board_found"],
        reports_hidden=True,
        timed=(got["ms"], got["cpu_ms"]),
    )


RUNNERS: dict[str, Callable[[Take], Placement]] = {
    "scanner": run_scanner,
    "aruco": run_aruco,
    "zxing-cpp": run_zxing,
    "pyzbar": run_pyzbar,
    "opencv-qr": run_opencv_qr,
    "scanner-before": run_baseline,
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
    # The scanner's frames: its time and one ArUco pass's (and the baseline's), per thread count.
    speed: tuple[SpeedSample, ...] = ()


@dataclass(frozen=True)
class SpeedSample:
    """Time one frame with `threads` OpenCV threads: wall and processor ms of each method."""

    threads: int
    scanner_ms: float
    scanner_cpu_ms: float
    aruco_ms: float
    aruco_cpu_ms: float
    before_ms: float | None = None
    before_cpu_ms: float | None = None


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
    threads: tuple[int, ...] = (),
) -> list[Row]:
    """Photograph `seeds` frames of the condition and score every method on each.

    With the scanner and ArUco among the methods, each frame is also timed once per OpenCV
    thread count in `threads` (SpeedSample, on the scanner's frame score).
    """
    per_method: dict[str, list[FrameScore]] = {m: [] for m in methods}
    for seed in seeds:
        board = make_board(condition.board, seed=seed)
        rng = np.random.default_rng(seed)
        take = _take(condition, board, condition.camera(rng), seed)
        shot = take.shot
        if save_frames is not None:
            _save(save_frames, condition.name, seed, shot)
        for method in methods:
            given = take if method.startswith("scanner") else Take(shot)
            if seed == seeds[0] and method in ("scanner", "aruco", "scanner-before"):
                # Once untimed: first calls build detectors and thread pools.
                with contextlib.suppress(Exception):
                    RUNNERS[method](given)
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                placement = RUNNERS[method](given)
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
            if placement.timed is not None:
                ms, cpu_ms = placement.timed
            frame = replace(score(shot, placement, seed=seed, ms=ms), cpu_ms=cpu_ms)
            if placement.result is not None:
                pictures, picture_ms = picture_scores(shot, placement.result)
                frame = replace(frame, pictures=pictures, picture_ms=picture_ms)
            per_method[method].append(frame)
        scanned = per_method.get("scanner", [])
        if threads and "aruco" in methods and scanned and not scanned[-1].error:
            speed = time_frame(take, threads, before="scanner-before" in methods)
            scanned[-1] = replace(scanned[-1], speed=speed)
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
                unsafe=sum(len(f.unsafe) for f in frames) if method.startswith("scanner") else None,
                details=tuple(frames),
            )
        )
    return rows


def time_frame(take: Take, threads: tuple[int, ...], *, before: bool) -> tuple[SpeedSample, ...]:
    """Time the scanner and one ArUco pass (and the baseline) on a frame, per thread count.

    They run one after the other, so that the machine's load moves all of them alike; OpenCV's
    thread count is restored after.
    """
    default = cv2.getNumThreads()
    out = []
    try:
        for n in threads:
            cv2.setNumThreads(n)
            aruco_ms, aruco_cpu = run_aruco(Take(take.shot)).timed or (0.0, 0.0)
            t0, c0 = time.perf_counter(), time.process_time()
            run_scanner(take)
            ms, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
            sample = SpeedSample(n, ms, cpu, aruco_ms, aruco_cpu)
            if before:
                got = _BASELINE[0].scan(take, threads=n)
                sample = replace(sample, before_ms=got["ms"], before_cpu_ms=got["cpu_ms"])
            out.append(sample)
    finally:
        cv2.setNumThreads(default)
    return tuple(out)


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
    return Take(shot, previous=scan(clear.image, Manifest.from_dict(board.manifest)), clear=clear)


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
    return (
        f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, "
        f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads by default)"
    )


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


@dataclass(frozen=True)
class Speed:
    """Sum one condition's frames at one OpenCV thread count: medians over the frames.

    Ratios are medians of the per-frame ratios (each frame's methods ran one after the other),
    so that they hold on a machine whose load moves absolute times.
    """

    condition: str
    threads: int
    scanner_cpu_ms: float
    aruco_cpu_ms: float
    ratio_cpu: float
    ratio_wall: float
    before_ratio_cpu: float | None = None


def speed_ratios(rows: list[Row]) -> list[Speed]:
    """Return the scanner's speed against one ArUco pass per condition and thread count."""
    out = []
    for r in rows:
        if r.method != "scanner":
            continue
        samples = [s for f in r.details if not f.error for s in f.speed]
        for n in sorted({s.threads for s in samples}):
            at = [s for s in samples if s.threads == n and s.aruco_cpu_ms > 0 and s.aruco_ms > 0]
            if not at:
                continue
            before = [s.before_cpu_ms / s.aruco_cpu_ms for s in at if s.before_cpu_ms is not None]
            out.append(
                Speed(
                    condition=r.condition,
                    threads=n,
                    scanner_cpu_ms=statistics.median(s.scanner_cpu_ms for s in at),
                    aruco_cpu_ms=statistics.median(s.aruco_cpu_ms for s in at),
                    ratio_cpu=statistics.median(s.scanner_cpu_ms / s.aruco_cpu_ms for s in at),
                    ratio_wall=statistics.median(s.scanner_ms / s.aruco_ms for s in at),
                    before_ratio_cpu=statistics.median(before) if before else None,
                )
            )
    return out


def speed_lines(rows: list[Row]) -> list[str]:
    """Render the scanner's time per frame against one default ArUco pass on the same frame."""
    speeds = speed_ratios(rows)
    if not speeds:
        return []
    before = any(s.before_ratio_cpu is not None for s in speeds)
    lines = [
        "",
        "## Speed against one ArUco pass",
        "",
        "The scanner's time per frame (from the decoded colour frame, its grey conversion "
        "included) against one default `cv2.aruco.ArucoDetector(dictionary).detectMarkers` pass "
        "on the same decoded grey frame, run one after the other, once per OpenCV thread count "
        "(`cv2.setNumThreads`). Processor time (`time.process_time`: all threads of the process) "
        "is steadier than wall time on this shared machine; the ratios are medians of the "
        "per-frame ratios."
        + (
            " *before*: the `--baseline` scanner on the same frames in the same run, timed in "
            "its own process."
            if before
            else ""
        ),
        "",
        "| condition | OpenCV threads | scanner CPU ms | ArUco CPU ms | ratio (CPU) | ratio (wall) "
        + ("| before: ratio (CPU) |" if before else "|"),
        "|---|---|---|---|---|---|" + ("---|" if before else ""),
    ]
    for s in speeds:
        tail = ""
        if before:
            tail = f" {s.before_ratio_cpu:.2f} |" if s.before_ratio_cpu is not None else " - |"
        lines.append(
            f"| {s.condition} | {s.threads} | {s.scanner_cpu_ms:.0f} | {s.aruco_cpu_ms:.0f} "
            f"| {s.ratio_cpu:.2f} | {s.ratio_wall:.2f} |" + tail
        )
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
        "speed_vs_aruco": [
            {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(s).items()}
            for s in speed_ratios(rows)
        ],
        "rows": [
            {k: v for k, v in asdict(r).items() if k != "details"}
            | {
                "rate": round(r.rate, 4),
                "frames_detail": [asdict(f) for f in r.details],
            }
            for r in rows
        ],
    }


def _run_one(condition, seeds, methods, save_frames, threads) -> list[Row]:
    """Run one condition and print its progress line on stderr."""
    t0 = time.perf_counter()
    got = run_condition(
        condition, seeds=seeds, methods=methods, save_frames=save_frames, threads=threads
    )
    summary = "  ".join(
        f"{r.method} {r.correct}/{r.visible} wrong {r.wrong} {r.ms_median:.0f} ms" for r in got
    )
    print(
        f"[{condition.name}] {len(seeds)} frames in {time.perf_counter() - t0:.1f} s: {summary}",
        file=sys.stderr,
        flush=True,
    )
    return got


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
    parser.add_argument(
        "--threads",
        default=f"1,{cv2.getNumThreads()}",
        help="OpenCV thread counts the speed is measured at (default: 1 and OpenCV's own)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="also run the scanner package in DIR (another version) on the same frames",
    )
    args = parser.parse_args(argv)

    frames = args.frames or (2 if args.quick else 6)
    names = [n for n in args.conditions.split(",") if n]
    known = {c.name: c for c in CONDITIONS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BenchError(f"unknown condition {', '.join(unknown)}; choose from {', '.join(known)}")
    methods = tuple(m for m in args.methods.split(",") if m)
    if args.baseline is not None and "scanner-before" not in methods:
        methods = (*methods, "scanner-before")
    if "scanner-before" in methods and args.baseline is None:
        raise BenchError("the scanner-before method needs --baseline DIR")
    try:
        threads = tuple(dict.fromkeys(int(n) for n in args.threads.split(",") if n))
    except ValueError:
        raise BenchError(f"--threads takes counts like 1,2, not {args.threads!r}") from None
    if any(n < 1 for n in threads):
        raise BenchError("--threads counts are 1 or more")
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
    if args.baseline is not None:
        _BASELINE[:] = [Baseline(args.baseline)]
    try:
        for condition in chosen:
            rows += _run_one(condition, seeds, methods, args.save_frames, threads)
    finally:
        while _BASELINE:
            _BASELINE.pop().close()

    table = markdown(rows, command=command.strip(), when=when)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "RESULTS.md").write_text(table)
    payload = to_json(rows, command=command.strip(), when=when)
    (args.out / "results.json").write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
