"""Draw codes and fit text into boxes; every size in mm, origin at the top-left, y down."""

from __future__ import annotations

from . import codes, fonts
from .drawing import BLACK, Color, Drawing, Fill
from .errors import PrintError

# A QR module smaller than this no longer decodes reliably from a phone at arm's length.
MIN_QR_MODULE_MM = 0.5


def draw_marker(d: Drawing, *, x: float, y: float, side: float, marker_id: int, dictionary: str):
    """Draw marker `marker_id` with its top-left at (x, y), `side` mm including its black border."""
    grid = codes.marker_grid(marker_id, dictionary)
    cell = side / len(grid)
    d.ops.append(
        Fill(
            tuple(
                (x + c * cell, y + r * cell, n * cell, cell) for r, c, n in codes.grid_runs(grid)
            ),
            BLACK,
        )
    )


def qr_module_mm(text: str, side: float, *, what: str = "QR text") -> float:
    """Return the module size of the QR for `text` drawn `side` mm wide, or raise if too small."""
    n = len(codes.qr_grid(text))
    module = side / n
    if module < MIN_QR_MODULE_MM:
        raise PrintError(
            f"{what} is too long for a {side:g} mm QR code: {len(text)} characters need "
            f"{n} modules of {module:.2f} mm, below the {MIN_QR_MODULE_MM} mm a phone can read"
        )
    return module


def draw_qr(d: Drawing, *, x: float, y: float, side: float, text: str, what: str = "QR text"):
    """Draw the QR symbol for `text`, top-left at (x, y), `side` mm without its quiet zone."""
    qr_module_mm(text, side, what=what)
    grid = codes.qr_grid(text)
    m = side / len(grid)
    d.ops.append(Fill(tuple((x + c * m, y + r * m, n * m, m) for r, c, n in codes.grid_runs(grid))))


def wrap(text: str, style: str, size_pt: float, width: float) -> list[str]:
    """Break `text` into lines no wider than `width` mm: at spaces, else between characters."""
    lines: list[str] = []
    for para in text.split("\n"):
        words = para.split()
        if not words:
            continue
        line = ""
        for word in words:
            trial = f"{line} {word}" if line else word
            if _width(trial, style, size_pt) <= width:
                line = trial
                continue
            if line:
                lines.append(line)
            # A word wider than the box (or a run of CJK without spaces) breaks anywhere.
            line = ""
            for ch in word:
                if line and _width(line + ch, style, size_pt) > width:
                    lines.append(line)
                    line = ch
                else:
                    line += ch
        if line:
            lines.append(line)
    return lines


def _width(text: str, style: str, size_pt: float) -> float:
    return fonts.width_mm(style, text, size_pt)


def fit_text(
    text: str,
    *,
    style: str,
    max_pt: float,
    min_pt: float,
    width: float,
    height: float | None = None,
    max_lines: int = 1,
    leading: float = 1.15,
    what: str = "text",
) -> tuple[float, list[str]]:
    """Return the largest size (a step of 0.5 pt) and the lines that fit `text` in the box.

    Sizes go down from `max_pt` to `min_pt`; at each size the text may wrap onto `max_lines`.
    `height` in mm, when given, bounds the lines' total height (size x leading per line).
    Raise PrintError when even `min_pt` does not fit.
    """
    text = " ".join(text.split())
    if not text:
        return max_pt, []
    size = max_pt
    while size >= min_pt - 1e-9:
        lines = wrap(text, style, size, width)
        tall = len(lines) * size * leading * fonts.PT_MM
        if len(lines) <= max_lines and (height is None or tall <= height + 1e-9):
            return size, lines
        size -= 0.5
    raise PrintError(
        f"{what} {text!r} does not fit: {width:.0f} mm wide, at least {min_pt:g} pt, "
        f"at most {max_lines} line{'s' if max_lines > 1 else ''}"
    )


def draw_lines(
    d: Drawing,
    lines: list[str],
    *,
    x: float,
    y: float,
    style: str,
    size_pt: float,
    color: Color = BLACK,
    align: str = "left",
    leading: float = 1.15,
) -> float:
    """Draw `lines` with the first baseline at y; return the last baseline."""
    step = size_pt * leading * fonts.PT_MM
    for i, line in enumerate(lines):
        d.text(x, y + i * step, line, style=style, size_pt=size_pt, color=color, align=align)
    return y + (len(lines) - 1) * step


def cap_height_mm(size_pt: float) -> float:
    """Return the height of a capital letter at `size_pt` (DejaVu and Vera: 0.73 em)."""
    return 0.73 * size_pt * fonts.PT_MM
