"""Sticky pictures: the best view of each sticky so far, cut from scans, kept in the instance folder.

- Of two views of a sticky the one with the higher quality (scanner.ViewScore.quality: pixels per
  mm, sharpness, glare, how much of it showed) is kept; a worse or equal view never replaces it.
- Pictures live in the pictures' store (app.services.storage: ``<picture_dir>`` or a bucket) as
  ``<event id>/<file>``; an event's pictures together stay under a size
  cap. A view that would pass it is not kept, and the log says so once per event.
- Pictures belong to the sticky, not to a scan or a place: undoing a scan or rebuilding the board
  leaves them alone. An organizer can drop a sticky's picture; the next view of it is then kept.
- A file is deleted only once the transaction that stopped using it has committed, and a file
  written by a transaction that rolled back is deleted then, so the database never names a
  missing file.
- A picture is made to be read (``make_picture``): a view with handwriting on it is cut to the
  ink (the printed band, marker, prompt and QR code left out), enlarged to PICTURE_PX_PER_MM and
  sharpened where it was enlarged. A view with no writing found is kept whole. Where the picture
  was cut and how large it is goes into ``picture_score["picture"]`` (``PictureShape``), so that
  pages reserve its size before it loads and title reading knows what it reads; pictures kept
  before that have no such entry and are served as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app import effects
from app.effects import Effect
from app.extensions import db
from app.models import Event, Sticky, utcnow
from app.services import ServiceError
from app.services.images import ImageEncodeError, encode_image
from app.services.manifest import build_manifest
from app.services.observations import VIEW_PREFIX
from app.services.storage import Storage, Stored, delete_stored
from app.services.uploads import InvalidUpload

log = logging.getLogger(__name__)

JPEG_QUALITY = 85
# A camera's view is a few hundred kB at most: a 105 x 148 mm card at 8 px/mm is 1.2 MP.
MAX_VIEW_BYTES = 2 * 1024 * 1024
MAX_VIEW_PIXELS = 4_000_000
# Narrower than this a view shows nothing of a sticky (a 76 mm one at 1 px/mm is 76 pixels wide).
MIN_VIEW_SIDE = 8
_capped_events: set[int] = set()
# Each event's picture bytes as this process last counted and kept them: (bytes, when counted).
_tally: dict[tuple[str, int], tuple[int, float]] = {}
RECOUNT_S = 30.0
NEAR_CAP = 0.9


class InvalidView(ServiceError):
    """A view posted by a camera that is too large, not an image, or for a code never issued."""


@dataclass(frozen=True)
class View:
    """One picture of a sticky: its code, the BGR image and its score (scanner.ViewScore).

    A camera's JPEG view comes as it was sent (`jpeg`); it is decoded only when it is kept.
    """

    code: str
    image: Any
    score: Any
    jpeg: bytes | None = None


def picture_key(sticky: Sticky) -> str | None:
    """Return the key of the sticky's picture in the pictures' store, or None when it has none."""
    if not sticky.picture_file:
        return None
    return f"{sticky.event_id}/{sticky.picture_file}"


def picture_path(picture_dir: str, sticky: Sticky) -> Path | None:
    """Return the file of the sticky's picture in the folder ``picture_dir``, or None."""
    key = picture_key(sticky)
    return None if key is None else Path(picture_dir) / key


