"""Scan ingest: the one way a scan reaches the board, whoever sends it.

``POST /api/scans``, the organizer's phone page and ``openspaces scan --apply`` only parse their
input and call the entry point named for it, each of which builds the scan's typed
``Observations`` once:

- ``ingest_observations``: a camera's observations, parsed at the edge
  (``observations.parse_observations``), perhaps with its photo and the sticky views it cut;
- ``ingest_photo``: a photo scanned here, against the event's manifest read once for the scan and
  the views cut from it (``scanning.event_manifest``);
- ``ingest_result``: a photo the caller scanned already, with its ``scanner.ScanResult``;
- ``ingest_pending``: a photo ``preview_photo`` scanned and keeps in the previews' store.

Then every entry point goes through ``_apply_and_commit``, once:

1. A scan id seen before is answered as a duplicate at once: nothing is read, scanned or stored.
2. Every input is checked before anything is stored: the photo (``read_photo``), then the
   observations.
3. The observations are applied to the board (``apply_scan``: the scan rules).
4. The photo and its annotated copy are stored in the scans' store (``<upload_dir>/scans/`` or a
   bucket, app.services.storage), and each sticky view (cut from the photo on the server, or posted
   by a camera) that beats the sticky's picture becomes its picture (``app.services.pictures``),
   whether the board was found or not.
5. The transaction commits. When another request committed the same scan id at the same moment,
   the commit fails: everything is rolled back, the files written are deleted, and the answer is
   the other request's scan, as a duplicate.

A preview waits in the previews' store (``<upload_dir>/pending/`` or the bucket's ``pending/``)
until ``ingest_pending`` applies it; previews nobody applied are deleted after
``ScanSettings.keep_pending_s``.

More per-scan inputs come in as further keyword arguments that default to None: check them before
anything is stored, into ``_Inputs``, and store them in ``_store``, in the same transaction, so
that a duplicate or a refused scan leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Event, Scan
from app.services import ServiceError, pictures, plain_notes
from app.services.images import encode_image
from app.services.observations import (
    Observations,
    check_scan_id,
    observations_from_result,
    parse_observations,
)
from app.services.scanning import ScanTurns, annotate, event_manifest, scan_photo, scan_turns
from app.services.scans import apply_scan, find_scan, preview_scan
from app.services.storage import (
    Storage,
    Stored,
    copy_stored,
    delete_stored,
)
from app.services.uploads import read_photo
from app.settings import ScanSettings

if TYPE_CHECKING:
    from scanner import Manifest, ScanResult

JPEG_QUALITY = 85
PENDING_NAME_CHARS = frozenset("0123456789abcdef")


class PendingGone(ServiceError):
    """The previewed photo was applied already, or has expired."""


@dataclass(frozen=True)
class Ingested:
    """What became of a scan: the stored scan, and the board changes when it was applied now.

    `late`: a newer scan of the same source was applied first, so this one moved nothing.
    """

    scan: Scan
    duplicate: bool
    changes: list[dict] = field(default_factory=list)
    late: bool = False
    pictures: list[str] = field(default_factory=list)  # codes whose picture this scan improved
    # The scan's key and board_found, taken before the commit: the answer needs no second read.
    scan_key: int | None = None
    board_found: bool | None = None

    @property
    def applied(self) -> bool:
        found = self.scan.board_found if self.board_found is None else self.board_found
        return not self.duplicate and not self.late and found

    def to_json(self) -> dict:
        """Return the ``POST /api/scans`` answer (docs/contracts.md)."""
        return {
            "scan": self.scan_key if self.scan_key is not None else self.scan.id,
            "duplicate": self.duplicate,
            "applied": self.applied,
            "changes": self.changes,
            "pictures": self.pictures,
        }


@dataclass(frozen=True)
class Preview:
    """A scanned photo waiting in ``pending/`` for the organizer to apply it."""

    pending: str
    result: dict
    changes: list[dict]
    pictures: list[str] = field(default_factory=list)  # codes whose picture applying improves


@dataclass
class _Inputs:
    """The checked inputs of one scan, ready to apply and store."""

    observations: Observations
    image: Any = None  # the photo, BGR
    encoded: tuple[bytes, bytes] | None = None  # the photo and its annotated copy, as JPEG
    result: Any = None  # the scanner's result when the photo was scanned on this side
    pending: str | None = None  # a previewed photo whose files wait in pending/
    views: list = field(default_factory=list)  # sticky views (app.services.pictures.View)
    posted: frozenset = frozenset()  # the codes of the views a camera posted: issued, or refused


# -- the entry points: one per kind of input, all around _apply_and_commit -----------------------


def ingest_observations(
    *,
    event: Event,
    source: str,
    observations: Observations,
    settings: ScanSettings,
    photo: bytes | None = None,
    views: Mapping[str, tuple[bytes, Any]] | None = None,
    now: dt.datetime | None = None,
) -> Ingested:
    """Apply a camera's observations (parsed at the edge, ``observations.parse_observations``); commit.

    - ``photo``: the photo the camera scanned, kept with the scan as it is (no annotation).
    - ``views``: sticky views the camera cut itself, code -> (JPEG or PNG bytes, score dict).

    Raise InvalidScan, InvalidUpload or InvalidView (nothing stored) for input that does not fit,
    and ScannerBusy (app.services.scanning) when a photo finds every turn taken and the queue full.
    """
    # Plain observations (and the few kilobytes of a camera's views) meet their duplicate once,
    # under the board's write lock, in apply_scan; a photo is not read for a duplicate.
    if photo is not None and (existing := _seen_before(event, observations.scan_id)):
        return existing
    posted = _read_views(event, views, settings)
    inputs = _Inputs(observations=observations, views=posted, posted=frozenset(views or ()))
    if photo is not None:
        turns = settings.turns()
        with turns.turn():
            inputs.image = turns.run(read_photo, photo)
            inputs.encoded = encode_photo(inputs.image, turns=turns)
    return _apply_and_commit(event=event, source=source, settings=settings, inputs=inputs, now=now)


def ingest_photo(
    *,
    event: Event,
    source: str,
    photo: bytes,
    settings: ScanSettings,
    scan_id: str | None = None,
    captured_dt: dt.datetime | None = None,
    views: Mapping[str, tuple[bytes, Any]] | None = None,
    decoder: str = "auto",
    now: dt.datetime | None = None,
) -> Ingested:
    """Scan a photo here against the event's manifest, apply what it shows and keep it; commit.

    ``scan_id``: the client's id for the scan (a fresh one by default); ``captured_dt``: when the
    photo was taken; ``views``: as for ``ingest_observations``, besides the views cut here.
    Raise as ``ingest_observations`` does.
    """
    scan_id = check_scan_id(scan_id or f"photo-{secrets.token_hex(8)}")
    if existing := _seen_before(event, scan_id):
        return existing
    posted = _read_views(event, views, settings)
    turns = settings.turns()
    # A photo is decoded, scanned and encoded twice, in one turn, before the board's write lock
    # is taken: the lock is held for the database's work and the writing of ready files only.
    with turns.turn():
        image, manifest, result = _read_and_scan(event, photo, settings, decoder, turns)
        observations = observations_from_result(result, scan_id=scan_id, captured_dt=captured_dt)
        inputs = _scanned(event, observations, image, result, manifest, settings, turns)
    inputs.views, inputs.posted = posted + inputs.views, frozenset(views or ())
    return _apply_and_commit(event=event, source=source, settings=settings, inputs=inputs, now=now)


def ingest_result(
    *,
    event: Event,
    source: str,
    result: ScanResult,
    photo: bytes,
    scan_id: str,
    settings: ScanSettings,
    manifest: Manifest | None = None,
    now: dt.datetime | None = None,
) -> Ingested:
    """Apply a photo the caller scanned already (``openspaces scan --apply``), keep it; commit.

    ``manifest``: the one the photo was scanned against, for cutting the stickies' views (read
    here when not given). Raise as ``ingest_observations`` does.
    """
    if existing := _seen_before(event, check_scan_id(scan_id)):
        return existing
    turns = settings.turns()
    with turns.turn():
        image = turns.run(read_photo, photo)
        observations = observations_from_result(result, scan_id=scan_id)
        if manifest is None and settings.picture_dir:
            manifest = event_manifest(event)
        inputs = _scanned(event, observations, image, result, manifest, settings, turns)
    return _apply_and_commit(event=event, source=source, settings=settings, inputs=inputs, now=now)


def ingest_pending(
    *,
    event: Event,
    source: str,
    pending: str,
    settings: ScanSettings,
    now: dt.datetime | None = None,
) -> Ingested:
    """Apply a photo ``preview_photo`` scanned and keeps in ``pending/``; commit.

    Raise PendingGone when it is not there (applied already, or expired), InvalidScan when the
    board no longer has what it saw.
    """
    observations = _pending_observations(settings, pending)
    if existing := _seen_before(event, observations.scan_id):
        _drop_pending(settings, pending)
        return existing
    inputs = _Inputs(observations=observations, pending=pending)
    if settings.picture_dir:
        inputs.views = pictures.load_pending_views(settings.pending_store, pending)
    return _apply_and_commit(event=event, source=source, settings=settings, inputs=inputs, now=now)


def _seen_before(event: Event, scan_id: str) -> Ingested | None:
    """Answer a scan id the event has already as a duplicate, before any photo is read."""
    existing = find_scan(event, scan_id)
    return None if existing is None else Ingested(existing, duplicate=True)


def _scanned(event, observations, image, result, manifest, settings, turns) -> _Inputs:
    """Return the inputs of a photo scanned on this side: its stickies' views cut (against the
    photo's own ``manifest``) and the photo encoded with its annotated copy, in ``turns``."""
    views = []
    if settings.picture_dir:
        views = turns.run(
            pictures.cut_views, event=event, image=image, result=result, manifest=manifest
        )
    return _Inputs(
        observations=observations,
        image=image,
        encoded=encode_photo(image, result, turns=turns),
        result=result,
        views=views,
    )


