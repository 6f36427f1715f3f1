"""The schedule of one room, to tape on its door: A4 portrait, big room name, one row per slot.

Pure: plain values in, PDF bytes or an image out. Sizes are millimetres with the origin at the
page's top-left, x right and y down; text sits on its baseline.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from . import fonts
from .drawing import MM_PT, Drawing, paint_image, paint_pdf
from .errors import PrintError
from .layout import cap_height_mm, draw_lines, draw_qr, fit_text, wrap
from .templates import PAPERS

FREE_TEXT = "free — post a sticky on the board"
PAGE_W, PAGE_H = PAPERS["a4"]
MARGIN = 15.0
QR_SIDE = 36.0
GREY = (110, 110, 110)
RULE_GREY = (190, 190, 190)
# A row lower than this no longer carries a two-line title at a size readable from a step away.
MIN_ROW_H = 17.0
MAX_ROW_H = 30.0
DAY_H = 11.0
FOOTER_H = 14.0
TIME_GAP = 7.0
MIN_TITLE_PT = 8.0


@dataclass(frozen=True)
class ScheduleEntry:
    """One slot of the room: local day label, start and end ("10:00"), and its session if any."""

    day: str
    start: str
    end: str
    title: str | None = None
    host: str | None = None


@dataclass(frozen=True)
class RoomSchedule:
    """Everything the door sign shows; `qr_text` is what its QR holds (the room's live page)."""

    event_name: str
    room_name: str
    capacity: int | None
    qr_text: str
    entries: tuple[ScheduleEntry, ...]
    # When the schedule was taken from the board, as the reader should see it ("26 Sep 09:12").
    updated: str


def _check(schedule: RoomSchedule) -> None:
    if not schedule.room_name.strip():
        raise PrintError("the room has no name to print")
    if not schedule.qr_text:
        raise PrintError("the room schedule needs a QR text (the room's page)")


def _header(d: Drawing, schedule: RoomSchedule, *, first: bool) -> float:
    """Draw the room name, event and QR; return the y where the rows may start."""
    draw_qr(
        d,
        x=PAGE_W - MARGIN - QR_SIDE,
        y=MARGIN,
        side=QR_SIDE,
        text=schedule.qr_text,
        what="the room's page address",
    )
    d.text(
        PAGE_W - MARGIN - QR_SIDE / 2,
        MARGIN + QR_SIDE + 5,
        "live schedule",
        style="sans",
        size_pt=9,
        color=GREY,
        align="center",
    )
    # A QR needs a quiet zone of four modules; the name keeps 8 mm off it.
    width = PAGE_W - 2 * MARGIN - QR_SIDE - 8
    y = MARGIN + cap_height_mm(12)
    d.text(MARGIN, y, schedule.event_name, style="sans", size_pt=12, color=GREY)
    max_pt = 60 if first else 28
    fit = dict(style="bold", max_pt=max_pt, min_pt=14, width=width, max_lines=2, leading=1.05)
    size, lines = _fit_whole_words(schedule.room_name, **fit) or fit_text(
        schedule.room_name, what="room name", **fit
    )
    y += 4 + cap_height_mm(size)
    y = draw_lines(d, lines, x=MARGIN, y=y, style="bold", size_pt=size, leading=1.05)
    if schedule.capacity and first:
        y += 4 + cap_height_mm(14)
        d.text(MARGIN, y, f"{schedule.capacity} seats", style="sans", size_pt=14, color=GREY)
    top = max(y, MARGIN + QR_SIDE + 5) + 5
    d.line(MARGIN, top, PAGE_W - MARGIN, top, width=0.5)
    return top + 2


def _rows(schedule: RoomSchedule) -> list[tuple[str, ScheduleEntry]]:
    """Return the rows in order: ("day", entry) before the first slot of each day."""
    rows: list[tuple[str, ScheduleEntry]] = []
    last = None
    for entry in schedule.entries:
        if entry.day != last:
            rows.append(("day", entry))
        rows.append(("slot", entry))
        last = entry.day
    return rows


def _draw_slot(d: Drawing, entry: ScheduleEntry, *, y: float, h: float) -> None:
    scale = h / MAX_ROW_H
    time_pt = round(max(12.0, 18 * scale) * 2) / 2
    baseline = y + 3 + cap_height_mm(time_pt)
    label = f"{entry.start}–{entry.end}"
    d.text(MARGIN, baseline, label, style="bold", size_pt=time_pt)
    # The times are as wide as the font makes them; the titles start one gap after the widest.
    x = MARGIN + fonts.width_mm("bold", "00:00–00:00", time_pt) + TIME_GAP
    width = PAGE_W - MARGIN - x
    if entry.title is None:
        d.text(x, baseline, FREE_TEXT, style="sans", size_pt=time_pt * 0.8, color=GREY)
    else:
        host_pt = max(9.0, round(12 * scale * 2) / 2)
        title_room = h - 5.5 - (host_pt * 1.3 * fonts.PT_MM if entry.host else 0)
        size, lines = _fit_title(
            entry.title, max_pt=max(12.0, round(20 * scale * 2) / 2), width=width, height=title_room
        )
        last = draw_lines(
            d, lines, x=x, y=y + 3 + cap_height_mm(size), style="bold", size_pt=size, leading=1.1
        )
        if entry.host:
            host = f"by {entry.host}"
            # One line only: a host name that runs over the page is cut with an ellipsis.
            if fonts.width_mm("sans", host, host_pt) > width:
                host = _cut(host, host_pt, width)
            d.text(
                x,
                last + host_pt * 1.3 * fonts.PT_MM,
                host,
                style="sans",
                size_pt=host_pt,
                color=GREY,
            )
    d.line(MARGIN, y + h, PAGE_W - MARGIN, y + h, color=RULE_GREY, width=0.25)


def _fit_whole_words(
    text: str,
    *,
    style: str,
    max_pt: float,
    min_pt: float,
    width: float,
    max_lines: int,
    leading: float,
    height: float | None = None,
) -> tuple[float, list[str]] | None:
    """Return the largest size (steps of 0.5 pt) at which `text` wraps at spaces only, or None.

    A name broken inside a word reads worse than the same name a few points smaller.
    """
    text = " ".join(text.split())
    size = max_pt
    while size >= min_pt - 1e-9:
        lines = wrap(text, style, size, width)
        tall = len(lines) * size * leading * fonts.PT_MM
        if (
            len(lines) <= max_lines
            and " ".join(lines) == text
            and (height is None or tall <= height + 1e-9)
        ):
            return size, lines
        size -= 0.5
    return None


def _fit_title(text: str, *, max_pt: float, width: float, height: float) -> tuple[float, list[str]]:
    """Return the size and at most two lines of a session title.

    A title too long even at the smallest size keeps its start and ends in an ellipsis: a door
    sign must print whatever was written on the sticky.
    """
    fit = dict(
        style="bold",
        max_pt=max_pt,
        min_pt=MIN_TITLE_PT,
        width=width,
        height=height,
        max_lines=2,
        leading=1.1,
    )
    try:
        return _fit_whole_words(text, **fit) or fit_text(text, what="session title", **fit)
    except PrintError:
        lines = wrap(" ".join(text.split()), "bold", MIN_TITLE_PT, width)
        return MIN_TITLE_PT, [lines[0], _cut(lines[1], MIN_TITLE_PT, width, style="bold")]


def _cut(text: str, size_pt: float, width: float, *, style: str = "sans") -> str:
    """Return `text` shortened to fit `width` mm with an ellipsis at its end."""
    while text and fonts.width_mm(style, text + "…", size_pt) > width:
        text = text[:-1]
    return text + "…"


def _footer(d: Drawing, schedule: RoomSchedule, *, page: int, pages: int) -> None:
    note = f"Updated {schedule.updated}. Scan the code for changes; sessions move until they start."
    if pages > 1:
        note += f"  Page {page} of {pages}."
    d.text(MARGIN, PAGE_H - MARGIN + 3, note, style="sans", size_pt=8.5, color=GREY)


def schedule_drawings(schedule: RoomSchedule) -> list[Drawing]:
    """Lay the room's schedule onto A4 portrait pages, as many as its slots need."""
    _check(schedule)
    rows = _rows(schedule)
    pages: list[tuple[Drawing, float, list[tuple[str, ScheduleEntry]]]] = []
    first_top = _header(Drawing(PAGE_W, PAGE_H), schedule, first=True)
    avail = PAGE_H - MARGIN - FOOTER_H - first_top
    days = sum(1 for kind, _ in rows if kind == "day")
    slots = len(rows) - days
    # Rows grow to fill the page, up to a height that still looks like a list, not a table.
    row_h = max(MIN_ROW_H, min(MAX_ROW_H, (avail - days * DAY_H) / max(slots, 1)))
    remaining = rows
    while True:
        d = Drawing(PAGE_W, PAGE_H)
        top = _header(d, schedule, first=not pages)
        bottom = PAGE_H - MARGIN - FOOTER_H
        y = top
        taken = 0
        for kind, _entry in remaining:
            h = DAY_H if kind == "day" else row_h
            # A day heading never ends a page alone.
            need = h + (row_h if kind == "day" else 0)
            if y + need > bottom + 1e-6:
                break
            y += h
            taken += 1
        if taken == 0 and remaining:
            raise PrintError("the room schedule's rows do not fit on an A4 page")
        pages.append((d, top, remaining[:taken]))
        remaining = remaining[taken:]
        if not remaining:
            break
    drawings = []
    for number, (d, top, page_rows) in enumerate(pages, start=1):
        y = top
        if not page_rows:
            d.text(
                MARGIN,
                y + 12,
                "No time slots yet.",
                style="sans",
                size_pt=16,
                color=GREY,
            )
        for kind, entry in page_rows:
            if kind == "day":
                d.text(MARGIN, y + DAY_H - 3, entry.day, style="bold", size_pt=13, color=GREY)
                y += DAY_H
            else:
                _draw_slot(d, entry, y=y, h=row_h)
                y += row_h
        _footer(d, schedule, page=number, pages=len(pages))
        drawings.append(d)
    return drawings


def schedule_pdf(schedule: RoomSchedule) -> bytes:
    """Return the room's door schedule as a vector PDF on A4 portrait pages."""
    buf = io.BytesIO()
    # invariant: no timestamps or random ids, so one input gives byte-identical files.
    canvas = Canvas(buf, pagesize=(PAGE_W * MM_PT, PAGE_H * MM_PT), invariant=1)
    canvas.setTitle(f"{schedule.room_name}: {schedule.event_name}")
    canvas.setCreator("openspaces printables")
    for drawing in schedule_drawings(schedule):
        paint_pdf(canvas, drawing, page_h_mm=PAGE_H)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def schedule_image(schedule: RoomSchedule, *, page: int = 1, dpi: float = 150) -> Image.Image:
    """Return one page (numbered from 1) of the door schedule as an RGB image at `dpi`."""
    drawings = schedule_drawings(schedule)
    if not 1 <= page <= len(drawings):
        raise PrintError(f"the room schedule has {len(drawings)} page(s), not a page {page}")
    return paint_image(drawings[page - 1], dpi=dpi)