def event_picture_bytes(event_id: int) -> int:
    """Return the bytes all pictures of an event take on disk."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Sticky.picture_bytes), 0)).where(Sticky.event_id == event_id)
    )
    return int(total or 0)


def store_view(
    *,
    sticky: Sticky,
    image=None,
    score,
    store: Storage,
    cap_bytes: int,
    jpeg: bytes | None = None,
    event_bytes: int | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Keep a view as the sticky's picture if it beats the one kept; return whether it did.

    The view is `image`, a BGR array (an upright view of the whole sticky), or the same as `jpeg`
    bytes; `score` is a scanner.ViewScore. A view that would take the event's pictures past
    `cap_bytes` is not kept; `event_bytes` is what they take now, when the caller knows it.
    """
    quality = float(score.quality)
    if sticky.picture_quality is not None and quality <= sticky.picture_quality:
        return False
    data, shape = make_picture(sticky, image=image, jpeg=jpeg, px_per_mm=float(score.px_per_mm))
    if event_bytes is None:
        event_bytes = event_picture_bytes(sticky.event_id)
    total = event_bytes - (sticky.picture_bytes or 0) + len(data)
    if total > cap_bytes:
        if sticky.event_id not in _capped_events:
            _capped_events.add(sticky.event_id)
            log.warning(
                "sticky pictures of event %s reached their cap of %d bytes; "
                "new pictures are not kept (PICTURES_MAX_BYTES)",
                sticky.event_id,
                cap_bytes,
            )
        return False
    name = f"{sticky.code}-{hashlib.blake2b(data, digest_size=8).hexdigest()}.jpg"
    key = f"{sticky.event_id}/{name}"
    if not store.exists(key):
        store.put(key, data)
        effects.after_rollback(Effect.DELETE_FILE, Stored(store, key))
    old = picture_key(sticky)
    if old is not None and old != key:
        effects.after_commit(Effect.DELETE_FILE, Stored(store, old))
    sticky.picture_file = name
    sticky.picture_quality = quality
    sticky.picture_score = {**score.to_dict(), "picture": shape.to_dict()}
    sticky.picture_bytes = len(data)
    sticky.picture_dt = now or utcnow()
    # A new best picture: its title is read off the request path, once this transaction commits.
    effects.after_commit(Effect.NEW_PICTURE, sticky.id)
    return True


# Pictures are public, and the sticky's QR code and the key beside it tell how to claim it
# (app.services.claim_keys): both are painted over in every picture kept, this much wider all round
# for a view whose pose is a few millimetres off.
KEY_AREA_MARGIN_MM = 3.0
KEY_AREA_GREY = 176
# A picture cut to the writing: this much paper all round the ink, enlarged to this resolution
# (a 60 x 25 mm title becomes 600 x 250 pixels), never by more than MAX_ENLARGE nor past
# MAX_PICTURE_SIDE pixels.
INK_MARGIN_MM = 2.0
PICTURE_PX_PER_MM = 10.0
MAX_ENLARGE = 5.0
MAX_PICTURE_SIDE = 1200
# Ink is darker than this share of the paper around it: a marker pen is below 0.4, the printed
# rules (grey 200) are above 0.75; the grey prompt (150) is left out by where it is printed.
INK_SHARE = 0.6
PAPER_SHARE = 0.93  # and paper is at least this bright
# Writing covers between these shares of the writing area; less is a speck, more is no writing
# (a shadow across the sticky, a torn-off photo, noise).
MIN_INK_SHARE, MAX_INK_SHARE = 0.002, 0.35
# A blot of ink smaller than this (mm²) is dust or noise, not a stroke.
MIN_BLOT_MM2 = 0.6
REACH_MM = 6.0
# A picture drawn from fewer camera pixels than this per picture pixel is sharpened: an unsharp
# mask this strong, of one camera pixel.
SHARPEN_FROM_PX = 1.5
SHARPEN = 0.6


@dataclass(frozen=True)
class PictureShape:
    """Say what a kept picture shows: its size in pixels and the part of the sticky it shows.

    `crop_mm` is (left, top, right, bottom) in mm from the sticky's top-left corner; a picture of
    the whole sticky has (0, 0, width, height). `cut` says whether it was cut to the writing.
    """

    width: int
    height: int
    crop_mm: tuple[float, float, float, float]
    cut: bool

    def to_dict(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "crop_mm": [round(v, 2) for v in self.crop_mm],
            "cut": self.cut,
        }


def picture_shape(sticky: Sticky) -> PictureShape | None:
    """Return the shape of the sticky's picture, or None for none or one kept before shapes were."""
    shown = (sticky.picture_score or {}).get("picture") if sticky.picture_file else None
    if not shown:
        return None
    return PictureShape(
        width=int(shown["width"]),
        height=int(shown["height"]),
        crop_mm=tuple(float(v) for v in shown["crop_mm"]),
        cut=bool(shown["cut"]),
    )


