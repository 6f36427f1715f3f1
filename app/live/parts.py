"""What changed between two renders of a live region, part by part.

When the board changes, a thousand phones would otherwise each fetch the whole grid again. The
grid marks its parts (each cell, each slot of the phone list, the clock) with ``data-part="KEY"``;
``changed_parts`` compares two renders and returns just the parts that differ, which the live
stream sends to every page showing the older render (app/static/board.js swaps them in). When
anything outside the parts differs (a room added, a slot that became Now), there is no such
answer and the pages fetch the region as before.

A part is one element whose tag does not nest inside itself (a ``td`` holds no ``td``); our own
templates are the only input.
"""

from __future__ import annotations

import re

_OPEN = re.compile(r'<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?\sdata-part="([^"]+)"[^>]*>')
# Parts are replaced by this in the skeleton; neither byte occurs in rendered HTML.
_HOLE = "\x00{}\x00"


def split_parts(html: str) -> tuple[str, dict[str, str]]:
    """Return the region's skeleton (each part cut out) and each part's HTML by key."""
    parts: dict[str, str] = {}
    pieces: list[str] = []
    at = 0
    while True:
        found = _OPEN.search(html, at)
        if found is None:
            break
        tag, key = found.group(1).lower(), found.group(2)
        end = _element_end(html, tag, found.end())
        if end is None or key in parts:
            raise ValueError(f"part {key!r} is not one closed element, or appears twice")
        pieces.append(html[at : found.start()])
        pieces.append(_HOLE.format(key))
        parts[key] = html[found.start() : end]
        at = end
    pieces.append(html[at:])
    return "".join(pieces), parts


def changed_parts(old: str, new: str) -> dict[str, str] | None:
    """Return the parts of `new` that differ from `old`, or None when more than parts changed."""
    try:
        old_skeleton, old_parts = split_parts(old)
        new_skeleton, new_parts = split_parts(new)
    except ValueError:
        return None
    if old_skeleton != new_skeleton:
        return None
    return {key: text for key, text in new_parts.items() if old_parts.get(key) != text}


def _element_end(html: str, tag: str, start: int) -> int | None:
    """Return the index after the ``</tag>`` that closes the element opened before `start`."""
    opening = re.compile(rf"<{tag}\b|</{tag}\s*>", re.IGNORECASE)
    depth = 1
    for found in opening.finditer(html, start):
        depth += -1 if found.group(0).startswith("</") else 1
        if depth == 0:
            return found.end()
    return None
