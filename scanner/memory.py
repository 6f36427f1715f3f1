"""Let a fixed camera remember the board: header cards hidden now are where they were last seen.

Photo coordinates are pixels, origin at the top-left pixel's centre, x right, y down. A camera
that has not moved sees the board's corner markers and header cards where it saw them before;
a card that a person now hides is then still where it was, and its row or column stays known.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from scanner.manifest import Manifest
from scanner.markers import Marker
from scanner.results import BoardView
from scanner.roles import Roles

# The corner and header markers seen both now and before must include this many, and every one
# of them must lie within this share of its side of where it was: a camera that moved, or a
# board that was re-taped, shifts them by more.
MIN_COMMON = 3
MAX_SHIFT_SIDES = 0.2
MAX_SHIFT_MIN_PX = 1.0


def board_view(found: Sequence[Marker], roles: Roles, shape: tuple[int, int]) -> BoardView:
    """Return the corner and header markers among `found` (each seen once) as a BoardView."""
    counts = Counter(m.id for m in found)
    kept = sorted(
        (m.id, tuple((float(x), float(y)) for x, y in m.corners))
        for m in found
        if counts[m.id] == 1 and _static(m.id, roles)
    )
    h, w = shape
    return BoardView(size=(w, h), markers=tuple(kept))


def recall(
    found: Sequence[Marker],
    view: BoardView,
    *,
    manifest: Manifest,
    roles: Roles,
    shape: tuple[int, int],
) -> tuple[list[Marker], list[str]]:
    """Return the corner and header markers hidden now but seen in `view`, and warnings.

    Nothing is recalled unless the photo has the view's size and at least MIN_COMMON corner and
    header markers seen in both lie where they were.
    """
    h, w = shape
    if tuple(view.size) != (w, h):
        return [], []
    before = {mid: np.asarray(c, dtype=np.float32) for mid, c in view.markers}
    counts = Counter(m.id for m in found)
    now = {m.id: m for m in found if counts[m.id] == 1 and _static(m.id, roles)}
    common = [mid for mid in now if mid in before]
    if len(common) < MIN_COMMON:
        return [], []
    for mid in common:
        shift = np.linalg.norm(now[mid].corners.mean(axis=0) - before[mid].mean(axis=0))
        if shift > max(MAX_SHIFT_MIN_PX, MAX_SHIFT_SIDES * now[mid].side):
            return [], ["the board moved since the previous view; nothing remembered"]
    out, warnings = [], []
    for mid, corners in sorted(before.items()):
        if mid in counts or not _static(mid, roles):
            continue
        out.append(Marker(id=mid, corners=corners))
        warnings.append(f"{_describe(mid, roles, manifest)} hidden; its place remembered")
    return out, warnings


def _static(marker_id: int, roles: Roles) -> bool:
    return roles.by_marker.get(marker_id, ("",))[0] in ("corner", "room", "slot")


def _describe(marker_id: int, roles: Roles, manifest: Manifest) -> str:
    kind, key = roles.by_marker[marker_id]
    if kind == "corner":
        return f"corner marker {key}"
    items = manifest.rooms if kind == "room" else manifest.slots
    return f"{kind} card {items[key].name}"