def make_picture(
    sticky: Sticky, *, image=None, jpeg: bytes | None = None, px_per_mm: float | None = None
) -> tuple[bytes, PictureShape]:
    """Return the picture kept of a view, as JPEG bytes, and its shape.

    A view shows the whole sticky edge to edge: its pixel (i, j) shows the point ((i + 0.5) / sx,
    (j + 0.5) / sy) mm from the sticky's top-left corner, sx and sy its pixels per mm across and
    down. The view's handwriting is cut out, with INK_MARGIN_MM of paper round it, and enlarged;
    without writing the whole view is kept. Either way the QR code and the printed claim key are
    painted over (``key_areas`` of the template). `px_per_mm` is the camera's resolution on the
    sticky (the view's score): an enlarged coarse view is sharpened.
    """
    import cv2  # slow imports, kept off the web app's start
    import numpy as np

    from printables import get_template

    if image is None:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ImageEncodeError(f"the view of {sticky.code} is not a readable image")
    else:
        image = image.copy()
    if sticky.plain:
        return _plain_picture(sticky, image, px_per_mm=px_per_mm)
    template = get_template(sticky.batch.template if sticky.batch else "note-76")
    height, width = image.shape[:2]
    sx, sy = width / template.sticky_w_mm, height / template.sticky_h_mm
    keys = _key_mask(image.shape[:2], template, sx, sy)
    prompts = _prompt_mask(image.shape[:2], template, sx, sy)
    shade = _shade(image, sx)
    dark = shade < INK_SHARE
    writing = _writing_mask(image.shape[:2], template, sx, sy) & ~keys
    # A hand's first line often starts higher: strokes that reach up out of the writing area
    # are followed up to REACH_MM (and count only by their pixels inside it).
    marker = _marker_mask(image.shape[:2], template, sx, sy)
    reach = _writing_mask(image.shape[:2], template, sx, sy, above_mm=REACH_MM) & ~keys & ~marker
    box = _ink_box(dark & reach, counted=writing & ~prompts, sx=sx, sy=sy)
    what = f"the view of {sticky.code}"
    if box is None:
        image[keys] = KEY_AREA_GREY
        shape = PictureShape(
            width, height, (0.0, 0.0, template.sticky_w_mm, template.sticky_h_mm), cut=False
        )
        # Encoded afresh: a camera's JPEG keeps none of its EXIF (its GPS position) or trailing
        # bytes.
        return encode_image(image, quality=JPEG_QUALITY, what=what), shape
    x0, y0, x1, y1 = box
    # The key areas, the marker and the printed prompts take the colour of the paper round the
    # writing (ink that crosses a prompt stays): the writing reads as if they were never printed.
    near = np.zeros_like(keys)
    near[y0:y1, x0:x1] = True
    image[keys | marker | (prompts & ~dark)] = np.median(
        image[near & ~keys & (shade > PAPER_SHARE)], axis=0
    )
    scale = _scale(x1 - x0, y1 - y0, sx)
    seen = min(px_per_mm or sx, sx)
    crop = _enlarge(image[y0:y1, x0:x1], scale=scale, camera_px=sx * scale / seen)
    shape = PictureShape(
        crop.shape[1], crop.shape[0], (x0 / sx, y0 / sy, x1 / sx, y1 / sy), cut=True
    )
    return encode_image(crop, quality=JPEG_QUALITY, what=what), shape


def _plain_picture(sticky: Sticky, image, *, px_per_mm: float | None) -> tuple[bytes, PictureShape]:
    """Return a plain note's picture: the whole note, nothing of ours printed on it to paint over,
    at most MAX_PICTURE_SIDE pixels on a side."""
    import cv2

    height, width = image.shape[:2]
    # Without the photo's scale, the note is taken for the usual 76 mm one.
    per_mm = px_per_mm or max(width, height) / 76.0
    shape_mm = (0.0, 0.0, width / per_mm, height / per_mm)
    shrink = MAX_PICTURE_SIDE / max(width, height)
    if shrink < 1:
        size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    what = f"the view of {sticky.code}"
    shape = PictureShape(image.shape[1], image.shape[0], shape_mm, cut=False)
    return encode_image(image, quality=JPEG_QUALITY, what=what), shape


def _key_mask(size: tuple[int, int], template, sx: float, sy: float):
    """Return where the QR code and the key are printed, KEY_AREA_MARGIN_MM wider, as a mask."""
    import numpy as np

    mask = np.zeros(size, bool)
    for left, top, _, _ in template.key_areas:
        # Each area reaches the sticky's right and bottom edges, and so the view's.
        x0 = max(0, int((left - KEY_AREA_MARGIN_MM) * sx))
        y0 = max(0, int((top - KEY_AREA_MARGIN_MM) * sy))
        mask[y0:, x0:] = True
    return mask


