"""Sort the markers of a photo by what the manifest says they are: corners, headers, stickies.

Photo coordinates are pixels, origin at the top-left pixel's centre, x right, y down.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scanner import markers
from scanner.manifest import CORNER_NAMES, Manifest
from scanner.results import DecodedCode

# A role is (kind, key): ("corner", "tl"), ("room", index), ("slot", index) or
# ("sticky", StickyEntry).
Role = tuple[str, Any]


@dataclass(frozen=True)
class Roles:
    """Map every marker id and QR text of the manifest to its role."""

    by_marker: dict[int, Role]
    by_qr: dict[str, Role]

    @classmethod
    def of(cls, manifest: Manifest) -> Roles:
        """Return the roles of a manifest's corner markers, header cards and stickies."""
        by_marker: dict[int, Role] = {}
        for name, mid in manifest.corners.items():
            by_marker[mid] = ("corner", name)
        for i, r in enumerate(manifest.rooms):
            by_marker[r.marker_id] = ("room", i)
        for i, s in enumerate(manifest.slots):
            by_marker[s.marker_id] = ("slot", i)
        for s in manifest.stickies:
            by_marker[s.marker_id] = ("sticky", s)
        by_qr: dict[str, Role] = {}
        for i, r in enumerate(manifest.rooms):
            if r.qr:
                by_qr[r.qr] = ("room", i)
        for i, s in enumerate(manifest.slots):
            if s.qr:
                by_qr[s.qr] = ("slot", i)
        for s in manifest.stickies:
            by_qr[s.qr] = ("sticky", s)
        return cls(by_marker=by_marker, by_qr=by_qr)

    def is_sticky_marker(self, marker_id: int) -> bool:
        """Return True when the marker id belongs to an issued sticky."""
        return self.by_marker.get(marker_id, ("",))[0] == "sticky"


@dataclass(frozen=True)
class SortedMarkers:
    """Hold a photo's markers by role.

    Corners by name, header cards by room or slot index (a card seen twice is left out), stickies
    by code with every sighting (a sticky seen twice is judged later). `known` and `unknown` are
    the markers as decoded codes, in marker id order; `warnings` name the cards seen twice.
    """

    corners: dict[str, markers.Marker]
    rooms: dict[int, markers.Marker]
    slots: dict[int, markers.Marker]
    stickies: dict[str, list[markers.Marker]]
    known: tuple[DecodedCode, ...]
    unknown: tuple[DecodedCode, ...]
    warnings: tuple[str, ...]

    def headers(self) -> list[markers.Marker]:
        """Return the room and then the slot card markers."""
        return [*self.rooms.values(), *self.slots.values()]

    def every_corner(self) -> bool:
        """Say whether all four corner cards were seen (once each)."""
        return len(self.corners) == len(CORNER_NAMES)

    def every_card(self, manifest: Manifest) -> bool:
        """Say whether every corner and header card of the manifest was seen (once each)."""
        rooms, slots = len(manifest.rooms), len(manifest.slots)
        return self.every_corner() and (len(self.rooms), len(self.slots)) == (rooms, slots)


def sort_markers(
    found: Sequence[markers.Marker], manifest: Manifest, roles: Roles
) -> SortedMarkers:
    """Sort decoded markers by their role in the manifest."""
    by_id: dict[int, list[markers.Marker]] = defaultdict(list)
    for mk in found:
        by_id[mk.id].append(mk)
    out: dict[str, dict] = {"corner": {}, "room": {}, "slot": {}, "sticky": {}}
    known: list[DecodedCode] = []
    unknown: list[DecodedCode] = []
    warnings: list[str] = []
    for mid, ms in sorted(by_id.items()):
        role = roles.by_marker.get(mid)
        codes = [marker_code(mk, manifest.marker_dictionary) for mk in ms]
        (known if role else unknown).extend(codes)
        if role is None:
            continue
        kind, key = role
        if kind == "sticky":
            out["sticky"][key.code] = ms
        elif len(ms) > 1:
            name = _name(manifest, kind, key)
            warnings.append(f"marker {mid} ({kind} {name}) seen twice; ignored")
        else:
            out[kind][key] = ms[0]
    return SortedMarkers(
        corners=out["corner"],
        rooms=out["room"],
        slots=out["slot"],
        stickies=out["sticky"],
        known=tuple(known),
        unknown=tuple(unknown),
        warnings=tuple(warnings),
    )


def marker_code(m: markers.Marker, dictionary: str) -> DecodedCode:
    """Return a decoded marker as a code: `marker:<dictionary>:<id>` at its centre."""
    x, y = m.centre
    return DecodedCode(
        text=markers.marker_text(dictionary, m.id),
        via="aruco",
        x=x,
        y=y,
        corners=tuple(map(tuple, m.corners.astype(float).tolist())),
    )


def _name(manifest: Manifest, kind: str, key: Any) -> str:
    if kind == "room":
        return manifest.rooms[key].name
    if kind == "slot":
        return manifest.slots[key].name
    return str(key)