def _apply_and_commit(
    *, event: Event, source: str, settings: ScanSettings, inputs: _Inputs, now
) -> Ingested:
    """Apply checked inputs to the board (``scans.apply_scan``) and store their files; commit once."""
    written: list[Stored | Path] = []
    pending = inputs.pending
    try:
        outcome = apply_scan(
            event=event,
            observations=inputs.observations,
            source=source,
            remove_after=settings.remove_after,
            now=now,
        )
        if outcome.duplicate:
            db.session.rollback()
            _drop_pending(settings, pending)
            return Ingested(outcome.scan, duplicate=True)
        _store(outcome.scan, inputs, settings, written)
        # Plain notes' views are named by the notes the scan told them to be.
        inputs.views, inputs.posted = plain_notes.sort_note_views(
            views=inputs.views,
            posted=inputs.posted,
            notes=outcome.note_views,
            checks=outcome.note_checks,
            store=settings.pictures_store if settings.picture_dir else None,
        )
        pictures = _store_pictures(event, inputs, settings, now, locked=outcome.stickies)
        scan_key, board_found = outcome.scan.id, outcome.scan.board_found
        db.session.commit()
    except (IntegrityError, PendingGone):
        # Another request committed the same scan id at the same moment (and, for a preview,
        # took its files): that one applied it.
        db.session.rollback()
        _unlink(written)
        existing = find_scan(event, inputs.observations.scan_id)
        if existing is None:
            raise
        _drop_pending(settings, pending)
        return Ingested(existing, duplicate=True)
    except BaseException:
        db.session.rollback()
        _unlink(written)
        raise
    _drop_pending(settings, pending)
    return Ingested(
        outcome.scan,
        duplicate=False,
        changes=outcome.changes,
        late=outcome.late,
        pictures=pictures,
        scan_key=scan_key,
        board_found=board_found,
    )