def _marker_mask(size: tuple[int, int], template, sx: float, sy: float):
    """Return where the marker and its quiet zone are printed, in the sticky's top-right corner."""
    import numpy as np

    mask = np.zeros(size, bool)
    left = template.marker_origin[0] - template.marker_cell_mm
    mask[: int(_writing_top_mm(template) * sy) + 1, max(0, int(left * sx)) :] = True
    return mask


def _writing_top_mm(template) -> float:
    """Return where the writing area starts, in mm from the sticky's top: under the marker block."""
    return template.marker_origin[1] + template.marker_side_mm + template.marker_cell_mm


def _writing_mask(size: tuple[int, int], template, sx: float, sy: float, above_mm: float = 0.0):
    """Return where a hand writes on the sticky: under the marker block (or `above_mm` higher),
    inside the margins."""
    import numpy as np

    w_mm, h_mm, m = template.sticky_w_mm, template.sticky_h_mm, template.margin_mm
    top = _writing_top_mm(template) - above_mm
    mask = np.zeros(size, bool)
    mask[
        int((top + 0.5) * sy) : int((h_mm - m / 2) * sy), int(m / 2 * sx) : int((w_mm - m / 2) * sx)
    ] = True
    return mask


def _prompt_mask(size: tuple[int, int], template, sx: float, sy: float):
    """Return where printables may print a prompt ("session title"; "name", "interests"): 6 pt
    grey text at the left margin, its foot 2.6 mm under the top of its line, lines RULE_PITCH_MM
    apart."""
    import numpy as np

    from printables.sticky import RULE_PITCH_MM

    m = template.margin_mm
    mask = np.zeros(size, bool)
    for line in range(2):
        y = _writing_top_mm(template) + line * RULE_PITCH_MM
        mask[int(y * sy) : int((y + 3.4) * sy), int((m - 1) * sx) : int((m + 20) * sx)] = True
    return mask


