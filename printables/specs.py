"""Plain values that the app hands to printables: what goes on a sticky, a card and a kit."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MARKER_DICTIONARY = "DICT_4X4_1000"

STICKY_KINDS = ("session", "person")
CARD_ROLES = ("corner", "room", "slot")
CORNER_KEYS = ("tl", "tr", "br", "bl")


@dataclass(frozen=True)
class StickySpec:
    """Describe one sticky: its code, what its QR holds, its marker id and its kind.

    `key`, when given, is printed beside the QR code, for a phone that cannot scan it; a picture
    of the sticky should not show it (`Template.key_areas`).
    """

    code: str
    qr_text: str
    marker_id: int
    kind: str
    label: str = ""
    key: str = ""


@dataclass(frozen=True)
class CardSpec:
    """Describe one board-kit card: a corner, a room header or a slot header."""

    role: str
    key: str
    marker_id: int
    title: str
    subtitle: str = ""
    qr_text: str | None = None


@dataclass(frozen=True)
class KitSpec:
    """Describe the board kit of one event: poster, four corners, room and slot headers.

    `notice`, when given, is printed on the poster beside its QR code: what the wall camera
    photographs and how long the photos are kept, as the app words it.
    """

    event_name: str
    board_url: str
    corners: tuple[CardSpec, ...]
    rooms: tuple[CardSpec, ...]
    slots: tuple[CardSpec, ...]
    notice: str = ""