def _read_views(event: Event, views, settings: ScanSettings) -> list:
    """Read the views a camera cut itself; their codes are checked when the views are stored, by
    the query that locks the stickies (here when pictures are not kept)."""
    if not views:
        return []
    return pictures.read_posted_views(
        event=event,
        files={code: data for code, (data, _) in views.items()},
        scores={code: score for code, (_, score) in views.items()},
        check_issued=not settings.picture_dir,
    )


def _store_pictures(
    event: Event, inputs: _Inputs, settings: ScanSettings, now, *, locked
) -> list[str]:
    """Keep each view that beats its sticky's picture, in the scan's transaction."""
    if not inputs.views or not settings.picture_dir:
        return []
    from app.services.pictures import store_views

    return store_views(
        event=event,
        views=inputs.views,
        store=settings.pictures_store,
        cap_bytes=settings.pictures_max_bytes,
        now=now,
        must_be_issued=inputs.posted,
        locked=locked,
    )


def _store(scan: Scan, inputs: _Inputs, settings: ScanSettings, written: list) -> None:
    """Store the scan's photo with the scan; list every file written in ``written``."""
    stem = f"{scan.id}-{secrets.token_hex(4)}"
    store = settings.scans_store
    if inputs.pending is not None:
        for suffix in (".jpg", "-annotated.jpg"):
            try:
                copy_stored(
                    settings.pending_store, f"{inputs.pending}{suffix}", store, f"{stem}{suffix}"
                )
            except FileNotFoundError:
                raise PendingGone("this scan was applied already or has expired") from None
            written.append(Stored(store, f"{stem}{suffix}"))
        scan.image_path = f"{stem}-annotated.jpg"
    elif inputs.image is not None:
        scan.image_path = write_photo(store, stem, inputs.encoded, written=written)
        if inputs.result is not None:
            key = outline_key(scan.id)
            write_outline(store, key, inputs.image, inputs.result)
            written.append(Stored(store, key))
    db.session.flush()