def _shade(image, px_per_mm: float):
    """Return each pixel's brightness as a share of the paper's round it (a closing and a blur
    wider than a stroke take the ink out to leave the paper)."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    k = max(3, int(6 * px_per_mm) | 1)
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), k / 3)
    return gray.astype(np.float32) / np.maximum(paper.astype(np.float32), 1.0)


def _ink_box(ink, *, counted, sx: float, sy: float) -> tuple[int, int, int, int] | None:
    """Return the box (x0, y0, x1, y1), in view pixels, round the handwriting in the `ink` mask
    (dark pixels) with INK_MARGIN_MM all round; None without writing.

    A blot counts by its pixels in `counted` (the writing area off the printed prompts), at least
    MIN_BLOT_MM2: the prompts' own letters do not count, and a stroke that crosses a prompt or
    reaches out of the area counts whole. Writing covers MIN_INK_SHARE to MAX_INK_SHARE of
    `counted`.
    """
    import cv2
    import numpy as np

    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype("uint8"), connectivity=8)
    inside = np.bincount(labels[ink & counted], minlength=count)
    blots = [i for i in range(1, count) if inside[i] >= MIN_BLOT_MM2 * sx * sy]
    inked = sum(int(inside[i]) for i in blots)
    if not MIN_INK_SHARE <= inked / max(1, int(counted.sum())) <= MAX_INK_SHARE:
        return None
    left = min(stats[i, cv2.CC_STAT_LEFT] for i in blots)
    top = min(stats[i, cv2.CC_STAT_TOP] for i in blots)
    right = max(stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH] for i in blots)
    bottom = max(stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] for i in blots)
    mx, my = INK_MARGIN_MM * sx, INK_MARGIN_MM * sy
    height, width = ink.shape
    return (
        max(0, int(left - mx)),
        max(0, int(top - my)),
        min(width, round(right + mx)),
        min(height, round(bottom + my)),
    )


def _scale(width: int, height: int, px_per_mm: float) -> float:
    """Return how much to enlarge a crop of a view at `px_per_mm`: to PICTURE_PX_PER_MM, within
    MAX_ENLARGE and MAX_PICTURE_SIDE, and never to shrink it."""
    scale = min(PICTURE_PX_PER_MM / px_per_mm, MAX_ENLARGE, MAX_PICTURE_SIDE / max(width, height))
    return max(1.0, scale)


def _enlarge(crop, *, scale: float, camera_px: float):
    """Return the crop enlarged `scale` times (Lanczos) and, where that softened it, sharpened.

    `camera_px` is one camera pixel's width in pixels of the enlarged picture: a picture drawn
    larger than the camera saw is soft, and an unsharp mask of about one camera pixel brings its
    strokes' edges back.
    """
    import cv2

    if scale > 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LANCZOS4)
    if camera_px < SHARPEN_FROM_PX:
        return crop
    blurred = cv2.GaussianBlur(crop, (0, 0), min(camera_px, 4.0))
    return cv2.addWeighted(crop, 1 + SHARPEN, blurred, -SHARPEN, 0)


def store_views(
    *,
    event: Event,
    views: Iterable[View],
    store: Storage,
    cap_bytes: int,
    now: dt.datetime | None = None,
    must_be_issued: Iterable[str] = (),
    locked: Mapping[str, Sticky] | None = None,
) -> list[str]:
    """Keep each view that beats its sticky's picture; return the codes whose picture changed.

    Views for codes the event never issued are skipped (the scanner may read a stray sticky of
    another event), except those in `must_be_issued` (a camera's views): they raise InvalidView
    before anything is written. `locked`: stickies this transaction read after it took the
    board's write lock (a scan's, app.db.write_lock_event), by code.
    """
    views = list(views)
    if not views:
        return []
    codes = {v.code for v in views}
    if (
        locked is not None
        and codes <= locked.keys()
        and db.session.get_bind().dialect.name == "sqlite"
    ):
        # SQLite's write lock is the whole database's: nobody can have changed them since.
        stickies = {code: locked[code] for code in codes}
    else:
        # Locked until the scan commits (PostgreSQL), so that of two scans storing a view of one
        # sticky at once, or a scan and an organizer dropping its picture, the second sees what
        # the first kept.
        stickies = {
            s.code: s
            for s in db.session.scalars(
                select(Sticky)
                .where(Sticky.event_id == event.id, Sticky.code.in_(codes))
                .order_by(Sticky.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        }
    _refuse_unknown(set(must_be_issued) - set(stickies))
    kept = []
    key = _tally_key(event.id)
    total = _event_bytes(key, adding=sum(_size_bound(v) for v in views), cap_bytes=cap_bytes)
    for view in views:
        sticky = stickies.get(view.code)
        if sticky is None:
            continue
        before = sticky.picture_bytes or 0
        if store_view(
            sticky=sticky,
            image=view.image,
            jpeg=view.jpeg,
            score=view.score,
            store=store,
            cap_bytes=cap_bytes,
            event_bytes=total,
            now=now,
        ):
            kept.append(view.code)
            total += sticky.picture_bytes - before
    _tally[key] = (total, _tally[key][1])  # counted by _event_bytes above
    db.session.flush()
    return kept


def _tally_key(event_id: int) -> tuple[str, int]:
    return (str(db.engine.url), event_id)


def _size_bound(view: View) -> int:
    if view.jpeg is not None:
        return len(view.jpeg)
    return int(view.image.size)  # a JPEG is smaller than the raw pixels


def _event_bytes(key: tuple[str, int], *, adding: int, cap_bytes: int) -> int:
    """Return the bytes the pictures of the event in `key` (``_tally_key``) take, counted in the
    database at most every RECOUNT_S seconds, and always when `adding` more could take them near
    `cap_bytes`.

    In between, the process's own tally stands in: pictures that other processes kept
    meanwhile are missing from it, so the cap is counted exactly whenever it is near.
    """
    known = _tally.get(key)
    now = time.monotonic()
    if (
        known is not None
        and now - known[1] < RECOUNT_S
        and known[0] + adding <= NEAR_CAP * cap_bytes
    ):
        return known[0]
    total = event_picture_bytes(key[1])
    _tally[key] = (total, now)
    return total


def cut_views(*, event: Event, image, result, manifest: dict | None = None) -> list[View]:
    """Cut a view of every sticky the scan read out of the photo (scanner.cut_views).

    Raise InvalidUpload when the scanner cannot cut views out of this photo.
    """
    import scanner

    try:
        found = scanner.cut_views(image, manifest or build_manifest(event), result)
    except scanner.ScanError as exc:
        raise InvalidUpload(f"the stickies cannot be cut out of the photo: {exc}") from None
    views = [View(code=v.code, image=v.image, score=v.score) for v in found]
    # A plain note's view goes by its place in the scan's notes (``note:<index>``) until the scan
    # tells which note it shows (app.services.plain_notes).
    if getattr(result, "notes", ()):
        notes = scanner.cut_note_views(image, result)
        views += [View(code=f"{VIEW_PREFIX}{v.index}", image=v.image, score=v.score) for v in notes]
    return views


def improved(*, event: Event, views: Iterable[View]) -> list[str]:
    """Return the codes whose picture these views would improve (nothing is stored)."""
    views = list(views)
    if not views:
        return []
    quality = dict(
        db.session.execute(
            select(Sticky.code, Sticky.picture_quality).where(
                Sticky.event_id == event.id, Sticky.code.in_([v.code for v in views])
            )
        ).all()
    )
    return sorted(
        v.code
        for v in views
        if v.code in quality and (quality[v.code] is None or v.score.quality > quality[v.code])
    )


# A previewed photo's views wait beside it in the previews' store (app.services.storage) until it
# is applied: lossless PNG each, and one JSON of their scores.


def save_pending_views(store: Storage, pending: str, views: Iterable[View]) -> list[Stored]:
    """Write a preview's views next to its photo in ``store``; return the files written."""
    import json

    written, scores = [], {}
    for view in views:
        key = f"{pending}-view-{view.code}.png"
        data = encode_image(view.image, suffix=".png", what=f"the view of {view.code}")
        store.put(key, data, content_type="image/png")
        written.append(Stored(store, key))
        scores[view.code] = view.score.to_dict()
    key = f"{pending}-views.json"
    store.put(key, json.dumps(scores).encode(), content_type="application/json")
    written.append(Stored(store, key))
    return written


