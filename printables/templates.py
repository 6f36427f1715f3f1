"""Sticky templates: the stock each prints on, where stickies sit on the page, where codes sit.

Every size is in millimetres. Page positions have their origin at the page's top-left; positions
within a sticky have theirs at the sticky's top-left; x right, y down.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PrintError

PAPERS: dict[str, tuple[float, float]] = {
    "a4": (210.0, 297.0),
    "letter": (215.9, 279.4),
}

INCH = 25.4
# The key printed beside the QR: a caption line and the key, level with the QR's foot.
KEY_BOX_H_MM = 7.0


@dataclass(frozen=True)
class SheetGrid:
    """Place stickies on one paper: `cols` x `rows` from (left, top), `pitch_x`/`pitch_y` apart."""

    paper: str
    cols: int
    rows: int
    left: float
    top: float
    pitch_x: float
    pitch_y: float


@dataclass(frozen=True)
class Template:
    """Describe one sticky stock and the layout of a sticky on it.

    The marker sits in the top-right corner, at `marker_inset` from the top and right edges (the
    quiet zone of one cell fits inside the sticky); the QR sits in the bottom-right corner. The top
    is where a note is glued flat and where the next sticky in a column does not cover it.
    """

    name: str
    description: str
    sticky_w_mm: float
    sticky_h_mm: float
    papers: tuple[str, ...]
    stock: str
    marker_side_mm: float
    qr_side_mm: float
    margin_mm: float
    band_h_mm: float
    sheets: tuple[SheetGrid, ...]
    guide: str  # "outline": notes stuck onto a printed carrier; "cut": cut lines; "none": die-cut labels
    marker_cells: int = 6  # cells along a side of a 4x4 marker, border included

    @property
    def per_page(self) -> int:
        """Return how many stickies one page holds."""
        return self.sheets[0].cols * self.sheets[0].rows

    def sheet(self, paper: str) -> SheetGrid:
        """Return the grid for `paper`, or raise PrintError when the template does not print on it."""
        if paper not in PAPERS:
            raise PrintError(f"unknown paper {paper!r}; choose one of: {', '.join(PAPERS)}")
        for grid in self.sheets:
            if grid.paper == paper:
                return grid
        raise PrintError(
            f"template {self.name!r} does not print on {paper!r}; it prints on: "
            f"{', '.join(self.papers)}"
        )

    def positions(self, paper: str) -> list[tuple[float, float]]:
        """Return the top-left corner of each sticky on a page of `paper`, row by row, in mm."""
        g = self.sheet(paper)
        return [
            (round(g.left + c * g.pitch_x, 4), round(g.top + r * g.pitch_y, 4))
            for r in range(g.rows)
            for c in range(g.cols)
        ]

    @property
    def marker_cell_mm(self) -> float:
        """Return the side of one marker cell, which is also the marker's quiet zone."""
        return self.marker_side_mm / self.marker_cells

    @property
    def marker_inset(self) -> float:
        """Return the gap from the sticky's top and right edges to the marker."""
        return max(self.margin_mm, self.marker_cell_mm)

    @property
    def marker_origin(self) -> tuple[float, float]:
        """Return the marker's top-left corner within the sticky."""
        return (self.sticky_w_mm - self.marker_inset - self.marker_side_mm, self.marker_inset)

    @property
    def marker_center(self) -> tuple[float, float]:
        """Return the marker's centre within the sticky."""
        x, y = self.marker_origin
        return (x + self.marker_side_mm / 2, y + self.marker_side_mm / 2)

    @property
    def marker_offset(self) -> tuple[float, float]:
        """Return the vector from the marker's centre to the sticky's centre, in marker sides.

        In the marker's own frame: x along its top edge, y down its left edge (docs/contracts.md).
        """
        cx, cy = self.marker_center
        s = self.marker_side_mm
        return (
            round((self.sticky_w_mm / 2 - cx) / s, 4),
            round((self.sticky_h_mm / 2 - cy) / s, 4),
        )

    @property
    def marker_outline(self) -> tuple[tuple[float, float], ...]:
        """Return the sticky's corners (tl, tr, br, bl) in marker sides, in the marker's frame.

        The origin is the marker's centre, x along its top edge, y down its left edge, the unit
        its side (docs/contracts.md): with the marker's corners in a photo this gives the
        sticky's outline there.
        """
        cx, cy = self.marker_center
        s = self.marker_side_mm
        x0, y0 = round(-cx / s, 4), round(-cy / s, 4)
        x1, y1 = round((self.sticky_w_mm - cx) / s, 4), round((self.sticky_h_mm - cy) / s, 4)
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))

    @property
    def marker_qr_outline(self) -> tuple[tuple[float, float], ...]:
        """Return the QR symbol's corners (tl, tr, br, bl) in marker sides, in the marker's frame."""
        cx, cy = self.marker_center
        s = self.marker_side_mm
        qx, qy = self.qr_origin
        x0, y0 = round((qx - cx) / s, 4), round((qy - cy) / s, 4)
        x1, y1 = (
            round((qx + self.qr_side_mm - cx) / s, 4),
            round((qy + self.qr_side_mm - cy) / s, 4),
        )
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))

    @property
    def qr_origin(self) -> tuple[float, float]:
        """Return the QR symbol's top-left corner within the sticky (its quiet zone lies outside)."""
        inset = max(self.margin_mm, self.qr_quiet_mm)
        return (
            self.sticky_w_mm - inset - self.qr_side_mm,
            self.sticky_h_mm - inset - self.qr_side_mm,
        )

    @property
    def qr_quiet_mm(self) -> float:
        """Return the widest quiet zone the QR can need: 4 modules of a version-1 symbol."""
        return 4 * self.qr_side_mm / 21

    @property
    def key_box(self) -> tuple[float, float, float, float]:
        """Return (x, y, w, h) of the key printed left of the QR, clear of its quiet zone."""
        qx, qy = self.qr_origin
        w = 0.6 * self.qr_side_mm
        right = qx - self.qr_quiet_mm - 1.0
        return (
            round(right - w, 4),
            round(qy + self.qr_side_mm - KEY_BOX_H_MM, 4),
            round(w, 4),
            KEY_BOX_H_MM,
        )

    @property
    def key_areas(self) -> tuple[tuple[float, float, float, float], ...]:
        """Return (left, top, right, bottom) of the QR code with its quiet zone, and of the key.

        Both tell how to claim the sticky: a picture of the sticky leaves them out. Each reaches
        the sticky's right and bottom edges.
        """
        qx, qy = self.qr_origin
        kx, ky, _, _ = self.key_box
        w, h = self.sticky_w_mm, self.sticky_h_mm
        quiet = self.qr_quiet_mm
        return ((round(qx - quiet, 4), round(qy - quiet, 4), w, h), (kx, ky, w, h))


