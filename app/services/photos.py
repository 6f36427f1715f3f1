"""Wall photos: the organizer's as taken, a copy with the faces blurred, and how long each is kept.

The wall camera photographs whoever stands at the board. The files of a scan, in the scans' store
(``<upload dir>/scans/`` or a bucket, app.services.storage and app.services.ingest):

- ``<stem>.jpg``, the photo as taken, ``<stem>-annotated.jpg``, the same with what the scanner read
  drawn on it, and ``<scan id>-thumb.jpg`` (app.services.cameras): the organizer's, with faces as
  they were. They are deleted once the retention period is over (``purge_photos``).
- ``<stem>-public.jpg``: the annotated photo with every face blurred (scanner.faces), made the
  first time it is asked for (``public_photo``), and before the photos it comes from are deleted.
  The time-lapse shows only these, and they are kept.

The retention period ends ``retention_days`` (``PHOTO_RETENTION_DAYS``, a week by default) after the
end of the event's last slot; for an event without slots, that long after the photo came. Sticky
pictures show handwriting, not people: they are kept (app.services.pictures).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Event, Scan, utcnow
from app.services.images import encode_image
from app.services.scanning import ScanTurns, scan_turns
from app.services.storage import Storage
from app.services.text import plural

DEFAULT_RETENTION_DAYS = 7


@dataclass(frozen=True)
class Purge:
    """What a purge deleted (or would delete, in a dry run): scans whose photos went, photo files,
    and the bytes they took."""

    scans: int
    files: int
    bytes: int


def public_name(image_path: str) -> str:
    """Return the file name of the public copy of a scan's annotated photo ``image_path``."""
    return image_path.removesuffix("-annotated.jpg").removesuffix(".jpg") + "-public.jpg"


def organizer_files(scan: Scan) -> list[str]:
    """Return the keys of a scan's files that show the wall as photographed (which may not exist)."""
    if not scan.image_path:
        return []
    stem = scan.image_path.removesuffix("-annotated.jpg").removesuffix(".jpg")
    return [f"{stem}.jpg", f"{stem}-annotated.jpg", f"{scan.id}-thumb.jpg"]


def blurred_copy(*, photo, shown=None) -> bytes:
    """Return the copy of a wall photo that may be shown beyond the organizers, as JPEG bytes.

    ``shown`` (default: ``photo``) is the picture to show, a BGR array the size of ``photo`` (its
    annotated copy); every face found in ``photo`` is blurred in it, and the result is encoded
    afresh (app.services.images).
    """
    # The scanner brings OpenCV: imported here, so that the app starts fast.
    from scanner.faces import blur_faces

    shown = photo if shown is None else shown
    return encode_image(blur_faces(shown, find_in=photo).image, what="the public photo")


def public_photo(*, store: Storage, scan: Scan, turns: ScanTurns | None = None) -> str | None:
    """Return the key of the public copy of a scan's photo in ``store`` (the scans' store), made
    now if it was not yet; None without one.

    Finding faces takes a second or more of CPU: a copy is made in one of ``turns`` (a photo's
    turn, app.services.scanning), and ScannerBusy says that none is free.
    """
    if not scan.image_path:
        return None
    name = public_name(scan.image_path)
    if store.exists(name):
        return name
    raw, annotated, _ = organizer_files(scan)
    turns = turns or scan_turns()
    with turns.turn():
        data = turns.run(_make_public_copy, store.get(raw), store.get(annotated))
    if data is None:
        return None
    store.put(name, data)
    return name


def _make_public_copy(raw: bytes | None, annotated: bytes | None) -> bytes | None:
    """Return the blurred copy of the annotated photo, its faces found in the photo as taken."""
    import cv2  # slow imports, kept off the web app's start
    import numpy as np

    def decode(data):
        return (
            None if data is None else cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        )

    shown, photo = decode(annotated), decode(raw)
    if shown is None and photo is None:
        return None
    if shown is None or photo is None or photo.shape != shown.shape:
        photo = shown = photo if shown is None else shown
    return blurred_copy(photo=photo, shown=shown)


def organizer_photo(*, store: Storage, scan: Scan, turns: ScanTurns | None = None) -> str | None:
    """Return the key of the scan's annotated photo as taken, or of its public copy once it has
    been deleted; None without a photo."""
    if not scan.image_path:
        return None
    _, annotated, _ = organizer_files(scan)
    if store.exists(annotated):
        return annotated
    return public_photo(store=store, scan=scan, turns=turns)


def retention_end(event: Event, *, days: int, received_dt: dt.datetime) -> dt.datetime:
    """Return when the photos of a scan received at ``received_dt`` are deleted: ``days`` after the
    end of the event's last slot, or after ``received_dt`` for an event without slots."""
    ends = [slot.end_dt for slot in event.slots]
    return max(ends, default=received_dt) + dt.timedelta(days=days)


def photos_deleted_on(event: Event, *, retention_days: int) -> dt.date | None:
    """Return the day (the event's local date) its wall photos are deleted; None without slots."""
    if not event.slots:
        return None
    end = max(slot.end_dt for slot in event.slots) + dt.timedelta(days=retention_days)
    return event.local(end).date()


def photo_notice(event: Event, *, retention_days: int) -> str:
    """Return what the poster says about the wall camera's photos and how long they are kept."""
    deleted = photos_deleted_on(event, retention_days=retention_days)
    when = (
        f"on {deleted:%a} {deleted.day} {deleted:%b %Y}, {plural(retention_days, 'day')} after "
        "the event"
        if deleted is not None
        else f"{plural(retention_days, 'day')} after the event"
    )
    return (
        "About the photos: a camera photographs this wall every few seconds to keep the live "
        "board up to date, and so whoever stands in front of it. Faces are blurred in the "
        "time-lapse of the wall. Only the organizers see the photos as taken, and they are "
        f"deleted {when}. The pictures of the stickies, your handwriting, are kept."
    )


def purge_photos(
    *,
    store: Storage,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> Purge:
    """Delete the organizer's photos of every scan past its retention period; return what went.

    Each scan's public copy is made first, so the time-lapse keeps its frames. A dry run deletes
    and makes nothing and counts what a purge would delete.
    """
    if retention_days < 0:
        raise ValueError(f"the retention period is {retention_days} days; it cannot be negative")
    now = now or utcnow()
    scans = files = size = 0
    query = select(Scan).where(Scan.image_path.is_not(None)).order_by(Scan.id)
    for scan in db.session.scalars(query):
        event = db.session.get(Event, scan.event_id)
        end = retention_end(event, days=retention_days, received_dt=scan.received_dt)
        if now < end:
            continue
        found = {key: store.size(key) for key in organizer_files(scan)}
        found = {key: found_size for key, found_size in found.items() if found_size is not None}
        if not found:
            continue
        if not dry_run:
            public_photo(store=store, scan=scan)
        scans += 1
        for key, found_size in found.items():
            files += 1
            size += found_size
            if not dry_run:
                store.delete(key)
    return Purge(scans=scans, files=files, bytes=size)