def load_pending_views(store: Storage, pending: str) -> list[View]:
    """Read back the views a preview saved in ``store``; none when it saved none."""
    import json

    import cv2
    import numpy as np

    import scanner

    saved = store.get(f"{pending}-views.json")
    if saved is None:
        return []
    views = []
    for code, score in sorted(json.loads(saved).items()):
        data = store.get(f"{pending}-view-{code}.png")
        if data is None:
            continue
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is not None:
            views.append(View(code=code, image=image, score=scanner.ViewScore.from_dict(score)))
    return views


def pending_view_files(store: Storage, pending: str) -> list[str]:
    """Return the keys of a preview's views in ``store``."""
    views = [key for key, _ in store.listing(prefix=f"{pending}-view-") if key.endswith(".png")]
    return [*views, f"{pending}-views.json"]


def drop_picture(*, sticky: Sticky, store: Storage) -> None:
    """Forget the sticky's picture and its suggestion: the next view of it is kept, whatever it is."""
    old = picture_key(sticky)
    if old is not None:
        effects.after_commit(Effect.DELETE_FILE, Stored(store, old))
    sticky.picture_file = None
    sticky.picture_quality = None
    sticky.picture_score = None
    sticky.picture_bytes = 0
    sticky.picture_dt = None
    sticky.suggested_title = None


def read_posted_views(
    *,
    event: Event,
    files: dict,
    scores: dict,
    max_bytes: int = MAX_VIEW_BYTES,
    check_issued: bool = True,
) -> list[View]:
    """Check the views a camera posted and return them; raise InvalidView naming the first fault.

    `files` maps a code to the uploaded bytes (JPEG or PNG), `scores` a code to its score dict
    (docs/contracts.md). Nothing is stored here. `check_issued=False` leaves the codes to
    ``store_views(must_be_issued=...)``, which reads the stickies anyway (scan ingest).
    """
    for code in sorted(set(files) | set(scores)):
        if not files.get(code):
            raise InvalidView(f"the view of {code} has no image (a file field view.{code})")
        if scores.get(code) is None:
            raise InvalidView(f"the view of {code} has no score (a field score.{code})")
    if check_issued:
        issued = set(
            db.session.scalars(
                select(Sticky.code).where(Sticky.event_id == event.id, Sticky.code.in_(list(files)))
            )
        )
        # A plain note's view goes by its place in the scan's notes: its code is not known yet.
        _refuse_unknown({c for c in files if not c.startswith(VIEW_PREFIX)} - issued)
    return [_posted_view(code, files[code], scores[code], max_bytes) for code in sorted(files)]


