"""Turn specs into vector PDF pages and edge-to-edge PNG images.

PDF pages are exactly A4 (595.2756 x 841.8898 pt) or Letter (612 x 792 pt); everything inside is
laid out in mm from the page's top-left corner.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from . import codes
from .drawing import MM_PT, Drawing, paint_image, paint_pdf
from .errors import PrintError
from .kit import CORNER_H, CORNER_W, HEADER_H, HEADER_W, card_drawing, poster_drawing
from .specs import CORNER_KEYS, DEFAULT_MARKER_DICTIONARY, CardSpec, KitSpec, StickySpec
from .sticky import check_sticky, sticky_drawing
from .templates import PAPERS, Template, get_template

Progress = Callable[[int, int], None] | None
GUIDE_GREY = (170, 170, 170)
CUT_GREY = (150, 150, 150)
MAX_DPI = 1200


def _paper(paper: str) -> tuple[float, float]:
    try:
        return PAPERS[paper]
    except (KeyError, TypeError):
        raise PrintError(f"unknown paper {paper!r}; choose one of: {', '.join(PAPERS)}") from None


def _check_dpi(dpi: float) -> None:
    if not isinstance(dpi, int | float) or not 0 < dpi <= MAX_DPI:
        raise PrintError(f"dpi must be a number above 0 and at most {MAX_DPI}, not {dpi!r}")


def _check_stickies(stickies: Iterable[StickySpec], dictionary: str) -> list[StickySpec]:
    items = list(stickies)
    if not items:
        raise PrintError("no stickies to print: the list is empty")
    codes.marker_dictionary(dictionary)
    seen_codes: set[str] = set()
    seen_ids: set[int] = set()
    for s in items:
        if not isinstance(s, StickySpec):
            raise PrintError(f"expected a StickySpec, got {type(s).__name__}")
        check_sticky(s)
        if s.code in seen_codes:
            raise PrintError(f"sticky code {s.code!r} appears twice")
        if s.marker_id in seen_ids:
            raise PrintError(f"marker id {s.marker_id} appears on two stickies")
        seen_codes.add(s.code)
        seen_ids.add(s.marker_id)
    return items


def _check_kit(kit: KitSpec, dictionary: str) -> list[tuple[str, CardSpec]]:
    """Return the kit's cards with their PNG names, in print order, after checking them."""
    codes.marker_dictionary(dictionary)
    if not isinstance(kit, KitSpec):
        raise PrintError(f"expected a KitSpec, got {type(kit).__name__}")
    if not kit.board_url:
        raise PrintError("the kit has an empty board_url")
    keys = [c.key for c in kit.corners]
    if sorted(keys) != sorted(CORNER_KEYS) or any(c.role != "corner" for c in kit.corners):
        raise PrintError(f"the kit needs four corner cards tl, tr, br, bl; got {keys}")
    if not kit.rooms:
        raise PrintError("the kit has no room cards")
    if not kit.slots:
        raise PrintError("the kit has no slot cards")
    named: list[tuple[str, CardSpec]] = []
    by_key = {c.key: c for c in kit.corners}
    named += [(f"corner-{k}", by_key[k]) for k in CORNER_KEYS]
    for role, cards in (("room", kit.rooms), ("slot", kit.slots)):
        for i, c in enumerate(cards, start=1):
            if c.role != role:
                raise PrintError(f"{role} card {i} ({c.key!r}) has role {c.role!r}")
            named.append((f"{role}-{i}", c))
    ids = [c.marker_id for _, c in named]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise PrintError(f"marker ids used by more than one card: {dupes}")
    return named


def _new_canvas(buf: io.BytesIO, paper: str, title: str) -> Canvas:
    pw, ph = _paper(paper)
    # invariant: no timestamps or random ids, so one input gives byte-identical files.
    c = Canvas(buf, pagesize=(pw * MM_PT, ph * MM_PT), invariant=1)
    c.setTitle(title)
    c.setCreator("openspaces printables")
    return c


def _outline_guide(page: Drawing, t: Template, x: float, y: float) -> None:
    """Mark where a note goes on the carrier: a faint outline and ticks above and below corners."""
    w, h = t.sticky_w_mm, t.sticky_h_mm
    page.outline(x, y, w, h, color=GUIDE_GREY, width=0.2, dash=(2.0, 1.5))
    for cx in (x, x + w):
        page.line(cx, y - 1.5, cx, y - 5.5, color=GUIDE_GREY, width=0.25)
        page.line(cx, y + h + 1.5, cx, y + h + 5.5, color=GUIDE_GREY, width=0.25)


