"""Lay out the board kit: corner cards, room and slot header cards, and the poster.

Coordinates are mm from the card's (or page's) top-left corner, x right, y down.
"""

from __future__ import annotations

from . import codes
from .drawing import Drawing
from .errors import PrintError
from .layout import cap_height_mm, draw_lines, draw_marker, draw_qr, fit_text, qr_module_mm
from .specs import CARD_ROLES, CORNER_KEYS, CardSpec, KitSpec

# A corner card is a third of a page; its marker is large because the scanner rectifies the whole
# photo from the four corner centres, and a larger marker gives a steadier centre.
CORNER_W, CORNER_H = 150.0, 135.0
CORNER_MARKER_MM = 84.0
# Header cards: six to a page. The marker is larger than any sticky marker (30 mm at most), so a
# header reads from wherever a sticky reads; it is centred horizontally on the card.
HEADER_W, HEADER_H = 100.0, 90.0
HEADER_MARKER_MM = 40.0
HEADER_QR_MM = 18.0
CARD_MARGIN = 4.0
GREY = (90, 90, 90)

CORNER_NAMES = {
    "tl": "top-left corner",
    "tr": "top-right corner",
    "br": "bottom-right corner",
    "bl": "bottom-left corner",
}


def card_size(role: str) -> tuple[float, float]:
    """Return the (width, height) in mm of a card of `role`."""
    return (CORNER_W, CORNER_H) if role == "corner" else (HEADER_W, HEADER_H)


def check_card(card: CardSpec) -> None:
    """Raise PrintError when `card` cannot be printed."""
    if card.role not in CARD_ROLES:
        raise PrintError(f"card role {card.role!r}; choose one of: {', '.join(CARD_ROLES)}")
    if card.role == "corner" and card.key not in CORNER_KEYS:
        raise PrintError(f"corner key {card.key!r}; choose one of: {', '.join(CORNER_KEYS)}")


def card_marker_rect(role: str) -> tuple[float, float, float]:
    """Return (x, y, side) of the marker on a card of `role`, in mm from the card's top-left."""
    if role == "corner":
        cell = CORNER_MARKER_MM / 6
        return ((CORNER_W - CORNER_MARKER_MM) / 2, cell, CORNER_MARKER_MM)
    return ((HEADER_W - HEADER_MARKER_MM) / 2, 36.0, HEADER_MARKER_MM)


def card_drawing(card: CardSpec, *, dictionary: str) -> Drawing:
    """Return the drawing of one kit card, edge to edge."""
    check_card(card)
    w, h = card_size(card.role)
    d = Drawing(w, h)
    mx, my, side = card_marker_rect(card.role)
    draw_marker(d, x=mx, y=my, side=side, marker_id=card.marker_id, dictionary=dictionary)
    quiet = side / codes.marker_cells(dictionary)
    inner = w - 2 * CARD_MARGIN

    if card.role == "corner":
        top = my + side + quiet
        label = card.title or CORNER_NAMES[card.key]
        size, lines = fit_text(label, style="bold", max_pt=20, min_pt=8, width=inner, what="label")
        base = top + cap_height_mm(size) + 1
        d.text(w / 2, base, lines[0], style="bold", size_pt=size, align="center")
        note = "The board's corner is the centre of this marker."
        size, lines = fit_text(note, style="sans", max_pt=10, min_pt=6, width=inner, what="note")
        d.text(w / 2, base + 7, lines[0], style="sans", size_pt=size, color=GREY, align="center")
        return d

    # Title and subtitle above the marker's quiet zone.
    room_above = my - quiet - CARD_MARGIN
    sub_h = 5.0 if card.subtitle else 0.0
    size, lines = fit_text(
        card.title,
        style="bold",
        max_pt=26,
        min_pt=8,
        width=inner,
        height=room_above - sub_h - 1,
        max_lines=2,
        leading=1.1,
        what=f"{card.role} title",
    )
    if lines:
        step = size * 1.1 * 0.3528
        first = CARD_MARGIN + cap_height_mm(size) + 0.5
        draw_lines(
            d, lines, x=w / 2, y=first, style="bold", size_pt=size, align="center", leading=1.1
        )
        last = first + (len(lines) - 1) * step
    else:
        last = CARD_MARGIN
    if card.subtitle:
        size, sub = fit_text(
            card.subtitle, style="sans", max_pt=11, min_pt=6, width=inner, what="subtitle"
        )
        d.text(
            w / 2,
            min(last + 5.5, my - quiet - 0.8),
            sub[0],
            style="sans",
            size_pt=size,
            color=GREY,
            align="center",
        )

    footer = "room" if card.role == "room" else "time slot"
    d.text(
        CARD_MARGIN,
        h - CARD_MARGIN,
        f"{footer} · marker {card.marker_id}",
        style="sans",
        size_pt=6.5,
        color=GREY,
    )
    if card.qr_text:
        qx, qy = w - CARD_MARGIN - HEADER_QR_MM, h - CARD_MARGIN - HEADER_QR_MM
        qr_module_mm(card.qr_text, HEADER_QR_MM, what=f"qr_text of {card.role} {card.key!r}")
        draw_qr(d, x=qx, y=qy, side=HEADER_QR_MM, text=card.qr_text)
    return d


