"""Printed stickies and the board kit, as vector PDF and PNG.

Pure: plain values in, bytes and images out; no Flask and no database. Sizes are millimetres with
the origin at the top-left of the page, sticky or card, x right and y down.
"""

from .codes import qr_svg
from .errors import PrintError
from .kit import card_marker_rect, card_size
from .output import (
    card_image,
    kit_layout,
    kit_pdf,
    poster_image,
    stickies_pdf,
    sticky_image,
    write_kit_pngs,
    write_sticky_pngs,
)
from .specs import DEFAULT_MARKER_DICTIONARY, CardSpec, KitSpec, StickySpec
from .templates import PAPERS, TEMPLATES, Template, get_template

__all__ = [
    "DEFAULT_MARKER_DICTIONARY",
    "PAPERS",
    "TEMPLATES",
    "CardSpec",
    "KitSpec",
    "PrintError",
    "StickySpec",
    "Template",
    "card_image",
    "card_marker_rect",
    "card_size",
    "get_template",
    "kit_layout",
    "kit_pdf",
    "poster_image",
    "qr_svg",
    "sticky_image",
    "stickies_pdf",
    "write_kit_pngs",
    "write_sticky_pngs",
]