def _cut_lines(page: Drawing, xs: Sequence[float], ys: Sequence[float]) -> None:
    for x in xs:
        page.line(x, 0, x, page.h, color=CUT_GREY, width=0.2, dash=(3.0, 2.0))
    for y in ys:
        page.line(0, y, page.w, y, color=CUT_GREY, width=0.2, dash=(3.0, 2.0))


def _sticky_pages(items, t: Template, paper: str, dictionary: str, progress: Progress):
    pw, ph = _paper(paper)
    slots = t.positions(paper)
    g = t.sheet(paper)
    total = len(items)
    done = 0
    for start in range(0, total, len(slots)):
        page = Drawing(pw, ph)
        chunk = items[start : start + len(slots)]
        if t.guide == "outline":
            page.text(
                pw / 2,
                max(g.top - 9, 6),
                f"Stick a {t.stock} note on each outline, then print this page again.",
                style="sans",
                size_pt=8,
                color=(120, 120, 120),
                align="center",
            )
        elif t.guide == "cut":
            xs = sorted({x for x, _ in slots} | {x + t.sticky_w_mm for x, _ in slots})
            ys = sorted({y for _, y in slots} | {y + t.sticky_h_mm for _, y in slots})
            _cut_lines(page, [x for x in xs if 0 < x < pw], [y for y in ys if 0 < y < ph])
        for spec, (x, y) in zip(chunk, slots, strict=False):
            if t.guide == "outline":
                _outline_guide(page, t, x, y)
            page.place(sticky_drawing(spec, t, dictionary=dictionary), x, y)
            done += 1
            if progress:
                progress(done, total)
        yield page


def stickies_pdf(
    stickies: Iterable[StickySpec],
    *,
    template: str = "note-76",
    paper: str = "a4",
    marker_dictionary: str = DEFAULT_MARKER_DICTIONARY,
    progress: Progress = None,
) -> bytes:
    """Return a vector PDF of `stickies` laid out on `template` sheets of `paper`.

    Stickies fill each page row by row in the order given, at `Template.positions(paper)`.
    """
    t = get_template(template)
    t.sheet(paper)
    items = _check_stickies(stickies, marker_dictionary)
    buf = io.BytesIO()
    canvas = _new_canvas(buf, paper, f"Stickies ({t.name})")
    for page in _sticky_pages(items, t, paper, marker_dictionary, progress):
        paint_pdf(canvas, page, page_h_mm=page.h)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def kit_layout(paper: str) -> dict[str, list[tuple[float, float]]]:
    """Return the top-left of each card slot on a kit page, in mm: "corner" (2) and "header" (6)."""
    pw, ph = _paper(paper)
    cl, ct = (pw - CORNER_W) / 2, (ph - 2 * CORNER_H) / 2
    hl, ht = (pw - 2 * HEADER_W) / 2, (ph - 3 * HEADER_H) / 2
    return {
        "corner": [(round(cl, 4), round(ct + r * CORNER_H, 4)) for r in range(2)],
        "header": [
            (round(hl + c * HEADER_W, 4), round(ht + r * HEADER_H, 4))
            for r in range(3)
            for c in range(2)
        ],
    }


def _kit_pages(kit: KitSpec, paper: str, dictionary: str, progress: Progress):
    named = _check_kit(kit, dictionary)
    page_size = _paper(paper)
    layout = kit_layout(paper)
    total = len(named) + 1
    done = 0
    poster = poster_drawing(kit, page=page_size)
    done += 1
    if progress:
        progress(done, total)
    yield poster

    groups = [
        ("corner", [c for n, c in named if n.startswith("corner-")]),
        ("header", [c for n, c in named if n.startswith("room-")]),
        ("header", [c for n, c in named if n.startswith("slot-")]),
    ]
    for kind, cards in groups:
        slots = layout[kind]
        for start in range(0, len(cards), len(slots)):
            page = Drawing(*page_size)
            for card, (x, y) in zip(cards[start : start + len(slots)], slots, strict=False):
                drawing = card_drawing(card, dictionary=dictionary)
                page.outline(x, y, drawing.w, drawing.h, color=CUT_GREY, width=0.2, dash=(3, 2))
                page.place(drawing, x, y)
                done += 1
                if progress:
                    progress(done, total)
            yield page