def outline_key(scan_key: int) -> str:
    """Return the key of the board outline of a scan's photo (JSON, beside the photo)."""
    return f"{scan_key}-outline.json"


def write_outline(store: Storage, key: str, image, result) -> dict:
    """Keep the board outline a scan found in its photo; return it.

    ``outline`` is the board through the corner markers (tl, tr, br, bl) in photo pixels, or None
    when the board was not found; ``size`` is the photo's width and height.
    """
    height, width = image.shape[:2]
    quad = result.board_quad
    found = {
        "outline": [[round(x, 1), round(y, 1)] for x, y in quad] if quad else None,
        "size": [width, height],
    }
    store.put(key, json.dumps(found).encode(), content_type="application/json")
    return found


def encode_photo(image, result=None, *, turns: ScanTurns | None = None) -> tuple[bytes, bytes]:
    """Encode a photo and its copy annotated with the scanner's ``result`` (the photo itself
    without one) as JPEG, in ``turns``: seconds for a large photo, so done before the board's
    write lock is taken."""
    turns = turns or scan_turns()
    annotated = image if result is None else annotate(image, result, turns=turns)
    return tuple(
        turns.run(encode_image, picture, quality=JPEG_QUALITY, what="the photo")
        for picture in (image, annotated)
    )


def write_photo(store: Storage, stem: str, encoded: tuple[bytes, bytes], *, written: list) -> str:
    """Write a photo and its annotated copy (``encode_photo``) as ``<stem>.jpg`` and
    ``<stem>-annotated.jpg`` into ``store``, each whole or not at all; list them in ``written``.
    Return the annotated copy's key.
    """
    for suffix, data in zip((".jpg", "-annotated.jpg"), encoded, strict=True):
        store.put(f"{stem}{suffix}", data)
        written.append(Stored(store, f"{stem}{suffix}"))
    return f"{stem}-annotated.jpg"


def _unlink(written: list) -> None:
    delete_stored(written)


