"""Lay out one sticky: heading band, code, label, marker, QR and the writing area.

Coordinates are mm from the sticky's top-left corner, x right, y down.
"""

from __future__ import annotations

from . import codes
from .drawing import WHITE, Drawing
from .errors import PrintError
from .layout import cap_height_mm, draw_lines, draw_marker, draw_qr, fit_text, qr_module_mm
from .specs import STICKY_KINDS, StickySpec
from .templates import Template

# Blue and orange stay apart for every common colour-vision deficiency; the word says it as well.
BAND_COLORS = {"session": (30, 90, 168), "person": (196, 78, 12)}
PROMPT_GREY = (150, 150, 150)
RULE_GREY = (200, 200, 200)
LABEL_GREY = (90, 90, 90)
# Handwriting at marker-pen size wants about 9 mm between lines.
RULE_PITCH_MM = 9.0


def check_sticky(spec: StickySpec) -> None:
    """Raise PrintError when `spec` cannot be printed."""
    if spec.kind not in STICKY_KINDS:
        raise PrintError(
            f"sticky {spec.code!r} has kind {spec.kind!r}; choose one of: {', '.join(STICKY_KINDS)}"
        )
    if not spec.code or not spec.code.isalnum() or not spec.code.isascii():
        raise PrintError(f"sticky code {spec.code!r} must be letters and digits only")
    if not spec.qr_text:
        raise PrintError(f"sticky {spec.code!r} has an empty qr_text")
    if spec.key and not (spec.key.isalnum() and spec.key.isascii()):
        raise PrintError(f"key of sticky {spec.code!r} must be letters and digits only")


def sticky_drawing(spec: StickySpec, template: Template, *, dictionary: str) -> Drawing:
    """Return the drawing of one sticky, `template.sticky_w_mm` x `sticky_h_mm`, edge to edge."""
    check_sticky(spec)
    t = template
    w, h, m = t.sticky_w_mm, t.sticky_h_mm, t.margin_mm
    d = Drawing(w, h)

    cells = codes.marker_cells(dictionary)
    quiet = t.marker_side_mm / cells
    mx, my = t.marker_origin
    draw_marker(
        d, x=mx, y=my, side=t.marker_side_mm, marker_id=spec.marker_id, dictionary=dictionary
    )

    # Heading band, stopping one marker cell short of the marker.
    band_w = mx - quiet
    d.rect(0, 0, band_w, t.band_h_mm, BAND_COLORS[spec.kind])
    word = spec.kind.upper()
    size, lines = fit_text(
        word, style="bold", max_pt=t.band_h_mm * 1.6, min_pt=6, width=band_w - 2 * m, what="band"
    )
    base = (t.band_h_mm + cap_height_mm(size)) / 2
    d.text(m, base, lines[0], style="bold", size_pt=size, color=WHITE)

    # The code, large enough to type from, under the band.
    size, lines = fit_text(
        spec.code,
        style="mono",
        max_pt=2 * t.band_h_mm,
        min_pt=10,
        width=band_w - 2 * m,
        what="code",
    )
    code_base = t.band_h_mm + 2.5 + cap_height_mm(size)
    d.text(m, code_base, lines[0], style="mono", size_pt=size)
    top_block = my + t.marker_side_mm + quiet

    if spec.label:
        room = top_block - code_base - 1.5
        size, lines = fit_text(
            spec.label,
            style="sans",
            max_pt=7,
            min_pt=5,
            width=band_w - 2 * m,
            height=room,
            max_lines=3,
            what="label",
        )
        draw_lines(
            d,
            lines,
            x=m,
            y=code_base + 2 + cap_height_mm(size),
            style="sans",
            size_pt=size,
            color=LABEL_GREY,
        )

    # QR in the bottom-right corner, 4 modules of quiet zone all round.
    qx, qy = t.qr_origin
    module = qr_module_mm(spec.qr_text, t.qr_side_mm, what=f"qr_text of sticky {spec.code!r}")
    draw_qr(d, x=qx, y=qy, side=t.qr_side_mm, text=spec.qr_text)
    qr_quiet_left, qr_quiet_top = qx - 4 * module, qy - 4 * module

    # The key, left of the QR and level with its foot, for a phone that cannot scan.
    kx, ky, kw, kh = t.key_box
    if spec.key:
        size, lines = fit_text(spec.key, style="mono", max_pt=11, min_pt=6, width=kw, what="key")
        d.text(kx + kw, ky + kh, lines[0], style="mono", size_pt=size, align="right")
        caption = ky + kh - cap_height_mm(size) - 1.2
        d.text(
            kx + kw, caption, "claim key", style="sans", size_pt=5, color=LABEL_GREY, align="right"
        )

    # Writing area: faint rules, shortened where they would reach the QR's quiet zone or the key.
    prompts = ["session title"] if spec.kind == "session" else ["name", "interests"]
    y = top_block + RULE_PITCH_MM
    i = 0
    while y <= h - m + 1e-9:
        right = w - m if y < qr_quiet_top - 1 else qr_quiet_left - 1.5
        if spec.key and y >= ky - 1:
            right = kx - 1.5
        d.line(m, y, right, y, color=RULE_GREY, width=0.25)
        if i < len(prompts):
            d.text(
                m, y - RULE_PITCH_MM + 2.6, prompts[i], style="sans", size_pt=6, color=PROMPT_GREY
            )
        i += 1
        y += RULE_PITCH_MM
    return d
