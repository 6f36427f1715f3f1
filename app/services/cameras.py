"""Wall cameras: pairing a phone's browser with a camera token, and what each camera sent last.

A pairing code is the event's secret key signing a random camera name (``phone-7KQ2XM``) and the
time it was made. It is good for ``PAIRING_MAX_AGE_S`` and for one phone, and only while it is the
newest one shown: showing another ends it, and so does pairing, which creates the API token of that
name, stored hashed like every token. A name that has a token cannot pair again.

Photo coordinates are pixels, origin at the top-left of the photo, x right, y down.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import ApiToken, BoardStatus, CameraPairing, Event, Scan, Sticky
from app.services import ServiceError
from app.services.codes import new_code
from app.services.images import encode_image
from app.services.organizers import create_token
from app.services.storage import Storage
from app.services.text import plural

PAIRING_SALT = "openspaces.camera-pairing"
PAIRING_MAX_AGE_S = 600
PHONE_PREFIX = "phone-"
# A camera posts a heartbeat every minute; two missed ones and the dashboard warns.
QUIET_AFTER_S = 120
USED_MESSAGE = "this pairing code was used already; show a new one on the organizer dashboard"
REPLACED_MESSAGE = (
    "a newer pairing code was shown since this one; scan the code on the organizer dashboard now"
)
# The dashboard's thumbnail of a camera's last photo, in pixels across.
THUMB_WIDTH = 320


class PairingError(ServiceError):
    """The pairing code is not one this server made, has expired, or was used already."""


def new_pairing_code(*, secret_key: str) -> str:
    """Return a pairing code for one new phone camera, signed with the app's secret key.

    It is the only live one from now on: every code shown before stops working.
    """
    from itsdangerous import URLSafeTimedSerializer

    name = PHONE_PREFIX + new_code()
    db.session.execute(delete(CameraPairing))
    db.session.add(CameraPairing(name=name))
    db.session.flush()
    return URLSafeTimedSerializer(secret_key, salt=PAIRING_SALT).dumps(name)


def pair_camera(
    *, code: str, secret_key: str, max_age_s: int = PAIRING_MAX_AGE_S
) -> tuple[ApiToken, str]:
    """Exchange a pairing code for a new camera token; return it and its secret (shown once)."""
    from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(secret_key, salt=PAIRING_SALT)
    try:
        name = serializer.loads(code, max_age=max_age_s)
    except SignatureExpired:
        raise PairingError(
            f"this pairing code is more than {plural(max_age_s // 60, 'minute')} old; "
            "show a new one on the organizer dashboard"
        ) from None
    except BadSignature:
        raise PairingError("this is not a pairing code from this board") from None
    if not isinstance(name, str) or not name.startswith(PHONE_PREFIX):
        raise PairingError("this is not a pairing code from this board")
    # Taken in one statement, so that of two phones with one code only one gets it; and only the
    # newest code, should two dashboards have shown theirs at the same moment.
    newest = select(func.max(CameraPairing.id)).scalar_subquery()
    taken = db.session.execute(
        delete(CameraPairing).where(CameraPairing.name == name, CameraPairing.id == newest)
    ).rowcount
    if not taken:
        if db.session.scalar(select(ApiToken.id).filter_by(name=name)) is not None:
            raise PairingError(USED_MESSAGE)
        raise PairingError(REPLACED_MESSAGE)
    db.session.execute(delete(CameraPairing))
    return create_token(name=name)


@dataclass(frozen=True)
class CameraRow:
    """One camera token and the last scan it sent, for the organizer dashboard."""

    name: str
    is_phone: bool
    revoked: bool
    last_scan: Scan | None
    placed: int
    warnings: tuple[str, ...]
    quiet: bool


def _placed(scan: Scan) -> int:
    return sum(1 for s in scan.observations.get("stickies", []) if s.get("room") is not None)


def cameras(
    *, event: Event, now: dt.datetime, quiet_after_s: int = QUIET_AFTER_S
) -> list[CameraRow]:
    """Return every camera token, live ones first, with its last scan of the event.

    A live camera whose last scan is older than ``quiet_after_s`` is quiet, and so is one that
    sent none in the ``quiet_after_s`` since its token was made: a camera just paired is not.
    """
    tokens = list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))
    last_ids = (
        select(func.max(Scan.id))
        .where(Scan.event_id == event.id, Scan.source.in_([t.name for t in tokens]))
        .group_by(Scan.source)
    )
    last = {s.source: s for s in db.session.scalars(select(Scan).where(Scan.id.in_(last_ids)))}
    rows = []
    for token in tokens:
        scan = last.get(token.name)
        revoked = token.revoked_dt is not None
        seen = scan.received_dt if scan else token.created_dt
        rows.append(
            CameraRow(
                name=token.name,
                is_phone=token.name.startswith(PHONE_PREFIX),
                revoked=revoked,
                last_scan=scan,
                placed=_placed(scan) if scan else 0,
                warnings=tuple(scan.observations.get("warnings", [])) if scan else (),
                quiet=not revoked and (now - seen).total_seconds() > quiet_after_s,
            )
        )
    return sorted(rows, key=lambda r: r.revoked)


def last_scan_report(*, event: Event, token: ApiToken, store: Storage) -> dict | None:
    """Return what the camera's last scan saw, for the camera page; None before its first scan.

    ``outline`` is the board through the corner markers (tl, tr, br, bl) in the photo's pixels and
    ``size`` the photo's width and height, both null when the board was not found or the scan came
    without a photo. ``placed`` is what the scan saw in cells, ``on_board`` how many stickies the
    board has in cells now, as the board and the kiosk show them.
    """
    scan = db.session.scalar(
        select(Scan)
        .where(Scan.event_id == event.id, Scan.source == token.name)
        .order_by(Scan.id.desc())
        .limit(1)
    )
    if scan is None:
        return None
    seen = scan.observations.get("stickies", [])
    codes = [s["code"] for s in seen if s.get("room") is not None]
    titles = dict(
        db.session.execute(select(Sticky.code, Sticky.title).where(Sticky.code.in_(codes))).all()
    )
    outline = _outline(event=event, scan=scan, store=store)
    return {
        "on_board": _on_board(event),
        "scan": scan.id,
        "scan_id": scan.client_scan_id,
        "received": scan.received_dt.isoformat().replace("+00:00", "Z"),
        "board_found": scan.board_found,
        "placed": [
            {
                "code": s["code"],
                "title": titles.get(s["code"]),
                "room": s["room"],
                "slot": s["slot"],
            }
            for s in seen
            if s.get("room") is not None
        ],
        "off_grid": sum(1 for s in seen if s.get("room") is None),
        "hidden": len(scan.observations.get("hidden_cells", [])),
        "warnings": list(scan.observations.get("warnings", [])),
        "outline": outline["outline"] if outline else None,
        "size": outline["size"] if outline else None,
    }


def _on_board(event: Event) -> int:
    in_cells = (BoardStatus.PLACED, BoardStatus.CONFLICT)
    query = select(func.count(Sticky.id)).where(
        Sticky.event_id == event.id, Sticky.board_status.in_(in_cells)
    )
    return db.session.scalar(query)


def _outline(*, event: Event, scan: Scan, store: Storage) -> dict | None:
    """Return the board outline of a scan's photo: kept by ingest when the server scanned the
    photo, otherwise found once here and kept beside the photo (``store``: the scans' store)."""
    if not scan.image_path or not scan.board_found:
        return None
    from app.services.ingest import outline_key, write_outline

    kept = store.get(outline_key(scan.id))
    if kept is not None:
        return json.loads(kept)
    # The photo as taken lies beside its annotated copy (app/services/ingest.py).
    image = _decode(store.get(scan.image_path.replace("-annotated.jpg", ".jpg")))
    if image is None:
        return None
    from app.services.scanning import scan_photo

    return write_outline(store, outline_key(scan.id), image, scan_photo(event, image))


def _decode(data: bytes | None):
    """Return the JPEG ``data`` as a BGR array, or None when there is none or it is unreadable."""
    if data is None:
        return None
    import cv2  # slow imports, kept off the web app's start
    import numpy as np

    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def scan_thumbnail(*, scan: Scan, store: Storage, width: int = THUMB_WIDTH) -> str | None:
    """Return the key of a small JPEG of the scan's annotated photo in ``store`` (the scans'
    store), made once and kept beside it."""
    if not scan.image_path:
        return None
    thumb = f"{scan.id}-thumb.jpg"
    if store.exists(thumb):
        return thumb
    image = _decode(store.get(scan.image_path))
    if image is None:
        return None
    import cv2

    height = max(1, round(image.shape[0] * width / image.shape[1]))
    small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    store.put(thumb, encode_image(small, quality=80, what="the thumbnail"))
    return thumb
