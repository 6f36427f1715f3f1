"""Photograph an event's own board with its stickies in given cells, and write videos of it.

The wall is rendered by the photographer from an app manifest (docs/contracts.md): its rooms,
slots, marker ids and sticky codes. Wall positions are millimetres, origin at the wall's top-left;
photo coordinates are pixels, origin top-left.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from benchmarks.photographer import (
    PEOPLE_AREA_MM,
    PEOPLE_GAP_MM,
    STICKY_COLOURS_BGR,
    BoardSpec,
    Camera,
    _paste,
    handwrite,
    make_board,
    photograph,
    sticky_art,
)
from printables import StickySpec

Layout = dict[str, tuple[str | None, str | None]]


@cache
def _empty_board(rooms: tuple[str, ...], slots: tuple[str, ...], base_url: str, px_per_mm: float):
    spec = BoardSpec(
        rooms=rooms,
        slots=slots,
        n_stickies=0,
        n_person_stickies=0,
        n_unplaced=0,
        n_posters=0,
        px_per_mm=px_per_mm,
        max_rotation_deg=0.0,
        base_url=base_url,
    )
    return make_board(spec, seed=1)


class Wall:
    """Render photos of the event's board with its stickies in given cells.

    A layout maps each sticky code to (room, slot), or (None, None) for the people area below
    the grid; stickies not in the layout are not on the wall. `nudge_mm` moves a sticky within
    its cell by (dx, dy) millimetres.
    """

    def __init__(self, manifest: dict, *, camera: Camera, px_per_mm: float = 2.0) -> None:
        rooms = tuple(r["name"] for r in manifest["rooms"])
        slots = tuple(s["start"] for s in manifest["slots"])
        self.camera = camera
        self.px_per_mm = px_per_mm
        self.board = _empty_board(rooms, slots, manifest["event"]["base_url"], px_per_mm)
        # The photographer numbers room and slot cards as the app does: from 4, rooms first.
        if self.board.manifest["rooms"] != manifest["rooms"] or [
            s["marker_id"] for s in self.board.manifest["slots"]
        ] != [s["marker_id"] for s in manifest["slots"]]:
            raise ValueError("the manifest's kit cards are not numbered rooms first, from 4")
        self.arts = {
            s["code"]: sticky_art(
                sticky=StickySpec(
                    code=s["code"], qr_text=s["qr"], marker_id=s["marker_id"], kind=s["kind"]
                ),
                template="note-76",
                dictionary=manifest["marker_dictionary"],
                px_per_mm=px_per_mm,
                colour=STICKY_COLOURS_BGR[i % len(STICKY_COLOURS_BGR)],
            )
            for i, s in enumerate(manifest["stickies"])
        }

    def photo(
        self,
        layout: Layout,
        *,
        seed: int = 1,
        nudge_mm: dict | None = None,
        handwriting: dict[str, str] | None = None,
        camera: Camera | None = None,
    ) -> np.ndarray:
        """Photograph the layout; `handwriting` maps codes to what is written on their sticky."""
        board = self.board
        wall = board.wall.copy()
        people_spot = 0
        for code, (room, slot) in layout.items():
            if room is None:
                centre = np.array(
                    [
                        board.column_edges_mm[0] + 60.0 + 100.0 * people_spot,
                        board.row_edges_mm[-1] + PEOPLE_GAP_MM + PEOPLE_AREA_MM / 2,
                    ]
                )
                people_spot += 1
            else:
                centre = board.cell_corners_mm(room, slot).mean(axis=0)
            centre = centre + np.array((nudge_mm or {}).get(code, (0.0, 0.0)))
            art = self.arts[code]
            if handwriting and code in handwriting:
                image = art.image.copy()
                handwrite(image, handwriting[code], art.writing_box_mm, self.px_per_mm, seed=seed)
                art = dataclasses.replace(art, image=image)
            _paste(wall, art, tuple(centre), 2.0, self.px_per_mm)
        shot = photograph(
            dataclasses.replace(board, wall=wall, _blurred={}), camera or self.camera, seed=seed
        )
        return shot.image


def write_video(
    path: Path, photos: list[np.ndarray], *, seconds_each: float, fps: float = 2.0
) -> Path:
    """Write an MJPG .avi at `fps` frames per second, each photo held for `seconds_each`.

    Every frame gets its own sensor noise, so that held frames differ as a real camera's do.
    """
    rng = np.random.default_rng(5)
    h, w = photos[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"cannot write a video to {path}")
    for photo in photos:
        for _ in range(round(seconds_each * fps)):
            noise = rng.normal(0.0, 2.0, photo.shape).astype(np.float32)
            writer.write(np.clip(photo.astype(np.float32) + noise, 0, 255).astype(np.uint8))
    writer.release()
    return path


def write_mjpeg(
    path: Path, photos: list[np.ndarray], *, seconds_each: float, fps: float = 30.0
) -> Path:
    """Write an MJPEG file (JPEG frames one after another), each photo held for `seconds_each`.

    It is what Chromium plays as its camera with ``--use-file-for-fake-video-capture``, which reads
    such a file at 30 frames per second and starts over at its end. A held photo repeats the same
    JPEG, so the file is quick to write.
    """
    with open(path, "wb") as out:
        for photo in photos:
            ok, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
            if not ok:
                raise OSError("cannot encode a frame as JPEG")
            out.write(jpeg.tobytes() * round(seconds_each * fps))
    return path