def kit_pdf(
    kit: KitSpec,
    *,
    paper: str = "a4",
    marker_dictionary: str = DEFAULT_MARKER_DICTIONARY,
    progress: Progress = None,
) -> bytes:
    """Return a vector PDF of the board kit: the poster, then corners, room and slot cards.

    Corner cards go two to a page, header cards six to a page, each with a dashed cut line.
    """
    _paper(paper)
    pages = list(_kit_pages(kit, paper, marker_dictionary, progress))
    buf = io.BytesIO()
    canvas = _new_canvas(buf, paper, f"Board kit: {kit.event_name}")
    for page in pages:
        paint_pdf(canvas, page, page_h_mm=page.h)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def sticky_image(
    sticky: StickySpec,
    *,
    template: str = "note-76",
    dpi: float = 300,
    marker_dictionary: str = DEFAULT_MARKER_DICTIONARY,
) -> Image.Image:
    """Return one sticky as an RGB image, edge to edge, with `dpi` in `info["dpi"]`.

    Pixel (0, 0) is the sticky's top-left corner; one mm is dpi / 25.4 pixels.
    """
    _check_dpi(dpi)
    t = get_template(template)
    _check_stickies([sticky], marker_dictionary)
    return paint_image(sticky_drawing(sticky, t, dictionary=marker_dictionary), dpi=dpi)


def card_image(
    card: CardSpec,
    *,
    dpi: float = 300,
    marker_dictionary: str = DEFAULT_MARKER_DICTIONARY,
) -> Image.Image:
    """Return one kit card as an RGB image, edge to edge, with `dpi` in `info["dpi"]`.

    Pixel (0, 0) is the card's top-left corner; one mm is dpi / 25.4 pixels.
    """
    _check_dpi(dpi)
    codes.marker_dictionary(marker_dictionary)
    return paint_image(card_drawing(card, dictionary=marker_dictionary), dpi=dpi)


def poster_image(kit: KitSpec, *, paper: str = "a4", dpi: float = 300) -> Image.Image:
    """Return the kit's poster page as an RGB image with `dpi` in `info["dpi"]`."""
    _check_dpi(dpi)
    return paint_image(poster_drawing(kit, page=_paper(paper)), dpi=dpi)


def _out_dir(out_dir: str | os.PathLike) -> Path:
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PrintError(f"cannot create output folder {str(path)!r}: {exc.strerror}") from None
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise PrintError(f"output folder {str(path)!r} is not writable")
    return path


def _save(img: Image.Image, path: Path, dpi: float) -> Path:
    try:
        img.save(path, format="PNG", dpi=(dpi, dpi))
    except OSError as exc:
        raise PrintError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def write_sticky_pngs(
    stickies: Iterable[StickySpec],
    out_dir: str | os.PathLike,
    *,
    template: str = "note-76",
    dpi: float = 300,
    marker_dictionary: str = DEFAULT_MARKER_DICTIONARY,
    progress: Progress = None,
) -> list[Path]:
    """Write one edge-to-edge `CODE.png` per sticky into `out_dir`; return the paths in order."""
    _check_dpi(dpi)
    t = get_template(template)
    items = _check_stickies(stickies, marker_dictionary)
    folder = _out_dir(out_dir)
    paths = []
    for i, s in enumerate(items, start=1):
        img = paint_image(sticky_drawing(s, t, dictionary=marker_dictionary), dpi=dpi)
        paths.append(_save(img, folder / f"{s.code}.png", dpi))
        if progress:
            progress(i, len(items))
    return paths


def write_kit_pngs(
    kit: KitSpec,
    out_dir: str | os.PathLike,
    *,
    dpi: float = 300,
    marker_dictionary: str = DEFAULT_MARKER_DICTIONARY,
    progress: Progress = None,
) -> list[Path]:
    """Write the kit's cards as PNGs into `out_dir`; return the paths in order.

    Names: corner-tl/tr/br/bl.png, room-N.png and slot-N.png (N from 1 in event order), and
    poster.png (an A4 page).
    """
    _check_dpi(dpi)
    named = _check_kit(kit, marker_dictionary)
    poster = poster_drawing(kit, page=PAPERS["a4"])
    folder = _out_dir(out_dir)
    total = len(named) + 1
    paths = []
    for i, (name, card) in enumerate(named, start=1):
        img = paint_image(card_drawing(card, dictionary=marker_dictionary), dpi=dpi)
        paths.append(_save(img, folder / f"{name}.png", dpi))
        if progress:
            progress(i, total)
    paths.append(_save(paint_image(poster, dpi=dpi), folder / "poster.png", dpi))
    if progress:
        progress(total, total)
    return paths
