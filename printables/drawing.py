"""Describe a page or a sticky as a few drawing operations, then paint them to PDF or to pixels.

Coordinates are millimetres, origin at the top-left of the drawing, x right, y down. Text sits on
its baseline at y. One description feeds both outputs, so the PDF and the PNG agree to the pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfgen.canvas import Canvas

from . import fonts

MM_PT = 72 / 25.4

Color = tuple[int, int, int]
BLACK: Color = (0, 0, 0)
WHITE: Color = (255, 255, 255)


@dataclass(frozen=True)
class Fill:
    """Fill rectangles (x, y, w, h) in one colour as one path, so no seams show between them."""

    rects: tuple[tuple[float, float, float, float], ...]
    color: Color = BLACK


@dataclass(frozen=True)
class Line:
    """Stroke a straight line of `width` mm."""

    x1: float
    y1: float
    x2: float
    y2: float
    color: Color = BLACK
    width: float = 0.2


@dataclass(frozen=True)
class Text:
    """Draw one line of text with its baseline at y; `align` is "left", "center" or "right" of x."""

    x: float
    y: float
    text: str
    style: str
    size_pt: float
    color: Color = BLACK
    align: str = "left"


Op = Fill | Line | Text


@dataclass
class Drawing:
    """Collect the operations of one drawing of `w` x `h` mm."""

    w: float
    h: float
    ops: list[Op] = field(default_factory=list)

    def rect(self, x: float, y: float, w: float, h: float, color: Color = BLACK) -> None:
        """Fill one rectangle."""
        self.ops.append(Fill(((x, y, w, h),), color))

    def line(self, x1, y1, x2, y2, *, color: Color = BLACK, width: float = 0.2, dash=None) -> None:
        """Stroke a line; `dash` = (on, off) in mm splits it into dashes."""
        if dash is None:
            self.ops.append(Line(x1, y1, x2, y2, color, width))
            return
        on, off = dash
        length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        t = 0.0
        while t < length:
            e = min(t + on, length)
            self.ops.append(Line(x1 + ux * t, y1 + uy * t, x1 + ux * e, y1 + uy * e, color, width))
            t += on + off

    def outline(self, x, y, w, h, *, color: Color = BLACK, width: float = 0.2, dash=None) -> None:
        """Stroke the four sides of a rectangle."""
        self.line(x, y, x + w, y, color=color, width=width, dash=dash)
        self.line(x + w, y, x + w, y + h, color=color, width=width, dash=dash)
        self.line(x + w, y + h, x, y + h, color=color, width=width, dash=dash)
        self.line(x, y + h, x, y, color=color, width=width, dash=dash)

    def text(self, x, y, text, *, style="sans", size_pt=10.0, color=BLACK, align="left") -> None:
        """Draw one line of text, baseline at y."""
        self.ops.append(Text(x, y, text, style, size_pt, color, align))

    def place(self, other: Drawing, dx: float, dy: float) -> None:
        """Copy the operations of `other` with its origin at (dx, dy)."""
        for op in other.ops:
            self.ops.append(_moved(op, dx, dy))


def _moved(op: Op, dx: float, dy: float) -> Op:
    if isinstance(op, Fill):
        return Fill(tuple((x + dx, y + dy, w, h) for x, y, w, h in op.rects), op.color)
    if isinstance(op, Line):
        return Line(op.x1 + dx, op.y1 + dy, op.x2 + dx, op.y2 + dy, op.color, op.width)
    return Text(op.x + dx, op.y + dy, op.text, op.style, op.size_pt, op.color, op.align)


def paint_pdf(canvas: Canvas, drawing: Drawing, *, page_h_mm: float) -> None:
    """Paint `drawing` onto the current page of `canvas`, its origin at the page's top-left."""

    def px(x: float) -> float:
        return x * MM_PT

    def py(y: float) -> float:
        return (page_h_mm - y) * MM_PT

    for op in drawing.ops:
        if isinstance(op, Fill):
            canvas.setFillColorRGB(*(c / 255 for c in op.color))
            path = canvas.beginPath()
            for x, y, w, h in op.rects:
                path.rect(px(x), py(y + h), w * MM_PT, h * MM_PT)
            canvas.drawPath(path, stroke=0, fill=1)
        elif isinstance(op, Line):
            canvas.setStrokeColorRGB(*(c / 255 for c in op.color))
            canvas.setLineWidth(op.width * MM_PT)
            canvas.line(px(op.x1), py(op.y1), px(op.x2), py(op.y2))
        else:
            canvas.setFillColorRGB(*(c / 255 for c in op.color))
            x = _text_start(op)
            for font, text in fonts.runs(op.style, op.text):
                canvas.setFont(font.name, op.size_pt)
                canvas.drawString(px(x), py(op.y), text)
                x += fonts.text_width_mm(text, font, op.size_pt)


def _text_start(op: Text) -> float:
    """Return the x where the text's first run starts, from its alignment."""
    if op.align == "left":
        return op.x
    width = fonts.width_mm(op.style, op.text, op.size_pt)
    return op.x - (width / 2 if op.align == "center" else width)


@lru_cache(maxsize=64)
def _pil_font(path: str, size_px: float) -> ImageFont.FreeTypeFont:
    # BASIC layout: no kerning or shaping, the same advances that reportlab measures.
    return ImageFont.truetype(path, size=size_px, layout_engine=ImageFont.Layout.BASIC)


def paint_image(drawing: Drawing, *, dpi: float) -> Image.Image:
    """Paint `drawing` to an RGB image at `dpi`, edge to edge, with the dpi in `info`.

    Rectangle edges snap to the nearest pixel boundary, so neighbouring modules of a code abut
    without gaps and every module keeps its size within one pixel.
    """
    s = dpi / 25.4
    img = Image.new("RGB", (round(drawing.w * s), round(drawing.h * s)), WHITE)
    draw = ImageDraw.Draw(img)
    for op in drawing.ops:
        if isinstance(op, Fill):
            for x, y, w, h in op.rects:
                x0, y0 = round(x * s), round(y * s)
                x1, y1 = round((x + w) * s) - 1, round((y + h) * s) - 1
                if x1 >= x0 and y1 >= y0:
                    draw.rectangle((x0, y0, x1, y1), fill=op.color)
        elif isinstance(op, Line):
            width = max(1, round(op.width * s))
            draw.line((op.x1 * s, op.y1 * s, op.x2 * s, op.y2 * s), fill=op.color, width=width)
        else:
            x = _text_start(op)
            for font, text in fonts.runs(op.style, op.text):
                pil_font = _pil_font(font.path, op.size_pt * dpi / 72)
                draw.text((x * s, op.y * s), text, font=pil_font, fill=op.color, anchor="ls")
                x += fonts.text_width_mm(text, font, op.size_pt)
    img.info["dpi"] = (dpi, dpi)
    return img
