"""Printing: turn issued stickies and the event's kit into the plain values ``printables`` draws."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Event, PrintBatch, Sticky, StickyKind
from app.services import ServiceError
from app.services.claim_keys import claim_key, claim_url
from app.services.events import CORNER_MARKERS
from app.services.photos import DEFAULT_RETENTION_DAYS, photo_notice
from app.services.published import room_url
from app.services.text import plural

Progress = Callable[[int, int], None]
PAPERS = ("a4", "letter")
FORMATS = ("pdf", "png")


def check_print_options(*, template: str, paper: str, fmt: str) -> None:
    """Refuse unknown templates, papers and formats before any code is allocated."""
    from printables import PrintError, get_template

    if fmt not in FORMATS:
        raise ServiceError(f"unknown format {fmt!r}; choose pdf or png")
    if paper not in PAPERS:
        raise ServiceError(f"unknown paper {paper!r}; choose one of: {', '.join(PAPERS)}")
    try:
        chosen = get_template(template)
    except PrintError as exc:
        raise ServiceError(str(exc)) from None
    if fmt == "pdf" and paper not in chosen.papers:
        raise ServiceError(
            f"template {template!r} prints on {', '.join(chosen.papers)}, not {paper}"
        )


def check_output(path: Path, *, fmt: str) -> None:
    """Refuse an output path that cannot be written, before any code is allocated."""
    target_dir = path if fmt == "png" else path.parent
    if fmt == "pdf" and path.is_dir():
        raise ServiceError(f"{path} is a folder; give a file name ending in .pdf")
    if fmt == "png" and path.exists() and not path.is_dir():
        raise ServiceError(f"{path} is a file; PNG output goes into a folder")
    probe = target_dir
    while not probe.exists():
        probe = probe.parent
    import os

    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise ServiceError(f"cannot write to {target_dir}: permission denied or not a folder")


def sticky_specs(event: Event, batch: PrintBatch):
    """Return what printables draws for each sticky of the batch, its claim key included.

    The keys come from the codes, so a reprint prints the same ones; a batch printed before keys
    existed gets them now.
    """
    return [sticky_spec(event, s) for s in batch.stickies]


def sticky_spec(event: Event, sticky: Sticky):
    """Return what printables draws for one sticky (printables.StickySpec), its claim key included."""
    from printables import StickySpec

    return StickySpec(
        code=sticky.code,
        qr_text=claim_url(event=event, code=sticky.code),
        marker_id=sticky.marker_id,
        kind=str(sticky.kind),
        label=event.name,
        key=claim_key(event=event, code=sticky.code),
    )


def kit_spec(event: Event, *, photo_retention_days: int = DEFAULT_RETENTION_DAYS):
    """Return what printables draws for the event's board kit; the poster says how long the wall
    photos are kept."""
    from printables import CardSpec, KitSpec

    names = {"tl": "top-left", "tr": "top-right", "br": "bottom-right", "bl": "bottom-left"}
    corners = tuple(
        CardSpec(role="corner", key=key, marker_id=marker, title=f"{names[key]} corner")
        for key, marker in CORNER_MARKERS.items()
    )
    rooms = tuple(
        CardSpec(
            role="room",
            key=room.name,
            marker_id=room.marker_id,
            title=room.name,
            subtitle=plural(room.capacity, "seat") if room.capacity is not None else "",
            qr_text=room_url(event, room),
        )
        for room in event.rooms
    )
    slots = tuple(
        CardSpec(
            role="slot",
            key=slot.key,
            marker_id=slot.marker_id,
            title=slot.label,
            subtitle=slot.local_start.strftime("%a %d %b"),
        )
        for slot in event.slots
    )
    return KitSpec(
        event_name=event.name,
        board_url=f"{event.base_url}/board",
        corners=corners,
        rooms=rooms,
        slots=slots,
        notice=photo_notice(event, retention_days=photo_retention_days),
    )


def render_batch(
    event: Event,
    batch: PrintBatch,
    *,
    fmt: str,
    output: Path | None,
    dpi: int = 300,
    progress: Progress | None = None,
) -> bytes | list[Path]:
    """Draw a batch: PDF bytes, or one PNG per sticky written into ``output``."""
    import printables

    specs = sticky_specs(event, batch)
    try:
        if fmt == "png":
            return printables.write_sticky_pngs(
                specs, output, template=batch.template, dpi=dpi, progress=progress
            )
        return printables.stickies_pdf(
            specs, template=batch.template, paper=batch.paper, progress=progress
        )
    except printables.PrintError as exc:
        raise ServiceError(str(exc)) from None


def render_kit(
    event: Event,
    *,
    fmt: str,
    paper: str,
    output: Path | None,
    dpi: int = 300,
    progress: Progress | None = None,
    photo_retention_days: int = DEFAULT_RETENTION_DAYS,
) -> bytes | list[Path]:
    """Draw the board kit: PDF bytes, or the contract's PNG files written into ``output``.

    The poster says the wall photos are deleted ``photo_retention_days`` after the event's end.
    """
    import printables

    if not event.rooms or not event.slots:
        raise ServiceError("the event needs rooms and slots before its kit can be printed")
    kit = kit_spec(event, photo_retention_days=photo_retention_days)
    try:
        if fmt == "png":
            return printables.write_kit_pngs(kit, output, dpi=dpi, progress=progress)
        return printables.kit_pdf(kit, paper=paper, progress=progress)
    except printables.PrintError as exc:
        raise ServiceError(str(exc)) from None


def list_batches(event: Event) -> list[PrintBatch]:
    """Return the event's print batches, newest first."""
    query = select(PrintBatch).filter_by(event_id=event.id).order_by(PrintBatch.id.desc())
    return list(db.session.scalars(query))


def event_batch(event: Event, batch_id: int) -> PrintBatch | None:
    """Return the event's print batch with this id, or None (also for another event's batch)."""
    if not 0 < batch_id < 2**63:
        return None  # beyond any database's ids
    return db.session.scalar(select(PrintBatch).filter_by(event_id=event.id, id=batch_id))


def marker_id_warning(*, event: Event) -> str | None:
    """Say so when the event's marker ids have gone past the well-separated ones; else None."""
    from app.services.events import next_marker_id
    from app.services.stickies import SAFE_MARKER_IDS

    if next_marker_id(event) <= SAFE_MARKER_IDS:
        return None
    return (
        f"This event now uses marker ids beyond {SAFE_MARKER_IDS - 1}, where two ids can differ "
        "by only 2 bits; the wall camera may confuse such stickies now and then."
    )


def batch_filename(event: Event, batch: PrintBatch) -> str:
    stamp = batch.created_dt.astimezone(dt.UTC).strftime("%Y%m%d")
    return f"{event.slug}-{batch.kind}-batch{batch.id}-{stamp}.pdf"


def kind_from(text: str) -> StickyKind:
    try:
        return StickyKind(text)
    except ValueError:
        raise ServiceError(f"unknown kind {text!r}; choose session or person") from None