# -- previews waiting in pending/ -----------------------------------------------------------------


def preview_photo(
    *,
    event: Event,
    photo: bytes,
    settings: ScanSettings,
    decoder: str = "auto",
) -> Preview:
    """Scan a photo and keep it in ``pending/`` with the changes applying it would make.

    Nothing on the board changes. Previews older than ``settings.keep_pending_s`` are deleted.
    Raise ScannerBusy (app.services.scanning) when every turn is taken and the queue is full.
    """
    prune_pending(settings)
    turns = settings.turns()
    with turns.turn():
        return _preview(event=event, photo=photo, settings=settings, decoder=decoder, turns=turns)


def _read_and_scan(event: Event, photo: bytes, settings: ScanSettings, decoder: str, turns):
    """Decode a photo and scan it with the event's manifest, read once; return all three.

    Runs within a turn the caller holds (app.services.scanning).
    """
    image = turns.run(read_photo, photo)
    manifest = event_manifest(event)
    result = scan_photo(
        event, image, manifest=manifest, decoder=decoder, turns=turns, params=settings.scan_params
    )
    return image, manifest, result


def _preview(*, event: Event, photo: bytes, settings: ScanSettings, decoder: str, turns) -> Preview:
    image, manifest, result = _read_and_scan(event, photo, settings, decoder, turns)
    pending = secrets.token_hex(16)
    observations = observations_from_result(result, scan_id=f"upload-{pending}")
    changes = preview_scan(
        event=event, observations=observations, remove_after=settings.remove_after
    )
    views = turns.run(
        pictures.cut_views, event=event, image=image, result=result, manifest=manifest
    )
    # The preview's record, and where the scan's time went, for the preview page and the scan.
    body = observations.to_json()
    store = settings.pending_store
    written: list[Stored | Path] = []
    try:
        write_photo(store, pending, encode_photo(image, result, turns=turns), written=written)
        if settings.picture_dir:
            written += pictures.save_pending_views(store, pending, views)
        # Written last, whole: a preview without its body is no preview.
        store.put(f"{pending}.json", json.dumps(body).encode(), content_type="application/json")
    except BaseException:
        _unlink(written)
        raise
    return Preview(
        pending=pending,
        result=body,
        changes=changes,
        pictures=pictures.improved(event=event, views=views),
    )


def pending_image(settings: ScanSettings, pending: str) -> str:
    """Return the key of a preview's annotated photo in ``settings.pending_store``; raise
    PendingGone for an unknown id."""
    key = f"{_pending_id(pending)}-annotated.jpg"
    if not settings.pending_store.exists(key):
        raise PendingGone("this scan was applied already or has expired")
    return key


def prune_pending(settings: ScanSettings) -> int:
    """Delete previews nobody applied within ``keep_pending_s``; return how many files went."""
    store = settings.pending_store
    oldest = time.time() - settings.keep_pending_s
    stale = [key for key, modified in store.listing() if modified < oldest]
    for key in stale:
        store.delete(key)  # one another request removed first is fine
    return len(stale)


def _pending_id(pending: str) -> str:
    if len(pending) != 32 or not set(pending) <= PENDING_NAME_CHARS:
        raise PendingGone("there is no such scan to apply")
    return pending


def _pending_observations(settings: ScanSettings, pending: str) -> Observations:
    """Return the observations a preview keeps, read back from its JSON record."""
    body = settings.pending_store.get(f"{_pending_id(pending)}.json")
    if body is None:
        raise PendingGone("this scan was applied already or has expired")
    record = json.loads(body)
    timings = record.get("timings")
    return replace(
        parse_observations(record), timings=timings if isinstance(timings, dict) else None
    )


def _drop_pending(settings: ScanSettings, pending: str | None) -> None:
    if pending is not None:
        store = settings.pending_store
        for suffix in (".json", ".jpg", "-annotated.jpg"):
            store.delete(f"{pending}{suffix}")
        for key in pictures.pending_view_files(store, pending):
            store.delete(key)
