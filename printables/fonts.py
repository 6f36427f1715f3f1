"""Find TrueType fonts that cover the text, and measure text with them.

Both renderers, reportlab for PDF and Pillow for PNG, draw with the same TTF files, so a width
measured here holds on either output. Font sizes are in points (1 pt = 25.4/72 mm).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from functools import lru_cache

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

PT_MM = 25.4 / 72

_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    os.path.expanduser("~/.fonts"),
    os.path.expanduser("~/.local/share/fonts"),
)
_RL_FONTS = os.path.join(os.path.dirname(reportlab.__file__), "fonts")

# First file found wins. DejaVu covers Latin, Greek and Cyrillic; reportlab ships Bitstream Vera,
# DejaVu's ancestor, so a machine without system fonts still prints Latin-1 text.
_STYLES = {
    "sans": ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", _RL_FONTS + "/Vera.ttf"),
    "bold": ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", _RL_FONTS + "/VeraBd.ttf"),
    "mono": (
        "DejaVuSansMono-Bold.ttf",
        "LiberationMono-Bold.ttf",
        "NotoSansMono-Bold.ttf",
        _RL_FONTS + "/VeraBd.ttf",
    ),
}
# Wide-coverage fonts for text the style's font lacks glyphs for (CJK room names and the like).
_FALLBACKS = (
    "DroidSansFallbackFull.ttf",
    "DroidSansFallback.ttf",
    "NotoSansCJK-Regular.ttc",
    "wqy-microhei.ttc",
    "unifont.ttf",
)


@dataclass(frozen=True)
class Font:
    """Name a registered TTF: its reportlab name and its file."""

    name: str
    path: str


@lru_cache(maxsize=64)
def _find(filename: str) -> str | None:
    if os.path.isabs(filename):
        return filename if os.path.exists(filename) else None
    for d in _FONT_DIRS:
        hits = sorted(glob.glob(os.path.join(d, "**", filename), recursive=True))
        if hits:
            return hits[0]
    return None


@lru_cache(maxsize=64)
def _register(path: str) -> Font | None:
    name = "OS-" + os.path.splitext(os.path.basename(path))[0]
    try:
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, path))
    except Exception:  # a broken or unsupported font file: try the next one
        return None
    return Font(name=name, path=path)


@lru_cache(maxsize=64)
def _coverage(name: str) -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(name).face.charToGlyph)


def _first(candidates: tuple[str, ...]) -> Font | None:
    for filename in candidates:
        path = _find(filename)
        if path and (font := _register(path)):
            return font
    return None


@lru_cache(maxsize=8)
def style_font(style: str) -> Font:
    """Return the font for `style` ("sans", "bold" or "mono"); Vera from reportlab at the least."""
    font = _first(_STYLES[style])
    if font is None:  # reportlab without its fonts folder: nothing left to try
        raise RuntimeError(f"no TrueType font found for {style!r}")
    return font


@lru_cache(maxsize=1)
def fallback_font() -> Font | None:
    """Return a wide-coverage font for scripts the style fonts lack, or None when none is installed."""
    return _first(_FALLBACKS)


@lru_cache(maxsize=4096)
def runs(style: str, text: str) -> tuple[tuple[Font, str], ...]:
    """Split `text` into runs that one font each can draw, in order.

    A character takes the style's font when it has the glyph, else the wide-coverage fallback
    when that has it; with neither, it becomes "?" so the output stays readable and never breaks.
    Spaces join the run they follow.
    """
    primary = style_font(style)
    fb = fallback_font()
    p_cov = _coverage(primary.name)
    f_cov = _coverage(fb.name) if fb else frozenset()
    out: list[list] = []
    for ch in text:
        if ch.isspace() and out:
            out[-1][1] += ch
            continue
        if ch.isspace() or ord(ch) in p_cov:
            font = primary
        elif ord(ch) in f_cov:
            font = fb
        else:
            font, ch = primary, "?"
        if out and out[-1][0] == font:
            out[-1][1] += ch
        else:
            out.append([font, ch])
    return tuple((f, t) for f, t in out)


def width_mm(style: str, text: str, size_pt: float) -> float:
    """Return the advance width of `text` in mm at `size_pt`, fallback runs included."""
    return sum(text_width_mm(t, f, size_pt) for f, t in runs(style, text))


def text_width_mm(text: str, font: Font, size_pt: float) -> float:
    """Return the advance width of `text` in mm at `size_pt`."""
    return pdfmetrics.stringWidth(text, font.name, size_pt) * PT_MM