POSTER_STEPS = (
    "Take a blank SESSION sticky and write your topic on it, big enough to read from afar.",
    "Scan its QR code with your phone to add a description, your name and a few tags.",
    "Find a free cell: your room's column, your time's row. Stick it there.",
    "Changed your mind? Move the sticky. The wall camera updates the live board.",
    "A cell already taken? The first sticky keeps it: pick another cell or time.",
    "Want to meet people? Write your name and interests on a PERSON sticky and post it "
    "in the people area.",
)


def poster_drawing(kit: KitSpec, *, page: tuple[float, float]) -> Drawing:
    """Return the one-page poster: how to post a session, the live board's QR, the kit's notice."""
    w, h = page
    d = Drawing(w, h)
    margin = 18.0
    inner = w - 2 * margin
    size, lines = fit_text(
        kit.event_name,
        style="bold",
        max_pt=22,
        min_pt=10,
        width=inner,
        max_lines=2,
        what="event name",
    )
    y = draw_lines(
        d,
        lines,
        x=margin,
        y=margin + cap_height_mm(size),
        style="bold",
        size_pt=size,
        color=(30, 90, 168),
    )
    y += 16
    d.text(margin, y, "How to post a session", style="bold", size_pt=30)
    y += 8
    d.rect(margin, y, inner, 0.8, (30, 90, 168))
    y += 14
    for i, step in enumerate(POSTER_STEPS, start=1):
        d.text(margin, y, f"{i}", style="bold", size_pt=22, color=(196, 78, 12))
        size, lines = fit_text(
            step,
            style="sans",
            max_pt=15,
            min_pt=9,
            width=inner - 14,
            max_lines=3,
            what="poster step",
        )
        last = draw_lines(d, lines, x=margin + 14, y=y, style="sans", size_pt=size, leading=1.25)
        y = last + 13
    qr_side = 55.0
    qr_module_mm(kit.board_url, qr_side, what="board_url")
    qx, qy = (w - qr_side) / 2, h - margin - 12 - qr_side
    if qy - 8 < y - 6:
        raise PrintError("the poster's steps leave no room for the board QR code")
    draw_qr(d, x=qx, y=qy, side=qr_side, text=kit.board_url)
    if kit.notice:
        # Beside the QR code, left of it, in its height.
        size, lines = fit_text(
            kit.notice,
            style="sans",
            max_pt=9,
            min_pt=6,
            width=qx - margin - 6,
            height=qr_side,
            max_lines=20,
            leading=1.25,
            what="poster notice",
        )
        draw_lines(
            d,
            lines,
            x=margin,
            y=qy + cap_height_mm(size),
            style="sans",
            size_pt=size,
            color=GREY,
            leading=1.25,
        )
    d.text(w / 2, qy - 6, "The live board: scan me", style="bold", size_pt=14, align="center")
    size, lines = fit_text(
        kit.board_url, style="sans", max_pt=11, min_pt=6, width=inner, what="board_url"
    )
    d.text(
        w / 2, qy + qr_side + 9, lines[0], style="sans", size_pt=size, color=GREY, align="center"
    )
    return d