def _centred(paper: str, w: float, h: float, cols: int, rows: int, gx: float, gy: float):
    pw, ph = PAPERS[paper]
    left = (pw - cols * w - (cols - 1) * gx) / 2
    top = (ph - rows * h - (rows - 1) * gy) / 2
    return SheetGrid(paper, cols, rows, round(left, 4), round(top, 4), w + gx, h + gy)


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            name="note-76",
            description="76 x 76 mm sticky notes stuck onto a printed carrier sheet, 6 per page",
            sticky_w_mm=76.0,
            sticky_h_mm=76.0,
            papers=("a4", "letter"),
            stock="Post-it 654 (76 x 76 mm)",
            marker_side_mm=25.0,
            qr_side_mm=22.0,
            margin_mm=4.0,
            band_h_mm=10.0,
            sheets=(
                _centred("a4", 76, 76, 2, 3, 10, 10),
                _centred("letter", 76, 76, 2, 3, 10, 10),
            ),
            guide="outline",
        ),
        Template(
            name="note-102x76",
            description="102 x 76 mm sticky notes stuck onto a printed carrier sheet, 6 per page",
            sticky_w_mm=102.0,
            sticky_h_mm=76.0,
            papers=("a4", "letter"),
            stock="Post-it 657 (102 x 76 mm)",
            marker_side_mm=28.0,
            qr_side_mm=24.0,
            margin_mm=4.0,
            band_h_mm=10.0,
            sheets=(
                _centred("a4", 102, 76, 2, 3, 2, 10),
                _centred("letter", 102, 76, 2, 3, 2, 10),
            ),
            guide="outline",
        ),
        Template(
            name="label-a4",
            description="A4 sheet of 8 labels, 99.1 x 67.7 mm, 2 across and 4 down",
            sticky_w_mm=99.1,
            sticky_h_mm=67.7,
            papers=("a4",),
            stock="Avery L7165 (99.1 x 67.7 mm, 8 per sheet)",
            marker_side_mm=26.0,
            qr_side_mm=22.0,
            margin_mm=3.5,
            band_h_mm=9.0,
            # Avery's published layout: top margin 13.1 mm, side margin 4.65 mm, 2.5 mm column gap.
            sheets=(SheetGrid("a4", 2, 4, 4.65, 13.1, 101.6, 67.7),),
            guide="none",
        ),
        Template(
            name="label-letter",
            description="Letter sheet of 6 labels, 4 x 3 1/3 in (101.6 x 84.7 mm), 2 across, 3 down",
            sticky_w_mm=4 * INCH,
            sticky_h_mm=10 / 3 * INCH,
            papers=("letter",),
            stock="Avery 5164 / 8164 (4 x 3 1/3 in, 6 per sheet)",
            marker_side_mm=28.0,
            qr_side_mm=24.0,
            margin_mm=3.5,
            band_h_mm=10.0,
            # Avery's published layout: top margin 1/2 in, side margin 5/32 in, 3/16 in column gap.
            sheets=(
                SheetGrid(
                    "letter",
                    2,
                    3,
                    5 / 32 * INCH,
                    0.5 * INCH,
                    4.1875 * INCH,
                    10 / 3 * INCH,
                ),
            ),
            guide="none",
        ),
        Template(
            name="card-a6",
            description="A6 cards (105 x 148 mm), 4 per A4 sheet with cut lines",
            sticky_w_mm=105.0,
            sticky_h_mm=148.0,
            papers=("a4",),
            stock="A4 card stock (160-250 g/m2), cut into 4 A6 cards",
            marker_side_mm=30.0,
            qr_side_mm=28.0,
            margin_mm=5.0,
            band_h_mm=12.0,
            sheets=(SheetGrid("a4", 2, 2, 0.0, 0.5, 105.0, 148.0),),
            guide="cut",
        ),
    )
}


def get_template(name: str) -> Template:
    """Return the template called `name`, or raise PrintError listing the known ones."""
    try:
        return TEMPLATES[name]
    except (KeyError, TypeError):
        raise PrintError(
            f"unknown template {name!r}; choose one of: {', '.join(TEMPLATES)}"
        ) from None