def _posted_view(code: str, data: bytes, score: dict, max_bytes: int) -> View:
    """Check one posted view's bytes and score; raise InvalidView naming the fault."""
    import cv2
    import numpy as np

    import scanner

    what = f"the view of {code}"
    if len(data) > max_bytes:
        raise InvalidView(f"{what} is {len(data)} bytes; at most {max_bytes} bytes per view")
    is_jpeg = data.startswith(b"\xff\xd8\xff")
    if not (is_jpeg or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise InvalidView(f"{what} is not a JPEG or PNG image")
    try:
        # The header is enough to check a JPEG, which is decoded only if it is kept; a PNG
        # is decoded only once its header's size is within the limits.
        header = scanner.read_header(data, what=what)
    except scanner.ScanError:
        raise InvalidView(f"{what} is not a readable image") from None
    if is_jpeg and header.mode not in ("RGB", "L"):
        raise InvalidView(f"{what} is not a readable image")
    try:
        scanner.check_size(
            header.width,
            header.height,
            what=what,
            max_pixels=MAX_VIEW_PIXELS,
            min_side=MIN_VIEW_SIDE,
        )
    except scanner.ScanError as exc:
        raise InvalidView(str(exc)) from None
    image = None
    if not is_jpeg:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise InvalidView(f"{what} is not a readable image")
    try:
        view_score = scanner.ViewScore.from_dict(score)
    except ValueError as exc:
        raise InvalidView(f"{what}: {exc}") from None
    return View(code=code, image=image, score=view_score, jpeg=data if is_jpeg else None)


# -- showing and transcribing ---------------------------------------------------------------------

MAX_TITLE = 120


def _refuse_unknown(codes: set[str]) -> None:
    if codes:
        raise InvalidView(
            f"views for codes never issued for this event: {', '.join(sorted(codes))}"
        )


def transcription_queue(event: Event) -> list[Sticky]:
    """Return the untitled stickies on the wall that have a picture, in the order they were issued."""
    from app.models import BoardStatus

    query = (
        select(Sticky)
        .where(
            Sticky.event_id == event.id,
            Sticky.picture_file.is_not(None),
            Sticky.board_status != BoardStatus.NONE,
            Sticky.hidden.is_(False),
            func.coalesce(Sticky.title, "") == "",
        )
        .order_by(Sticky.id)
    )
    return list(db.session.scalars(query))


def confirm_title(*, sticky: Sticky, title: str) -> None:
    """Make what someone read on the sticky's picture its title; a typed title is never replaced.

    The sticky stays unclaimed: its host can still claim it and edit the title.
    """
    title = " ".join((title or "").split())
    if not title:
        raise ServiceError("type the title written on the sticky")
    if len(title) > MAX_TITLE:
        raise ServiceError(f"a title has at most {MAX_TITLE} characters, not {len(title)}")
    if sticky.title:
        raise ServiceError(f"sticky {sticky.code} has a title already: {sticky.title!r}")
    sticky.title = title


def handwritten_people(event: Event) -> list[Sticky]:
    """Return the unclaimed person stickies the camera has a picture of, in the order issued."""
    from app.models import StickyKind

    query = (
        select(Sticky)
        .where(
            Sticky.event_id == event.id,
            Sticky.kind == StickyKind.PERSON,
            Sticky.claimed_dt.is_(None),
            Sticky.picture_file.is_not(None),
            Sticky.hidden.is_(False),
        )
        .order_by(Sticky.id)
    )
    return list(db.session.scalars(query))


# -- files follow the transaction ---------------------------------------------------------------


def delete_files(files: Iterable[Stored | Path]) -> None:
    """Delete the stored files (app.services.storage.Stored) or local paths; one gone is fine.

    Subscribed in create_app (app.effects): it runs once the transaction that stopped naming the
    files has committed, or once the one that wrote them has rolled back.
    """
    delete_stored(files)
